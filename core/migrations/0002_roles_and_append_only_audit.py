"""Roles, and the audit trail append-only. The SQL is this migration's own copy, as it ran
(core.sql.immutable has changed since: 0005 brings the table to its current triggers)."""
from django.db import migrations

from core.roles import sync_roles

FORWARD = {
    "postgresql": [
        """
            CREATE OR REPLACE FUNCTION jianguan_forbid_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql;
            """,
        "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;",
        """CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
                FOR EACH ROW EXECUTE FUNCTION jianguan_forbid_change();""",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;",
        """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
                FOR EACH STATEMENT EXECUTE FUNCTION jianguan_forbid_change();""",
    ],
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
                BEGIN SELECT RAISE(ABORT, 'rows of core_auditevent are append-only: UPDATE refused'); END;""",
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
                BEGIN SELECT RAISE(ABORT, 'rows of core_auditevent are append-only: DELETE refused'); END;""",
    ],
}
REVERSE = {
    "postgresql": ["DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;",
                   "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"],
    "sqlite": ["DROP TRIGGER IF EXISTS core_auditevent_no_update;",
               "DROP TRIGGER IF EXISTS core_auditevent_no_delete;"],
}


def run(statements):
    """Executed without parameters, so a literal % (plpgsql RAISE) needs no escaping."""

    def operation(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for statement in statements.get(schema_editor.connection.vendor, []):
                cursor.execute(statement)

    return operation


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(run(FORWARD), run(REVERSE)),
    ]
