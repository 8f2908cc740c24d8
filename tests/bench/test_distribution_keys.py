"""Growing past one machine: every ledger, reconciliation and credit table carries
its merchant, and every unique constraint and every foreign key between those tables includes
it, so the tables can be distributed by merchant (Citus: co-located on merchant_id) without a
model change.

Three tables are the same for every merchant and are exempt: in a distributed deployment they
are reference tables, copied to every node. The surrogate primary key `id` is exempt too:
distributing a table swaps its primary key for the (merchant_id, id) key each of these tables
already carries — a database change, not a model change."""
import pytest
from django.apps import apps
from django.db import connection, models

DISTRIBUTED_APPS = ("ledger", "reconciliation", "credit")
REFERENCE_TABLES = {
    "ledger.BusinessDay": "the bank's business calendar, the same for every merchant",
    "ledger.PaymentChannel": "the bank's payment channels, shared by every merchant",
    "reconciliation.StatementLayout": "how each bank writes its statement export, the same for every merchant",
}


def distributed_models():
    return [model for app in DISTRIBUTED_APPS
            for model in apps.get_app_config(app).get_models(include_auto_created=True)
            if model._meta.label not in REFERENCE_TABLES]


def _merchant_field(model):
    try:
        field = model._meta.get_field("merchant")
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: reported as a violation
        return None
    if not field.many_to_one or field.related_model._meta.label != "merchants.Merchant":
        return None
    return field


def test_every_table_carries_its_merchant():
    # given every model of the distributed apps (auto-created through tables included)
    # then each has a non-null foreign key `merchant` to merchants.Merchant
    violations = []
    for model in distributed_models():
        field = _merchant_field(model)
        if field is None:
            violations.append(f"{model._meta.label}: no `merchant` foreign key to merchants.Merchant")
        elif field.null:
            violations.append(f"{model._meta.label}: `merchant` may be empty")
    assert not violations, "\n".join(violations)


def test_every_unique_key_includes_the_merchant():
    # given every unique field, unique_together and UniqueConstraint of those models
    # then each includes the merchant (a unique key without the distribution column can't be
    # enforced across nodes)
    violations = []
    for model in distributed_models():
        label = model._meta.label
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                kind = "one-to-one" if field.one_to_one else "unique field"
                violations.append(f"{label}.{field.name}: {kind} without the merchant")
        for together in model._meta.unique_together:
            if "merchant" not in together:
                violations.append(f"{label}: unique_together {tuple(together)} without the merchant")
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                if constraint.expressions or "merchant" not in constraint.fields:
                    violations.append(f"{label}: unique constraint {constraint.name} {tuple(constraint.fields)} "
                                      f"without the merchant")
    assert not violations, "\n".join(violations)


_COMPOSITE_FKS = """
SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) k JOIN pg_attribute a
             ON a.attrelid = c.conrelid AND a.attnum = k ORDER BY a.attname)
FROM pg_constraint c WHERE c.contype = 'f' AND cardinality(c.conkey) > 1
"""


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_foreign_key_between_these_tables_includes_the_merchant():
    # given the foreign keys from one distributed table to another
    tables = {model._meta.db_table: model for model in distributed_models()}
    with connection.cursor() as cursor:
        cursor.execute(_COMPOSITE_FKS)
        composite = {(source, target, tuple(columns)) for source, target, columns in cursor.fetchall()}
    # then each is also enforced as (merchant_id, <column>) -> (merchant_id, id) in the database,
    # so a row can never point at another merchant's row, on one node or across many
    violations = []
    for table, model in tables.items():
        for field in model._meta.concrete_fields:
            if not field.many_to_one or field.name == "merchant":
                continue
            target = field.related_model._meta.db_table
            if target not in tables:
                continue
            if (table, target, tuple(sorted(["merchant_id", field.column]))) not in composite:
                violations.append(f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}: "
                                  f"no (merchant_id, {field.column}) foreign key")
    assert not violations, "\n".join(violations)
