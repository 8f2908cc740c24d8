"""Supervision balances over time, computed from postings.

The end-of-day balance of a supervision account on day D is the sum of its postings whose
entry has a business date up to D (the asset's natural sign is the posting's sign). One
grouped query returns, per group (a merchant, an RM), the sum before the window (the
opening) and the sum of each day inside it; the days are then filled in Python.

For one merchant's page (merchant 360), `daily_balance_series_to_now` reads only the window:
the balance now (materialised + pending hot deltas, which equals the sum of all postings, as
end of day and verify_integrity prove) minus the days after each day gives that day's close,
so the page never sums the whole history."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, DateField, F, Sum, Value, When

from core.money import ZERO
from ledger.models import AccountKind, EntryType, Posting

from .common import MONEY

# Money that arrived at the bank: an identified deposit, or an unidentified inflow parked in
# suspense (matching it later moves nothing in the supervision account, so nothing counts twice).
INFLOW_TYPES = (EntryType.DEPOSIT, EntryType.SUSPENSE_IN)


@dataclass
class DailyChanges:
    opening: Decimal = ZERO  # the balance at the end of the day before the window
    changes: dict = field(default_factory=dict)  # day -> sum of that day's postings

    def series(self, start: date, end: date) -> list[tuple[date, Decimal]]:
        """The end-of-day balance of every day from start to end."""
        balance, out, day = self.opening, [], start
        while day <= end:
            balance += self.changes.get(day, ZERO)
            out.append((day, balance))
            day += timedelta(days=1)
        return out

    def closing(self, end: date) -> Decimal:
        return self.opening + sum((v for d, v in self.changes.items() if d <= end), ZERO)


def supervision_postings(**filters):
    return Posting.objects.filter(account__kind=AccountKind.SUPERVISION, **filters)


def daily_changes(postings, start: date, end: date, group: str | None = None) -> dict:
    """{group value: DailyChanges} (key None without a group) for the postings up to `end`,
    in one query: days before `start` collapse into the opening."""
    day = Case(When(entry__business_date__lt=start, then=Value(None, output_field=DateField())),
               default=F("entry__business_date"), output_field=DateField())
    keys = ([group] if group else []) + ["day"]
    rows = (postings.filter(entry__business_date__lte=end).annotate(day=day).order_by()
            .values(*keys).annotate(total=Sum("amount", output_field=MONEY)))
    result: dict = {}
    for row in rows:
        item = result.setdefault(row[group] if group else None, DailyChanges())
        total = row["total"] or ZERO
        if row["day"] is None:
            item.opening += total
        else:
            item.changes[row["day"]] = item.changes.get(row["day"], ZERO) + total
    return result


def daily_balance_series(postings, start: date, end: date) -> list[tuple[date, Decimal]]:
    return daily_changes(postings, start, end).get(None, DailyChanges()).series(start, end)


def daily_balance_series_to_now(postings, start: date, end: date, balance_now: Decimal) -> list[tuple[date, Decimal]]:
    """The end-of-day balance of every day from start to end, from the postings of the window
    and after it only (business date ≥ start) and the balance now."""
    rows = (postings.filter(entry__business_date__gte=start).annotate(day=F("entry__business_date")).order_by()
            .values("day").annotate(total=Sum("amount", output_field=MONEY)))
    changes, after_end = {}, ZERO
    for row in rows:
        total = row["total"] or ZERO
        if row["day"] > end:
            after_end += total
        else:
            changes[row["day"]] = total
    closing = balance_now - after_end
    return DailyChanges(opening=closing - sum(changes.values(), ZERO), changes=changes).series(start, end)
