"""Ledger invariants in PostgreSQL: an entry's postings sum to zero (a deferred per-posting
constraint trigger; 0005 replaced it by a statement-level check), a posting belongs to its
entry's and its account's merchant, postings and entries are append-only. The SQL is this
migration's own copy, as it ran."""
from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger AS $$
    DECLARE total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_posting WHERE entry_id = NEW.entry_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance: postings sum to %', NEW.entry_id, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_entry_balances
        AFTER INSERT ON ledger_posting
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
    """,
    """ALTER TABLE ledger_posting ADD CONSTRAINT posting_entry_same_merchant
        FOREIGN KEY (merchant_id, entry_id) REFERENCES ledger_journalentry (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
    """ALTER TABLE ledger_posting ADD CONSTRAINT posting_account_same_merchant
        FOREIGN KEY (merchant_id, account_id) REFERENCES ledger_account (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
    """ALTER TABLE ledger_hotbalancedelta ADD CONSTRAINT hotdelta_account_same_merchant
        FOREIGN KEY (merchant_id, account_id) REFERENCES ledger_account (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
]

REVERSE = [
    "ALTER TABLE ledger_hotbalancedelta DROP CONSTRAINT IF EXISTS hotdelta_account_same_merchant;",
    "ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS posting_account_same_merchant;",
    "ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS posting_entry_same_merchant;",
    "DROP TRIGGER IF EXISTS ledger_posting_entry_balances ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entry_must_balance();",
]

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
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(run(FORWARD), run(REVERSE)),
        migrations.RunPython(*append_only("ledger_posting")),
        migrations.RunPython(*append_only("ledger_journalentry")),
    ]
