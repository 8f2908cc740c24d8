"""Distribution by merchant, for migrations: composite_fks writes the statements a migration
runs. Migrations carry their own copy of the statements they ran (ledger 0003, credit 0003,
reconciliation 0004); a new one may call composite_fks while this text stands.

Every ledger, reconciliation and credit row carries its merchant, and a row that points at
another row of those tables must point at one of the same merchant. Django's foreign key on
`<x>_id` alone can't say that; a composite foreign key can:

    FOREIGN KEY (merchant_id, <x>_id) REFERENCES <target> (merchant_id, id)

It is also what Citus needs to co-locate the tables on merchant_id: a foreign key between
distributed tables must include the distribution column. The target carries a unique
(merchant, id) constraint (`<model>_merchant_id_key`) for it to reference.

PostgreSQL only; DEFERRABLE INITIALLY DEFERRED so the order of inserts within a transaction
doesn't matter (checked at commit), like the ledger's posting keys (ledger.sql.integrity).
Django's own single-column key stays: it is what the ORM and the admin know about."""
from django.db.backends.utils import truncate_name

from .immutable import run_sql


def _foreign_keys(apps, schema_editor, specs):
    """(table, constraint name, column, target table) for each field named in specs, with every
    name taken from the models as they stand at this migration."""
    max_length = schema_editor.connection.ops.max_name_length()
    for label, field_names in specs.items():
        model = apps.get_model(label)
        table = model._meta.db_table
        for name in field_names:
            field = model._meta.get_field(name)
            if not field.many_to_one:
                raise ValueError(f"{label}.{name} is not a foreign key")
            yield (table, truncate_name(f"{table}_{field.column}_same_merchant", max_length), field.column,
                   field.related_model._meta.db_table)


def composite_fks(specs: dict[str, list[str] | tuple[str, ...]]):
    """A (forward, reverse) pair for migrations.RunPython that adds, on PostgreSQL,
    (merchant_id, <column>) -> <target> (merchant_id, id) for each foreign key named in specs:
    {"app_label.Model": ["field", ...]}."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        run_sql(schema_editor, [
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
            f"FOREIGN KEY (merchant_id, {quote(column)}) REFERENCES {quote(target)} (merchant_id, id) "
            f"DEFERRABLE INITIALLY DEFERRED;"
            for table, name, column, target in _foreign_keys(apps, schema_editor, specs)
        ])

    def reverse(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        run_sql(schema_editor, [
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)};"
            for table, name, _column, _target in _foreign_keys(apps, schema_editor, specs)
        ])

    return forward, reverse
