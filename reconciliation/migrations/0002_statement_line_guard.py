from django.db import migrations

from core.sql.immutable import run_sql


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from reconciliation.sql import line_guard

        run_sql(schema_editor, line_guard.FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from reconciliation.sql import line_guard

        run_sql(schema_editor, line_guard.REVERSE)


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
