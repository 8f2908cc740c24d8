"""Credit score (0–100) and suggested limit, from the member's own trade history in the ledger.

Deterministic: everything is read as of a fixed date `as_of` (inclusive; dates are business
dates of the ledger entries and bills), so the same books and the same `as_of` always give the
same score. Three queries, whatever the history's length.

What counts as trade
  * Payments the member made or received: journal entries of type `payment` (direct),
    `payment_hold` (a guaranteed payment leaving the buyer) and `payment_release` (reaching
    the seller) that post to the member's accounts, at their absolute amount; `refund`
    postings to the member's accounts count negatively (a refunded sale is no sale).
  * Credit bills (drawdowns) where the member is the buyer or the payee, at their principal.
  Deposits, withdrawals, holds and repayments are not trade.

Factors (points; each factor's value and points are shown to the approver)
  V90   trade volume in the 90 days ending on as_of      20 × min(1, V90 / 500,000.00)
  V180  trade volume in the 180 days ending on as_of     20 × min(1, V180 / 1,000,000.00)
  N     distinct counterparties in those 180 days        15 × min(1, N / 10)
        (other members posted in, or named as payer/payee of, the member's trade entries;
        the other party of the member's bills)
  M     months active: calendar months, among the 12 ending with as_of's month, with at
        least one trade                                  15 × M / 12
  T     bills repaid on time: repaid (on or before as_of) no later than due date + grace
                                                         15 × min(1, T / 5)
  O     overdue bills: bills whose due date + grace passed before as_of unpaid, or that were
        repaid after it                                  15 − 5 × O, but at least −15
  Points are kept to 0.01; score = Σ points rounded half up to a whole number, then held
  within 0–100. A member with no history scores 15 (the clean record only).

Suggested limit
  0 when the score is below 40 (not recommended); otherwise the average daily volume of the
  last 180 days × the term in days × score / 100, rounded down to a multiple of 100.00:
      floor_100( V180 / 180 × term_days × score / 100 )
  i.e. roughly the purchases a term's worth of trading needs, scaled by the score."""
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, quantize
from ledger.models import EntryType, Posting

TRADE_TYPES = (EntryType.PAYMENT, EntryType.PAYMENT_HOLD, EntryType.PAYMENT_RELEASE)
NEGATIVE_TYPES = (EntryType.REFUND,)

VOLUME_90_FULL = Decimal("500000.00")
VOLUME_180_FULL = Decimal("1000000.00")
COUNTERPARTIES_FULL = 10
ON_TIME_FULL = 5
OVERDUE_STEP = Decimal(5)
MIN_SCORE_FOR_CREDIT = 40
LIMIT_ROUNDING = Decimal(100)


@dataclass(frozen=True)
class Factor:
    key: str
    label: str
    value: str
    points: Decimal
    max_points: Decimal
    rule: str


@dataclass(frozen=True)
class Score:
    as_of: date
    term_days: int
    score: int
    suggested_limit: Decimal
    factors: tuple

    def factors_as_json(self) -> list[dict]:
        return [{**asdict(f), "label": str(f.label), "rule": str(f.rule), "points": str(f.points),
                 "max_points": str(f.max_points)} for f in self.factors]


