import os

import pytest
from django.db import connection

# The whole run is searched for raw identity/phone/card numbers (tests/pii_scan.py).
pytest_plugins = ["tests.pii_scan"]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI runs the suite on PostgreSQL; DATABASE_URL is not a PostgreSQL URL.")
    skip = pytest.mark.skip(reason="needs PostgreSQL (install it: apt-get install postgresql)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_random_purge(monkeypatch):
    """The nonce and idempotency tables are purged on a dice roll; tests that count queries must
    not depend on it, so the dice never roll here (tests/api/test_purges.py rolls them)."""
    monkeypatch.setattr("core.api.authentication.PURGE_PROBABILITY", 0.0)
    monkeypatch.setattr("core.api.idempotency.PURGE_PROBABILITY", 0.0)


@pytest.fixture(autouse=True)
def no_outflow_rules_cached():
    """Every test starts with no outflow rules (its database has none): the per-process cache of
    rules (risk.services.rules) is set to "none" without a query, so a test's query counts don't
    depend on the order tests run in; saving a rule clears it (a signal), and so does the end of
    the test (its rules are rolled back)."""
    from risk.services import rules

    rules.rules_cache_prime([])
    yield
    rules.rules_cache_prime([])


@pytest.fixture(autouse=True)
def no_ledger_caches():
    """The per-process caches of platform account ids and business dates start empty: a test's
    rolled-back rows (or a truncated database) must not answer the next test."""
    from ledger import calendar
    from ledger.services import accounts

    accounts.platform_accounts_forget()
    calendar.business_dates_forget()
    yield
    accounts.platform_accounts_forget()
    calendar.business_dates_forget()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the settings' language: a request through LocaleMiddleware (a staff
    page, a Chinese cookie) activates its language for the thread and leaves it there."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
