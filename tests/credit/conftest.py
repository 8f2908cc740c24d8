from datetime import date

import pytest

from .helpers import Clock, World


@pytest.fixture
def clock(monkeypatch):
    """A fixed business date (settable: clock.day = ...) for entries, drawdowns and scoring."""
    c = Clock(date(2026, 3, 2))  # a Monday
    monkeypatch.setattr("ledger.posting.business_date_for", c)
    monkeypatch.setattr("ledger.booking.business_date_for", c)
    monkeypatch.setattr("credit.services.drawdowns.business_date_for", c)
    monkeypatch.setattr("credit.services.applications.business_date_for", c)
    monkeypatch.setattr("credit.admin.applications.business_date_for", c)
    return c


@pytest.fixture
def world(db):
    return World()