def _points(max_points: int, ratio: Decimal) -> Decimal:
    return quantize(Decimal(max_points) * min(Decimal(1), ratio))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def score_member(member, *, as_of: date, term_days: int = 30) -> Score:
    """The score of `member` on `as_of` (see the module docstring for the formula)."""
    start_90 = as_of - timedelta(days=89)
    start_180 = as_of - timedelta(days=179)
    first_month = _month_index(as_of) - 11
    start_12m = date(first_month // 12, first_month % 12 + 1, 1)
    window_start = min(start_180, start_12m)

    # 1. The member's trade postings in the window.
    trade = Q(entry__entry_type__in=TRADE_TYPES + NEGATIVE_TYPES)
    postings = list(
        Posting.objects.filter(trade, account__member_id=member.pk, entry__business_date__gte=window_start,
                               entry__business_date__lte=as_of)
        .values_list("entry_id", "entry__entry_type", "amount", "entry__business_date", "entry__payer_id",
                     "entry__payee_id")
    )
    # 2. The other members in the member's trade entries of the last 180 days.
    own_entries = Posting.objects.filter(trade, account__member_id=member.pk, entry__business_date__gte=start_180,
                                         entry__business_date__lte=as_of).values("entry_id")
    counterparties = set(
        Posting.objects.filter(entry_id__in=own_entries, account__member_id__isnull=False)
        .exclude(account__member_id=member.pk).values_list("account__member_id", flat=True).distinct()
    )
    # 3. Bills where the member is the buyer or the payee, drawn by as_of.
    from .models import CreditBill

    bills = list(
        CreditBill.objects.filter(Q(member_id=member.pk) | Q(payee_id=member.pk), business_date__lte=as_of)
        .values_list("member_id", "payee_id", "amount", "business_date", "grace_until", "repaid_on")
    )

    volume_90 = volume_180 = ZERO
    months = set()
    for _entry, entry_type, amount, day, payer_id, payee_id in postings:
        signed = -abs(amount) if entry_type in NEGATIVE_TYPES else abs(amount)
        if day >= start_180:
            volume_180 += signed
            counterparties.update(p for p in (payer_id, payee_id) if p)
        if day >= start_90:
            volume_90 += signed
        if entry_type not in NEGATIVE_TYPES and day >= start_12m:
            months.add(_month_index(day))
    on_time = overdue = 0
    for buyer_id, payee_id, amount, day, grace_until, repaid_on in bills:
        if day >= start_180:
            volume_180 += amount
            counterparties.add(payee_id if buyer_id == member.pk else buyer_id)
        if day >= start_90:
            volume_90 += amount
        if day >= start_12m:
            months.add(_month_index(day))
        if buyer_id != member.pk:
            continue
        if repaid_on is not None and repaid_on <= as_of and repaid_on <= grace_until:
            on_time += 1
        elif grace_until < as_of and (repaid_on is None or repaid_on > grace_until):
            overdue += 1
    counterparties.discard(member.pk)
    volume_90, volume_180 = max(volume_90, ZERO), max(volume_180, ZERO)

    factors = (
        Factor("volume_90", _("Trade volume, last 90 days"), f"{volume_90:.2f}",
               _points(20, volume_90 / VOLUME_90_FULL), Decimal(20), _("20 × min(1, volume / 500,000)")),
        Factor("volume_180", _("Trade volume, last 180 days"), f"{volume_180:.2f}",
               _points(20, volume_180 / VOLUME_180_FULL), Decimal(20), _("20 × min(1, volume / 1,000,000)")),
        Factor("counterparties", _("Distinct counterparties, last 180 days"), str(len(counterparties)),
               _points(15, Decimal(len(counterparties)) / COUNTERPARTIES_FULL), Decimal(15),
               _("15 × min(1, counterparties / 10)")),
        Factor("months_active", _("Months active, last 12"), str(len(months)),
               _points(15, Decimal(len(months)) / 12), Decimal(15), _("15 × months / 12")),
        Factor("repaid_on_time", _("Bills repaid on time"), str(on_time),
               _points(15, Decimal(on_time) / ON_TIME_FULL), Decimal(15), _("15 × min(1, bills / 5)")),
        Factor("overdue", _("Overdue bills"), str(overdue),
               quantize(max(Decimal(15) - OVERDUE_STEP * overdue, Decimal(-15))), Decimal(15),
               _("15 − 5 × overdue bills, at least −15")),
    )
    total = sum((f.points for f in factors), ZERO)
    score = int(min(max(total.quantize(Decimal(1), rounding=ROUND_HALF_UP), Decimal(0)), Decimal(100)))
    return Score(as_of=as_of, term_days=term_days, score=score,
                 suggested_limit=suggested_limit(volume_180=volume_180, term_days=term_days, score=score),
                 factors=factors)


def suggested_limit(*, volume_180: Decimal, term_days: int, score: int) -> Decimal:
    if score < MIN_SCORE_FOR_CREDIT:
        return ZERO
    raw = volume_180 * term_days * score / (180 * 100)  # one division: no rounding on the way
    return quantize((raw / LIMIT_ROUNDING).to_integral_value(rounding=ROUND_FLOOR) * LIMIT_ROUNDING)
