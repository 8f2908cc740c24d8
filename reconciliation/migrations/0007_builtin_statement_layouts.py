"""The built-in statement layouts as rows that operations can read, switch off or extend in the
admin. Re-running keeps their own edits out of reach: only missing built-in codes are created.

The layouts are this migration's own copy (0007_builtin_statement_layouts.json, frozen as
reconciliation/parsing/builtin_layouts.json stood when it was written): editing the live file
never changes what this migration did. A change to the built-in layouts ships as a new data
migration with its own copy (tests/core/test_migrations.py compares the migrated rows with the
live file)."""
import json
from pathlib import Path

from django.db import migrations

BUILTIN = Path(__file__).with_suffix(".json")


def create_builtin_layouts(apps, schema_editor):
    StatementLayout = apps.get_model("reconciliation", "StatementLayout")
    for data in json.loads(BUILTIN.read_text(encoding="utf-8")):
        StatementLayout.objects.get_or_create(code=data["code"], defaults={**data, "built_in": True})


def remove_builtin_layouts(apps, schema_editor):
    apps.get_model("reconciliation", "StatementLayout").objects.filter(built_in=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0006_statement_layouts")]

    operations = [migrations.RunPython(create_builtin_layouts, remove_builtin_layouts)]
