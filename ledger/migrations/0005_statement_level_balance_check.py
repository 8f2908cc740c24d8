"""The entry-balance check once per INSERT statement instead of once per posting row at commit
(a statement-level trigger over the statement's new postings, see ledger.sql.integrity), and two
indexes that duplicated the prefix of another: ledger_journalentry(merchant_id) (served by
(merchant_id, id), (merchant_id, idempotency_ref), (merchant_id, business_date, entry_type)) and
ledger_posting(account_id) (served by posting_account_recent_idx (account_id, id DESC)). The SQL
is this migration's own copy, as it ran."""
import django.db.models.deletion
from django.db import migrations, models

STATEMENT_BALANCE_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_entries_must_balance() RETURNS trigger AS $$
    DECLARE bad_entry bigint; bad_total numeric;
    BEGIN
        SELECT entry_id, SUM(amount) INTO bad_entry, bad_total
        FROM ledger_new_postings
        GROUP BY entry_id
        HAVING SUM(amount) <> 0
        LIMIT 1;
        IF bad_entry IS NOT NULL THEN
            RAISE EXCEPTION 'journal entry % does not balance: postings sum to %', bad_entry, bad_total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER ledger_posting_entries_balance
        AFTER INSERT ON ledger_posting
        REFERENCING NEW TABLE AS ledger_new_postings
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_must_balance();
    """,
    "DROP TRIGGER IF EXISTS ledger_posting_entry_balances ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entry_must_balance();",
]

# The per-posting-row check of 0002, back.
STATEMENT_BALANCE_REVERSE = [
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
    "DROP TRIGGER IF EXISTS ledger_posting_entries_balance ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entries_must_balance();",
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
    dependencies = [("ledger", "0004_channel_settlement"), ("merchants", "0002_webhook_deliveries")]

    operations = [
        migrations.RunPython(run(STATEMENT_BALANCE_FORWARD), run(STATEMENT_BALANCE_REVERSE)),
        # Only the index goes: a plain AlterField would also drop and re-add (re-validate, under
        # lock, over every row) the foreign key itself.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="journalentry",
                    name="merchant",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="+", to="merchants.merchant", verbose_name="merchant"),
                ),
                migrations.AlterField(
                    model_name="posting",
                    name="account",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="postings", to="ledger.account", verbose_name="account"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS ledger_journalentry_merchant_id_43d5cd37;",
                    'CREATE INDEX IF NOT EXISTS ledger_journalentry_merchant_id_43d5cd37 '
                    'ON ledger_journalentry ("merchant_id");'),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS ledger_posting_account_id_964f801d;",
                    'CREATE INDEX IF NOT EXISTS ledger_posting_account_id_964f801d ON ledger_posting ("account_id");'),
            ],
        ),
    ]
