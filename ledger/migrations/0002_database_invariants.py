from django.db import migrations

from core.sql.immutable import append_only, run_sql
from ledger.sql import integrity


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        run_sql(schema_editor, integrity.FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        run_sql(schema_editor, integrity.REVERSE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(forward, reverse),
        migrations.RunPython(*append_only("ledger_posting")),
        migrations.RunPython(*append_only("ledger_journalentry")),
    ]
