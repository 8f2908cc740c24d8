"""Statement lines are the bank's evidence: on PostgreSQL a trigger refuses DELETE and any
UPDATE that changes an evidence column. The workflow columns (status, what the line was
matched to, reason, who resolved it) stay writable, so the exception queue needs no second
table and the admin can list a line with its outcome in one query.

The guard as it stands today. Migrations carry their own copy of the SQL they ran
(reconciliation 0002), so editing this text rewrites no migration: a change here goes with a new
migration that carries the new text, and tests/core/test_migrations.py fails until a fresh
migrate installs exactly what this module defines."""
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
