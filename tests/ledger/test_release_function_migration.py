"""The release function's migration (ledger 0016) installs the live module's function and reverses
to the Python path (as tests/core/test_migrations.py holds the other functions)."""
import importlib

import pytest
from django.db import connection

from ledger.sql import release
from tests.core.test_migrations import functions_and_triggers, normalised

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_fresh_migrate_installs_the_release_function_the_live_module_defines():
    with connection.cursor() as cursor:
        # given the database a fresh migrate built
        functions, triggers = functions_and_triggers(cursor)
        assert "ledger_release_payment" in functions
        # when the live module's SQL is applied on top of it (in the test's transaction, rolled back)
        for statement in release.RELEASE_PAYMENT:
            cursor.execute(statement)
        # then no function or trigger changed
        assert functions_and_triggers(cursor) == (functions, triggers)


def test_the_release_function_migration_reverses_to_the_python_path():
    # given the database a fresh migrate built, with the release function
    migration = importlib.import_module("ledger.migrations.0016_release_function")
    with connection.cursor() as cursor:
        assert "ledger_release_payment" in functions_and_triggers(cursor)[0]
        # when the migration's reverse runs (in the test's transaction, rolled back)
        for statement in migration.RELEASE_PAYMENT_REVERSE:
            cursor.execute(statement)
        # then the function is gone, and its forward SQL is the live module's
        assert "ledger_release_payment" not in functions_and_triggers(cursor)[0]
    assert ([normalised(s) for s in migration.RELEASE_PAYMENT_FORWARD]
            == [normalised(s) for s in release.RELEASE_PAYMENT])
