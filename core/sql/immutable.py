"""SQL that makes a table append-only on PostgreSQL (the production database), as it stands
today. TRUNCATE is left to the table owner: the application's role should not own the tables in
production (see README, Security), and test runs truncate between tests.

Migrations carry their own copy of the SQL they ran (core 0002 and 0005, credit 0002, ledger
0002), so editing this text rewrites no migration. A new migration may call append_only while
the text stands; a change here goes with a new migration that carries the new text (and copies
of the old text into the migrations that called append_only), and tests/core/test_migrations.py
fails until a fresh migrate installs exactly what this module defines."""


def forbid_update_delete_sql(vendor: str, table: str) -> list[str]:
    if vendor != "postgresql":
        return []
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
    ]


def drop_sql(vendor: str, table: str) -> list[str]:
    if vendor != "postgresql":
        return []
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]


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
