"""The nightly integrity check: Celery beat runs the full proof of the books every
night and records it; the operations dashboard alerts when the latest check did not pass (an
integrity break, a check that could not finish) or when none passed for a day and a half, and
shows nothing alarming when the books prove."""
import datetime

import pytest
from celery.schedules import crontab
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from backoffice.models import IntegrityCheck
from backoffice.selectors import dashboards
from backoffice.tasks import verify_integrity_nightly
from ledger.services import deposits
from tests import factories as f

pytestmark = pytest.mark.django_db


def _books():
    merchant = f.active_merchant()
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="100.00",
                                  order_no="O1", method="offline_transfer")
    deposits.deposit_credit(deposit=d, actor=None, amount="100.00", proof_kind="statement_line", proof_reference="R1")
    return merchant


def _alter_a_balance_behind_the_back(merchant):
    # The append-only triggers and the balance check refuse this; a superuser with the triggers
    # disabled is the attacker here (as in tests/core/test_verify_integrity.py).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE ledger_account SET balance = balance + 1 WHERE merchant_id = %s "
                       "AND kind = 'member_available' AND balance > 0", [merchant.pk])
        cursor.execute("SET session_replication_role = DEFAULT")


def _ops_index(client):
    client.force_login(f.ops())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_beat_runs_verify_integrity_every_night_after_the_end_of_day():
    # given the Celery app's beat schedule
    from config.celery import app

    schedule = app.conf.beat_schedule
    # then one entry runs the nightly check, once a day at 02:00 (the bank's zone), after end of day
    entry = schedule["backoffice-verify-integrity-nightly"]
    assert entry["task"] == "backoffice.tasks.verify_integrity_nightly" == verify_integrity_nightly.name
    nightly = entry["schedule"]
    assert isinstance(nightly, crontab)
    assert nightly.hour == {2} and nightly.minute == {0}
    assert nightly.day_of_week == set(range(7)) and nightly.day_of_month == set(range(1, 32))
    eod = schedule["reconciliation-end-of-day"]["schedule"]
    assert (min(eod.hour), min(eod.minute)) < (2, 0)


def test_a_passing_check_is_recorded_and_the_dashboard_shows_no_alert(client):
    # given books that prove
    _books()
    # when the nightly task runs
    status = verify_integrity_nightly()
    # then it is recorded as passed, by the system
    check = IntegrityCheck.objects.get()
    assert status == "passed" and check.ok and check.finished_at is not None
    assert check.actor_label == "nightly integrity check"
    # and the operations dashboard shows it, without an alert
    d = dashboards.ops_dashboard(f.ops())
    assert d.integrity.last == check and not d.integrity.alert
    html = _ops_index(client)
    assert 'id="ops-integrity"' in html and 'data-status="passed"' in html
    assert 'id="ops-integrity-alert"' not in html


@pytest.mark.postgres
def test_a_failing_check_is_recorded_and_the_dashboard_alerts(client):
    # given a balance altered behind the application's back, after a night that passed
    merchant = _books()
    verify_integrity_nightly()
    _alter_a_balance_behind_the_back(merchant)
    # when the nightly task runs again
    status = verify_integrity_nightly()
    # then the break is recorded: which check, where, what
    check = IntegrityCheck.objects.order_by("-id").first()
    assert status == "failed" and check.status == IntegrityCheck.Status.FAILED
    assert check.check_name == "materialised balance" and merchant.code in check.location
    # and the operations dashboard alerts with it
    d = dashboards.ops_dashboard(f.ops())
    assert d.integrity.alert and d.integrity.last == check and "materialised balance" in d.integrity.reason
    assert d.integrity.last_passed_at is not None  # the night before passed
    html = _ops_index(client)
    assert 'id="ops-integrity-alert"' in html and 'data-status="failed"' in html
    assert "materialised balance" in html


def test_a_check_that_could_not_finish_is_recorded_and_alerts(client, monkeypatch):
    # given a proof that fails with an error (the database went away mid-check)
    from django.db import OperationalError

    def broken():
        raise OperationalError("the connection is lost")

    monkeypatch.setattr("ledger.integrity.first_break", broken)
    # when the nightly task runs, the error reaches the worker's log
    with pytest.raises(OperationalError):
        verify_integrity_nightly()
    # then the check is recorded as not finished, and the dashboard alerts
    check = IntegrityCheck.objects.get()
    assert check.status == IntegrityCheck.Status.ERROR and "connection is lost" in check.detail
    assert dashboards.integrity_status().alert
    assert 'id="ops-integrity-alert"' in _ops_index(client)


def test_no_passing_check_for_two_days_is_an_alert_too():
    # given the last check passed three days ago (beat or the worker has been down since)
    old = timezone.now() - datetime.timedelta(days=3)
    IntegrityCheck.objects.create(status=IntegrityCheck.Status.PASSED, started_at=old, finished_at=old,
                                  actor_label="nightly integrity check")
    # then the dashboard alerts; a check that passed an hour ago would not
    assert dashboards.integrity_status().alert
    recent = timezone.now() - datetime.timedelta(hours=1)
    IntegrityCheck.objects.create(status=IntegrityCheck.Status.PASSED, started_at=recent, finished_at=recent,
                                  actor_label="nightly integrity check")
    assert not dashboards.integrity_status().alert


def test_before_the_first_night_there_is_nothing_to_alert_on(client):
    assert not dashboards.integrity_status().alert
    html = _ops_index(client)
    assert 'id="ops-integrity"' in html and 'data-status="none"' in html and 'id="ops-integrity-alert"' not in html
