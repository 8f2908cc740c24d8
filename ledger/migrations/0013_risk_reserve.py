"""The risk reserve (风险保证金): a deposit's purpose (a member's money, or the platform's reserve: then no
member), the reserve's entry types, and the database's guard that lets a reserve account's balance fall
only while a compensation or release entry is being booked (ledger.sql.integrity.RESERVE_DEBIT_GUARD;
the SQL below is this migration's own copy, as it ran)."""
import django.db.models.deletion
from django.db import migrations, models


RESERVE_DEBIT_GUARD_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_reserve_debit_guard() RETURNS trigger AS $$
    DECLARE declared text; entry_kind text;
    BEGIN
        declared := current_setting('jianguan.reserve_entry', true);
        IF declared IS NOT NULL AND declared <> '' THEN
            SELECT e.entry_type INTO entry_kind FROM ledger_journalentry e
            WHERE e.id = declared::bigint AND e.merchant_id = NEW.merchant_id
              AND NOT EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = e.id);
        END IF;
        IF entry_kind IS NULL OR entry_kind NOT IN ('reserve_compensation', 'reserve_release') THEN
            RAISE EXCEPTION 'risk reserve account % may be debited only by a compensation or a release', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER ledger_account_reserve_debit_guard
        BEFORE UPDATE OF balance ON ledger_account
        FOR EACH ROW WHEN (NEW.kind = 'risk_reserve' AND NEW.balance < OLD.balance)
        EXECUTE FUNCTION ledger_reserve_debit_guard();
    """,
]
RESERVE_DEBIT_GUARD_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_account_reserve_debit_guard ON ledger_account;",
    "DROP FUNCTION IF EXISTS ledger_reserve_debit_guard();",
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

    dependencies = [
        ('ledger', '0012_outflow_review'),
        ('merchants', '0005_one_time_codes'),
    ]

    operations = [
        migrations.AddField(
            model_name='deposit',
            name='purpose',
            field=models.CharField(choices=[('member', 'For a member'), ('risk_reserve', "For the platform's risk reserve")], db_default='member', default='member', max_length=16, verbose_name='purpose'),
        ),
        migrations.AlterField(
            model_name='deposit',
            name='member',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='deposits', to='merchants.member', verbose_name='member'),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='entry_type',
            field=models.CharField(choices=[('deposit', 'Deposit'), ('suspense_in', 'Unidentified inflow to suspense'), ('suspense_match', 'Suspense matched'), ('suspense_return', 'Suspense returned to payer'), ('payment', 'Payment'), ('payment_hold', 'Guaranteed payment held in escrow'), ('payment_release', 'Guaranteed payment released'), ('refund', 'Refund'), ('withdrawal_request', 'Withdrawal requested (funds frozen)'), ('withdrawal_paid', 'Withdrawal paid'), ('withdrawal_return', 'Withdrawal returned'), ('micro_deposit', 'Micro-deposit for card verification'), ('hold', 'Amount frozen'), ('hold_release', 'Amount unfrozen'), ('reversal', 'Reversal'), ('credit_drawdown', 'Credit drawdown'), ('credit_repayment', 'Credit repayment'), ('adjustment', 'Adjustment'), ('reserve_deposit', 'Risk reserve funded'), ('reserve_compensation', 'Compensation from the risk reserve'), ('reserve_release', 'Risk reserve released')], max_length=24, verbose_name='type'),
        ),
        migrations.AddConstraint(
            model_name='deposit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('member__isnull', False), ('purpose', 'member')), models.Q(('member__isnull', True), ('purpose', 'risk_reserve')), _connector='OR'), name='deposit_member_deposits_name_a_member_reserve_deposits_none'),
        ),
        migrations.RunPython(run(RESERVE_DEBIT_GUARD_FORWARD), run(RESERVE_DEBIT_GUARD_REVERSE)),
    ]
