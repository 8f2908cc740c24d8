"""Statement lines are the bank's evidence: on PostgreSQL a trigger refuses DELETE and any UPDATE
that changes an evidence column (the workflow columns stay writable). The SQL is this
migration's own copy, as it ran."""
from django.db import migrations

EVIDENCE_COLUMNS = ("merchant_id", "batch_id", "account_number", "line_no", "bank_reference", "value_date",
                    "business_date", "amount", "counterparty_name", "counterparty_account", "counterparty_bank",
                    "remark", "balance", "created_at")
_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in EVIDENCE_COLUMNS)

FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION reconciliation_statementline_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'statement lines are the bank''s evidence: DELETE refused'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF {_CHANGED} THEN
            RAISE EXCEPTION 'statement line %: only its workflow columns may change', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS reconciliation_statementline_guard ON reconciliation_statementline;",
    """CREATE TRIGGER reconciliation_statementline_guard
        BEFORE UPDATE OR DELETE ON reconciliation_statementline
        FOR EACH ROW EXECUTE FUNCTION reconciliation_statementline_guard();""",
]

REVERSE = [
    "DROP TRIGGER IF EXISTS reconciliation_statementline_guard ON reconciliation_statementline;",
    "DROP FUNCTION IF EXISTS reconciliation_statementline_guard();",
]


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
    dependencies = [("reconciliation", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(REVERSE))]
