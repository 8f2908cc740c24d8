"""The business calendar: weekends, public holidays, make-up working weekends (调休) and the
daily cut-off. Fixed aware datetimes in Asia/Shanghai; never today's date.

The 2025 National Day holiday is used as it was announced: 1–8 October off, with Sunday
28 September and Saturday 11 October worked instead."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.errors import PermissionRefused
from core.models import AuditEvent
from ledger.calendar import business_date_for, is_working_day, next_working_day, value_date_for
from ledger.models import BusinessDay
from ledger.services.calendar import business_day_set
from tests import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def national_day_2025():
    for day in range(1, 9):
        BusinessDay.objects.create(date=date(2025, 10, day), is_working_day=False, note="National Day")
    BusinessDay.objects.create(date=date(2025, 9, 28), is_working_day=True, note="Make-up working Sunday")
    BusinessDay.objects.create(date=date(2025, 10, 11), is_working_day=True, note="Make-up working Saturday")


def test_a_working_day_before_the_cut_off_is_that_day():
    # Wednesday 2025-01-08 at 10:00
    assert business_date_for(at(2025, 1, 8, 10)) == date(2025, 1, 8)
    assert value_date_for(at(2025, 1, 8, 16, 29)) == date(2025, 1, 8)


def test_at_or_after_the_cut_off_it_is_the_next_working_day():
    assert value_date_for(at(2025, 1, 8, 16, 30)) == date(2025, 1, 9)
    assert value_date_for(at(2025, 1, 8, 23, 59)) == date(2025, 1, 9)


def test_friday_evening_and_the_weekend_roll_to_monday():
    assert value_date_for(at(2025, 1, 10, 17)) == date(2025, 1, 13)
    assert value_date_for(at(2025, 1, 11, 9)) == date(2025, 1, 13)  # Saturday morning
    assert value_date_for(at(2025, 1, 12, 23)) == date(2025, 1, 13)  # Sunday night


def test_the_bank_time_zone_decides_the_date_not_utc():
    # 2025-01-08 20:00 UTC is Thursday 04:00 in Shanghai: before the cut-off on Thursday
    assert value_date_for(datetime(2025, 1, 8, 20, 0, tzinfo=UTC)) == date(2025, 1, 9)
    # 2025-01-08 08:00 UTC is 16:00 in Shanghai: still Wednesday, before the cut-off
    assert value_date_for(datetime(2025, 1, 8, 8, 0, tzinfo=UTC)) == date(2025, 1, 8)


def test_a_public_holiday_is_skipped(national_day_2025):
    assert not is_working_day(date(2025, 10, 1))
    # Tuesday 30 September after the cut-off: the holiday runs to the 8th, so Thursday the 9th
    assert value_date_for(at(2025, 9, 30, 17)) == date(2025, 10, 9)
    assert value_date_for(at(2025, 10, 3, 10)) == date(2025, 10, 9)


def test_a_make_up_working_weekend_is_a_working_day(national_day_2025):
    # Saturday 11 October is worked: before the cut-off it is its own business date
    assert is_working_day(date(2025, 10, 11))
    assert value_date_for(at(2025, 10, 11, 9)) == date(2025, 10, 11)
    # Friday 10 October after the cut-off rolls to that Saturday, not to Monday
    assert value_date_for(at(2025, 10, 10, 18)) == date(2025, 10, 11)
    # and Sunday 28 September is worked too
    assert value_date_for(at(2025, 9, 27, 12)) == date(2025, 9, 28)
    # an ordinary Sunday is not
    assert not is_working_day(date(2025, 10, 12))


def test_next_working_day_may_include_the_day_itself(national_day_2025):
    assert next_working_day(date(2025, 10, 9), include_today=True) == date(2025, 10, 9)
    assert next_working_day(date(2025, 10, 9)) == date(2025, 10, 10)
    assert next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)


def test_a_long_run_of_holidays_beyond_the_look_ahead_window_still_resolves():
    # 45 days off from 2030-01-01: beyond the 40-day window read at once
    start = date(2030, 1, 1)
    BusinessDay.objects.bulk_create([BusinessDay(date=start + timedelta(days=i), is_working_day=False)
                                     for i in range(45)])
    expected = start + timedelta(days=45)
    while expected.weekday() >= 5:
        expected += timedelta(days=1)
    assert next_working_day(start) == expected


# --- keeping the calendar ------------------------------------------------------------------------

def test_operations_mark_a_holiday_and_it_is_audited():
    ops = f.ops()
    day = business_day_set(actor=ops, day=date(2031, 5, 1), is_working_day=False, note="Labour Day")
    assert not is_working_day(date(2031, 5, 1))
    # and correcting it later is an edit, audited too
    business_day_set(actor=ops, day=date(2031, 5, 1), is_working_day=True, note="Announced in error")
    assert is_working_day(date(2031, 5, 1)) and BusinessDay.objects.filter(date=date(2031, 5, 1)).count() == 1
    assert list(AuditEvent.objects.filter(content_type__model="businessday", object_id=str(day.pk))
                .values_list("from_state", "to_state").order_by("id")) == [("", "holiday"), ("holiday", "working")]


@pytest.mark.parametrize("role", ["rm", "risk", "auditor"])
def test_only_operations_keep_the_calendar(role):
    with pytest.raises(PermissionRefused):
        business_day_set(actor=getattr(f, role)(), day=date(2031, 5, 2), is_working_day=False)
    assert not BusinessDay.objects.exists()


def test_the_calendar_screen(client):
    ops = f.ops()
    client.force_login(ops)
    # operations add a make-up working Saturday through the admin
    response = client.post(reverse("admin:ledger_businessday_add"),
                           {"date": "2031-09-27", "is_working_day": "on", "note": "Make-up working Saturday"})
    assert response.status_code == 302
    day = BusinessDay.objects.get(date=date(2031, 9, 27))
    assert day.is_working_day and is_working_day(date(2031, 9, 27))
    assert AuditEvent.objects.filter(content_type__model="businessday", action="set_business_day").exists()
    # edit it back to a holiday
    response = client.post(reverse("admin:ledger_businessday_change", args=[day.pk]),
                           {"note": "Cancelled"})
    assert response.status_code == 302
    day.refresh_from_db()
    assert not day.is_working_day and day.note == "Cancelled"
    # the list and the page open, and nothing is deleted
    assert client.get(reverse("admin:ledger_businessday_changelist")).status_code == 200
    assert client.get(reverse("admin:ledger_businessday_change", args=[day.pk])).status_code == 200
    assert client.post(reverse("admin:ledger_businessday_delete", args=[day.pk]), {"post": "yes"}).status_code == 403
    assert BusinessDay.objects.filter(pk=day.pk).exists()
    # and an auditor may look but not add
    client.force_login(f.auditor())
    assert client.get(reverse("admin:ledger_businessday_changelist")).status_code == 200
    assert client.get(reverse("admin:ledger_businessday_add")).status_code == 403
