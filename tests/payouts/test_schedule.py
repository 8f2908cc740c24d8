"""The payout beat follows the bank's settings and calendar: built before the daily cut-off and in
the morning, on working days only (a holiday builds nothing, a make-up working Saturday does)."""
import datetime

import pytest
from django.utils import timezone

from config.celery import app, payout_build_times
from ledger.models import BusinessDay
from payouts import tasks
from payouts.models import PayoutBatch

from .helpers import world

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def test_the_build_times_follow_the_cut_off_and_the_morning_setting(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "DAILY_CUTOFF": "15:00", "PAYOUT_BUILD_LEAD_MINUTES": 10,
                         "PAYOUT_MORNING_BUILD": "08:45"}
    assert payout_build_times() == {"morning": (8, 45), "cutoff": (14, 50)}


def test_the_beat_runs_the_build_at_both_times_every_day():
    entries = {name: e for name, e in app.conf.beat_schedule.items() if name.startswith("payouts-build-due-batches")}
    assert {e["task"] for e in entries.values()} == {tasks.build_due_batches.name}
    times = sorted((min(e["schedule"].hour), min(e["schedule"].minute)) for e in entries.values())
    assert times == sorted(payout_build_times().values())
    assert all(len(e["schedule"].day_of_week) == 7 for e in entries.values())  # the calendar decides, not cron


@pytest.mark.parametrize(("day", "working", "built"), [
    (datetime.date(2026, 12, 4), None, 1),    # a Friday
    (datetime.date(2026, 12, 5), None, 0),    # a Saturday
    (datetime.date(2026, 12, 5), True, 1),    # a make-up working Saturday
    (datetime.date(2026, 12, 7), False, 0),   # a Monday holiday
])
def test_the_build_runs_on_the_bank_s_working_days_only(monkeypatch, day, working, built):
    # given an approved withdrawal due, and the calendar's say about the day
    world(("100.00",))
    if working is not None:
        BusinessDay.objects.create(date=day, is_working_day=working)
    moment = datetime.datetime.combine(day, datetime.time(16, 25), tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    # when the beat fires
    count = tasks.build_due_batches()
    # then a batch is built on a working day only
    assert count == built and PayoutBatch.objects.count() == built
