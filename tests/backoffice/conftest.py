import datetime

import pytest

from .world import Clock, World


@pytest.fixture
def clock(monkeypatch):
    """The business date every entry, drawdown and score takes while the test runs."""
    c = Clock(datetime.date(2026, 11, 2))
    for target in ("ledger.posting.business_date_for", "ledger.booking.business_date_for",
                   "credit.services.drawdowns.business_date_for",
                   "credit.services.applications.business_date_for"):
        monkeypatch.setattr(target, c)
    return c


@pytest.fixture
def world(db, clock):
    return World(clock)


@pytest.fixture
def today(monkeypatch):
    """The dashboards' "today": 2026-11-30, a Monday."""
    day = datetime.date(2026, 11, 30)
    monkeypatch.setattr("backoffice.selectors.common.today", lambda: day)
    for module in ("dashboards", "merchant360", "performance"):
        monkeypatch.setattr(f"backoffice.selectors.{module}.today", lambda: day)
    return day


def login(client, user):
    client.force_login(user)
    return client
