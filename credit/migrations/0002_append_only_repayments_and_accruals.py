"""Repayments and penalty accruals are history: PostgreSQL refuses UPDATE and DELETE. The SQL is
this migration's own copy, as it ran."""
from django.db import migrations

FORBID_CHANGE = """
        CREATE OR REPLACE FUNCTION jianguan_forbid_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql;
        """


def append_only(table):
    """UPDATE and DELETE refused on PostgreSQL; (forward, reverse) for migrations.RunPython."""
    forward = [
        FORBID_CHANGE,
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION jianguan_forbid_change();""",
    ]
    return run(forward), run([f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"])


def run(statements):
    """On PostgreSQL only, executed without parameters (a literal % in plpgsql needs no escaping)."""

    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [
        migrations.RunPython(*append_only("credit_repayment")),
        migrations.RunPython(*append_only("credit_penaltyaccrual")),
    ]
