"""SQL that makes a table append-only, for PostgreSQL and SQLite. Used by migrations."""


def forbid_update_delete_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            """
            CREATE OR REPLACE FUNCTION jianguan_forbid_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql;
            """,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION jianguan_forbid_change();""",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION jianguan_forbid_change();""",
        ]
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: UPDATE refused'); END;""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: DELETE refused'); END;""",
        ]
    return []


def drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
    return []


def append_only(table: str):
    """A (forward, reverse) pair for migrations.RunPython."""

    def forward(apps, schema_editor):
        run_sql(schema_editor, forbid_update_delete_sql(schema_editor.connection.vendor, table))

    def reverse(apps, schema_editor):
        run_sql(schema_editor, drop_sql(schema_editor.connection.vendor, table))

    return forward, reverse


def run_sql(schema_editor, statements):
    """Execute without parameters, so a literal % (plpgsql RAISE) needs no escaping."""
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
