"""The entry-balance check once per INSERT statement instead of once per posting row at commit
(ledger.sql.integrity.STATEMENT_BALANCE_FORWARD), and two indexes that duplicated the prefix of
another: ledger_journalentry(merchant_id) (served by (merchant_id, id), (merchant_id,
idempotency_ref), (merchant_id, business_date, entry_type)) and ledger_posting(account_id)
(served by posting_account_recent_idx (account_id, id DESC))."""
import django.db.models.deletion
from django.db import migrations, models

from core.sql.immutable import run_sql
from ledger.sql import integrity


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        run_sql(schema_editor, integrity.STATEMENT_BALANCE_FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        run_sql(schema_editor, integrity.STATEMENT_BALANCE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_channel_settlement"), ("merchants", "0002_webhook_deliveries")]

    operations = [
        migrations.RunPython(forward, reverse),
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
