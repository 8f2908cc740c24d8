"""Migrations stand still, and a fresh migrate yields the current schema.

Each migration carries its own copy of the SQL it ran; the live modules (core.sql.immutable,
core.sql.api_claim, ledger.sql.integrity, reconciliation.sql.line_guard) hold the definitions as they stand today.
The test database was built by a fresh `migrate`: no model change may be left without its
migration, and applying the live modules' SQL on top of it (in the test's transaction, rolled
back) must change no function and no trigger, so each one the live modules define is there with
the same definition."""
import importlib

import pytest
from django.core.management import call_command
from django.db import connection

from core.sql import api_claim, immutable
from ledger.sql import booking, integrity, legs, release
from reconciliation.sql import line_guard

APPEND_ONLY = {"core_auditevent", "credit_repayment", "credit_penaltyaccrual", "ledger_posting",
               "ledger_journalentry"}


def normalised(definition):
    """Whitespace-insensitive: a migration may hold the same SQL indented otherwise."""
    return " ".join(definition.split())


def functions_and_triggers(cursor):
    cursor.execute("""
        SELECT p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.prokind = 'f'""")
    functions = {name: normalised(definition) for name, definition in cursor.fetchall()}
    cursor.execute("""
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT t.tgisinternal""")
    triggers = {(table, name): normalised(definition) for table, name, definition in cursor.fetchall()}
    return functions, triggers


def live_sql(append_only_tables):
    statements = []
    for table in sorted(append_only_tables):
        statements += immutable.forbid_update_delete_sql("postgresql", table)
    statements += line_guard.FORWARD
    statements += api_claim.FORWARD
    statements += ["DROP TRIGGER IF EXISTS ledger_posting_entries_balance ON ledger_posting;",
                   *integrity.ENTRIES_BALANCE]
    statements += ["DROP TRIGGER IF EXISTS ledger_account_reserve_debit_guard ON ledger_account;",
                   *integrity.RESERVE_DEBIT_GUARD]
    statements += legs.POST_LEGS + booking.BOOK_PAYMENT + release.RELEASE_PAYMENT
    return statements


@pytest.mark.django_db
def test_no_model_change_is_left_without_its_migration():
    # given the models as they stand, when makemigrations checks them, then it finds nothing to write
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_fresh_migrate_installs_every_function_and_trigger_the_live_modules_define():
    with connection.cursor() as cursor:
        # given the database a fresh migrate built
        functions, triggers = functions_and_triggers(cursor)
        append_only = {table for table, name in triggers if name == f"{table}_append_only"}
        assert APPEND_ONLY <= append_only

        # when the live modules' SQL is applied on top of it
        for statement in live_sql(append_only | APPEND_ONLY):
            cursor.execute(statement)

        # then no function or trigger changed, appeared or went
        functions_after, triggers_after = functions_and_triggers(cursor)
        assert functions_after == functions
        assert triggers_after == triggers


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_append_only_function_fires_only_from_append_only_triggers():
    # given the database a fresh migrate built (an old migration also refused TRUNCATE)
    with connection.cursor() as cursor:
        _functions, triggers = functions_and_triggers(cursor)

    # then every trigger of the append-only function is a table's UPDATE/DELETE guard
    forbidding = {(table, name) for (table, name), definition in triggers.items()
                  if "jianguan_forbid_change" in definition}
    assert forbidding
    assert {(table, name) for table, name in forbidding if name != f"{table}_append_only"} == set()
    assert all("BEFORE DELETE OR UPDATE" in triggers[key] for key in forbidding)


@pytest.mark.django_db
def test_the_migrated_built_in_layouts_are_the_live_ones():
    # given the built-in statement layouts as the data migrations created them (each from its own
    # frozen copy) and the live file the parser documents
    from reconciliation.models import StatementLayout
    from reconciliation.parsing.layouts import load_builtin

    live = {data["code"]: data for data in load_builtin()}
    migrated = {row.code: row for row in StatementLayout.objects.filter(built_in=True)}
    # then they are the same layouts, field by field: an edit of the live file needs a migration
    assert set(migrated) == set(live)
    for code, data in live.items():
        row = migrated[code]
        assert {field: getattr(row, field) for field in data} == data, code


# (migration, its forward and reverse SQL, the live module's SQL, the functions it installs)
REVERSIBLE = [
    ("ledger.migrations.0015_booking_function", ["POST_LEGS_FORWARD", "BOOK_PAYMENT_FORWARD"],
     ["BOOK_PAYMENT_REVERSE", "POST_LEGS_REVERSE"], legs.POST_LEGS + booking.BOOK_PAYMENT,
     {"ledger_post_legs", "ledger_book_payment"}),
    ("ledger.migrations.0016_release_function", ["RELEASE_PAYMENT_FORWARD"], ["RELEASE_PAYMENT_REVERSE"],
     release.RELEASE_PAYMENT, {"ledger_release_payment"}),
    ("core.migrations.0006_api_claim_function", ["FORWARD"], ["REVERSE"], api_claim.FORWARD, {"core_api_claim"}),
]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("name, forward, reverse, live, installed", REVERSIBLE, ids=[r[0] for r in REVERSIBLE])
def test_a_function_migration_reverses_to_the_python_path(name, forward, reverse, live, installed):
    # given the database a fresh migrate built, with the migration's functions
    migration = importlib.import_module(name)
    with connection.cursor() as cursor:
        assert installed <= set(functions_and_triggers(cursor)[0])
        # when the migration's reverse runs (in the test's transaction, rolled back)
        for statement in [s for attr in reverse for s in getattr(migration, attr)]:
            cursor.execute(statement)
        # then its functions are gone, and its forward SQL is the live modules'
        assert not installed & set(functions_and_triggers(cursor)[0])
    assert [normalised(s) for attr in forward for s in getattr(migration, attr)] == [normalised(s) for s in live]
