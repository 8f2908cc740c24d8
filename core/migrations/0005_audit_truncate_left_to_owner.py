"""The audit trail as core.sql.immutable makes a table append-only today: UPDATE and DELETE
refused on PostgreSQL, TRUNCATE left to the table owner (the application's role does not own
the tables in production; test runs truncate between tests), no triggers on SQLite. 0002 also
refused TRUNCATE, and on SQLite UPDATE and DELETE. The SQL is this migration's own copy."""
from django.db import migrations

FORBID_CHANGE = """
        CREATE OR REPLACE FUNCTION jianguan_forbid_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql;
        """
FORWARD = {
    "postgresql": [FORBID_CHANGE, "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"],
    "sqlite": ["DROP TRIGGER IF EXISTS core_auditevent_no_update;",
               "DROP TRIGGER IF EXISTS core_auditevent_no_delete;"],
}
REVERSE = {
    "postgresql": [
        """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
                FOR EACH STATEMENT EXECUTE FUNCTION jianguan_forbid_change();""",
    ],
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
                BEGIN SELECT RAISE(ABORT, 'rows of core_auditevent are append-only: UPDATE refused'); END;""",
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
                BEGIN SELECT RAISE(ABORT, 'rows of core_auditevent are append-only: DELETE refused'); END;""",
    ],
}


def run(statements):
    """Executed without parameters, so a literal % (plpgsql RAISE) needs no escaping."""

    def operation(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in statements.get(schema_editor.connection.vendor, []):
                cursor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_chain_per_merchant")]

    operations = [migrations.RunPython(run(FORWARD), run(REVERSE))]
