"""Reads of the payouts app (admin, dashboard, files)."""
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.models import BusinessDay, Withdrawal

from .models import PayoutLine

UNPAID = (Withdrawal.Status.PENDING_APPROVAL, Withdrawal.Status.APPROVED, Withdrawal.Status.PROCESSING)
PANEL_LIMIT = 20


def last_working_day_before(day: date) -> date:
    overrides = dict(BusinessDay.objects.filter(date__lt=day, date__gte=day - timedelta(days=40))
                     .values_list("date", "is_working_day"))
    candidate = day - timedelta(days=1)
    for _i in range(40):
        if overrides.get(candidate, candidate.weekday() < 5):
            return candidate
        candidate -= timedelta(days=1)
    return day - timedelta(days=1)


@dataclass
class OverduePayouts:
    """Withdrawals still not paid on the working day after their value date (the seeds promise
    the same working day, else the next): the operations dashboard's alert rows."""

    withdrawals: list
    count: int
    as_of: date


def overdue_withdrawals(merchants, *, as_of: date) -> OverduePayouts:
    """Two queries: the rows (oldest first, at most PANEL_LIMIT) and the count."""
    # Late from the first working day after the value date: before the last working day up to today.
    overdue = Withdrawal.objects.filter(merchant__in=merchants, status__in=UNPAID,
                                        value_date__lt=last_working_day_before(as_of + timedelta(days=1)))
    rows = list(overdue.select_related("merchant", "member").order_by("value_date", "pk")[:PANEL_LIMIT])
    live = dict(PayoutLine.objects.filter(withdrawal__in=[w.pk for w in rows], live=True)
                .values_list("withdrawal_id", "batch__reference"))
    for w in rows:
        w.payout_batch = live.get(w.pk, "")
        w.days_late = (as_of - w.value_date).days
    return OverduePayouts(withdrawals=rows, count=overdue.count() if len(rows) == PANEL_LIMIT else len(rows),
                          as_of=as_of)


def batch_lines(batch):
    return list(batch.lines.order_by("pk"))
