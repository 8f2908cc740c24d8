"""The business calendar: working days, holidays, make-up working weekends, the daily cut-off.

A business date is the bank's (Asia/Shanghai) calendar date when that is a working day and
the time is before the cut-off; otherwise the next working day. Nothing else in Jianguan
asks the clock for "today".

`business_date_for` answers from a per-process cache, one answer per minute of local time (the
cut-off is a whole minute, so within a minute only the calendar can change the answer). Saving
or deleting a BusinessDay in this process empties it (a signal, below); another process
sees a calendar change within a minute — change the calendar ahead of the day it concerns. While
this process has an uncommitted calendar change, nothing is cached (a rollback must not leave an
answer that counted it)."""
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
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


_business_dates: dict[tuple, date] = {}  # (local date, hour, minute, cut-off) -> business date
_uncommitted_changes = 0  # calendar changes of this process not yet committed (or rolled back)
_CACHE_SIZE = 64


def business_date_for(now: datetime | None = None) -> date:
    now = local_now(now)
    key = (now.date(), now.hour, now.minute, settings.JIANGUAN["DAILY_CUTOFF"])
    found = _business_dates.get(key)
    if found is None:
        today = now.date()
        found = today if now.time() < _cutoff() and is_working_day(today) else next_working_day(today)
        if not _uncommitted_changes:
            if len(_business_dates) >= _CACHE_SIZE:
                _business_dates.clear()
            _business_dates[key] = found
    return found


def calendar_changed(**_signal) -> None:
    """A BusinessDay was saved or deleted here: forget every cached business date, and cache none
    until the change is committed (a rolled-back change keeps caching off in this process: always
    correct, merely slower)."""
    global _uncommitted_changes
    _business_dates.clear()
    if transaction.get_connection().in_atomic_block:
        _uncommitted_changes += 1
        transaction.on_commit(_change_committed)


def _change_committed() -> None:
    global _uncommitted_changes
    _uncommitted_changes = max(0, _uncommitted_changes - 1)
    _business_dates.clear()


post_save.connect(calendar_changed, sender=BusinessDay, dispatch_uid="ledger.calendar.saved")
post_delete.connect(calendar_changed, sender=BusinessDay, dispatch_uid="ledger.calendar.deleted")


def business_dates_forget() -> None:
    """Empty the cache and its state (tests whose transactions roll back under it)."""
    global _uncommitted_changes
    _uncommitted_changes = 0
    _business_dates.clear()


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
