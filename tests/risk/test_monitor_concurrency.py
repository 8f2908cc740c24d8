"""Two evaluators racing on one monitor (PostgreSQL, real transactions, real threads): each reads
the same state before either writes, and still every crossing raises one alert, one webhook and
one audit record, and every clearing clears once."""
import threading

import pytest

from core.models import AuditEvent
from merchants.models import WebhookDelivery
from risk.selectors import monitors as selectors
from risk.models import MonitorAlert
from risk.services.monitors import monitor_evaluate
from tests import factories as f
from tests.ledger.test_payment_concurrency import run_together

from .helpers import monitor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MEMBERS = 12


def _both_read_before_either_writes(monkeypatch, n=2):
    """Make each evaluator wait, after its read, until the other has read too."""
    barrier = threading.Barrier(n, timeout=30)
    read = selectors.monitor_state

    def state_then_wait(m):
        rows = read(m)
        barrier.wait()
        return rows

    monkeypatch.setattr(selectors, "monitor_state", state_then_wait)


def test_two_evaluators_racing_raise_each_alert_once_and_clear_it_once(monkeypatch):
    # given twelve members below a monitor's line, on a listening platform
    merchant = f.active_merchant()
    events = f.listening(merchant)
    members = [f.member(merchant) for _ in range(MEMBERS)]
    low = monitor(merchant, field="available", operator="lt", threshold="100.00")
    _both_read_before_either_writes(monkeypatch)
    # when two evaluators race, both having seen no alert open
    results = run_together(2, lambda i: monitor_evaluate(monitor=low))
    # then neither failed, and between them they raised each member's alert exactly once
    assert [error for _r, error in results] == [None, None]
    raised = [alert.member_id for result, _e in results for alert in result.raised]
    assert sorted(raised) == sorted(m.pk for m in members)
    assert MonitorAlert.objects.filter(monitor=low).count() == MEMBERS
    assert WebhookDelivery.objects.filter(merchant=merchant, event_type="balance.alert").count() == MEMBERS
    assert len(events("balance.alert")) == MEMBERS
    assert AuditEvent.objects.filter(content_type__model="monitoralert", action="alert_raised").count() == MEMBERS

    # given every member funded above the line
    for member in members:
        f.funded(member, "500.00")
    # when two evaluators race again
    results = run_together(2, lambda i: monitor_evaluate(monitor=low))
    # then each alert was cleared once, by one of them
    assert [error for _r, error in results] == [None, None]
    cleared = [alert_id for result, _e in results for alert_id in result.cleared]
    assert sorted(cleared) == sorted(MonitorAlert.objects.filter(monitor=low).values_list("pk", flat=True))
    assert not MonitorAlert.objects.filter(monitor=low, cleared_at__isnull=True).exists()
    assert AuditEvent.objects.filter(content_type__model="monitoralert", action="alert_cleared").count() == MEMBERS
