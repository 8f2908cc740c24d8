from django.db import migrations

from core.sql.immutable import append_only


class Migration(migrations.Migration):
    """Repayments and penalty accruals are history: PostgreSQL refuses UPDATE and DELETE."""

    dependencies = [("credit", "0001_initial")]

    operations = [
        migrations.RunPython(*append_only("credit_repayment")),
        migrations.RunPython(*append_only("credit_penaltyaccrual")),
    ]
