"""The business calendar: working days, holidays, make-up working weekends, the daily cut-off.

A business date is the bank's (Asia/Shanghai) calendar date when that is a working day and
the time is before the cut-off; otherwise the next working day. Nothing else in Jianguan
asks the clock for "today"."""
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .models import BusinessDay


def _cutoff() -> time:
    hh, mm = settings.JIANGUAN["DAILY_CUTOFF"].split(":")
    return time(int(hh), int(mm))


def is_working_day(day: date, overrides: dict | None = None) -> bool:
    if overrides is None:
        overrides = dict(BusinessDay.objects.filter(date=day).values_list("date", "is_working_day"))
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5


def next_working_day(day: date, *, include_today=False) -> date:
    window = dict(BusinessDay.objects.filter(date__gte=day, date__lte=day + timedelta(days=40))
                  .values_list("date", "is_working_day"))
    candidate = day if include_today else day + timedelta(days=1)
    for _ in range(400):
        if is_working_day(candidate, window if candidate <= day + timedelta(days=40) else None):
            return candidate
        candidate += timedelta(days=1)
    raise RuntimeError("no working day within 400 days: the business calendar is wrong")


def local_now(now: datetime | None = None) -> datetime:
    return timezone.localtime(now or timezone.now())


def business_date_for(now: datetime | None = None) -> date:
    now = local_now(now)
    today = now.date()
    if now.time() < _cutoff() and is_working_day(today):
        return today
    return next_working_day(today)


def value_date_for(now: datetime | None = None) -> date:
    """Withdrawals: today on a working day before the cut-off, else the next working day."""
    return business_date_for(now)


def auto_release_days(merchant) -> int:
    """Days a guaranteed payment stays held before it is released automatically: the
    merchant's own delay (Merchant.guarantee_auto_release_days), else the bank's default."""
    return merchant.guarantee_auto_release_days or settings.JIANGUAN["GUARANTEE_AUTO_RELEASE_DAYS"]


def auto_release_at(merchant, now: datetime | None = None) -> datetime:
    """When a guaranteed payment made now is released if the buyer has not confirmed receipt."""
    return (now or timezone.now()) + timedelta(days=auto_release_days(merchant))
