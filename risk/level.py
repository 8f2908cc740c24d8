"""The platform's risk level, computed from its books (the seeds' 风险等级评估).

A pure function of the books: everything is read for the window of WINDOW_DAYS business days
ending on `as_of` (inclusive), so the same books and the same `as_of` always give the same
level. Five queries, whatever the history's length. Score 0–100: 0 is no sign of risk, 100 every
sign at its worst. Each factor's value is turned into points by its weight and the value at which
it counts in full:

    points = weight × min(1, value / full_at)     (to 0.01)

  factor                   value over the window                                   weight  full at
  refund_reversal_rate     (refunds + reversals) / payments (direct and held)          25     0.20
  quick_release_share      guaranteed payments released within QUICK_RELEASE_MINUTES
                           of payment / guaranteed payments released                   25     0.50
  suspense_inflow_share    money parked in suspense / all money in (deposits + suspense) 15   0.10
  reserve_shortfall        (required reserve − reserve balance on as_of) / required    15     1.00
  overdue_credit           credit bills past their grace on as_of and unpaid then        15     5
  rule_hits                movements refused or put in review by an enforced outflow
                           rule (risk.services.rules.rule_hits_in_window)                 5    10

Score = Σ points rounded half up (weights add up to 100); level by LEVELS: high from 50, medium
from 20, else low. Fake orders (假造订单) show as refunds and reversals of orders that never
were, and as guaranteed payments released at once (the buyer "confirms" a delivery that never
happened); money nobody can name piles up in suspense; a reserve not funded and credit not repaid
say the platform is short of money. Weights and thresholds are data (FACTORS, LEVELS): change them
here and in README, and every later computation uses them (each assessment keeps its factors)."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, quantize
from credit.models import CreditBill
from ledger.models import AccountKind, EntryType, JournalEntry, Payment, Posting
from merchants.models import RiskLevel

WINDOW_DAYS = 30
QUICK_RELEASE_MINUTES = 10


@dataclass(frozen=True)
class FactorSpec:
    key: str
    label: str
    weight: Decimal
    full_at: Decimal
    rule: str
    note: str = ""


FACTORS = (
    FactorSpec("refund_reversal_rate", _("Refund and reversal rate"), Decimal(25), Decimal("0.20"),
               _("25 × min(1, (refunds + reversals) / payments / 0.20)")),
    FactorSpec("quick_release_share", _("Guaranteed payments released within minutes"), Decimal(25),
               Decimal("0.50"), _("25 × min(1, share released within 10 minutes / 0.50)")),
    FactorSpec("suspense_inflow_share", _("Inflows parked in suspense"), Decimal(15), Decimal("0.10"),
               _("15 × min(1, suspense inflows / all inflows / 0.10)")),
    FactorSpec("reserve_shortfall", _("Risk reserve shortfall"), Decimal(15), Decimal("1.00"),
               _("15 × min(1, (required − reserve balance) / required)")),
    FactorSpec("overdue_credit", _("Overdue credit bills"), Decimal(15), Decimal(5),
               _("15 × min(1, overdue bills / 5)")),
    FactorSpec("rule_hits", _("Outflow rule hits"), Decimal(5), Decimal(10), _("5 × min(1, hits / 10)"),
               note=_("no outflow rules yet: counted as 0")),
)
FACTOR_BY_KEY = {f.key: f for f in FACTORS}
LEVELS = ((50, RiskLevel.HIGH), (20, RiskLevel.MEDIUM), (0, RiskLevel.LOW))

# Where outflow rule hits come from: fn(merchant, start, end) -> int, registered by risk.apps
# (risk.services.rules.rule_hits_in_window); with none registered the factor is 0 with its note.
rule_hit_sources: list = []


@dataclass(frozen=True)
class Assessment:
    as_of: date
    window_days: int
    score: int
    level: str
    factors: tuple  # dicts: key, label, value, points, weight, rule, note (JSON-ready)


def _ratio(part, whole) -> Decimal:
    return Decimal(part) / Decimal(whole) if whole else Decimal(0)


def _points(spec: FactorSpec, value: Decimal) -> Decimal:
    return quantize(spec.weight * min(Decimal(1), max(Decimal(0), value) / spec.full_at))


def level_for(score: int) -> str:
    return next(level for floor, level in LEVELS if score >= floor)


def assess(merchant, *, as_of: date, window_days: int = WINDOW_DAYS) -> Assessment:
    """The merchant's risk on `as_of` from the books of the window ending then."""
    start = as_of - timedelta(days=window_days - 1)
    in_window = Q(business_date__gte=start, business_date__lte=as_of)

    # 1. Payments, refunds and reversals booked in the window.
    counts = JournalEntry.objects.filter(in_window, merchant_id=merchant.pk).aggregate(
        payments=Count("id", filter=Q(entry_type__in=(EntryType.PAYMENT, EntryType.PAYMENT_HOLD))),
        undone=Count("id", filter=Q(entry_type__in=(EntryType.REFUND, EntryType.REVERSAL))))
    undone_rate = _ratio(counts["undone"], counts["payments"]) if counts["payments"] else Decimal(
        1 if counts["undone"] else 0)

    # 2. Guaranteed payments first released in the window (a release entry carries the payment's
    #    order number), and those whose first release came within minutes of the payment.
    releases = JournalEntry.objects.filter(merchant_id=merchant.pk, entry_type=EntryType.PAYMENT_RELEASE,
                                           order_no=OuterRef("order_no")).order_by("created_at", "id")
    released = (Payment.objects.filter(merchant_id=merchant.pk, mode=Payment.Mode.GUARANTEED)
                .annotate(first_at=Subquery(releases.values("created_at")[:1]),
                          first_day=Subquery(releases.values("business_date")[:1]))
                .filter(first_day__gte=start, first_day__lte=as_of)
                .aggregate(total=Count("id"), quick=Count("id", filter=Q(
                    first_at__lte=F("created_at") + timedelta(minutes=QUICK_RELEASE_MINUTES)))))
    quick_share = _ratio(released["quick"], released["total"])

    # 3. Money in: deposits against what was parked in suspense (the supervision account's debits).
    inflows = dict(
        Posting.objects.filter(merchant_id=merchant.pk, account__kind=AccountKind.SUPERVISION, amount__gt=0,
                               entry__business_date__gte=start, entry__business_date__lte=as_of,
                               entry__entry_type__in=(EntryType.DEPOSIT, EntryType.SUSPENSE_IN))
        .values_list("entry__entry_type").annotate(total=Sum("amount")).order_by())
    suspense_in = quantize(Decimal(inflows.get(EntryType.SUSPENSE_IN) or 0))
    all_in = suspense_in + quantize(Decimal(inflows.get(EntryType.DEPOSIT) or 0))
    suspense_share = _ratio(suspense_in, all_in)

    # 4. The reserve on as_of: the balance after its last posting booked by then.
    reserve = (Posting.objects.filter(merchant_id=merchant.pk, account__kind=AccountKind.RISK_RESERVE,
                                      account__member__isnull=True, entry__business_date__lte=as_of)
               .order_by("-id").values_list("balance_after", flat=True).first()) or ZERO
    required = merchant.risk_reserve_required or ZERO
    shortfall = max(required - reserve, ZERO)
    shortfall_share = _ratio(shortfall, required)

    # 5. Credit bills past their grace on as_of and not repaid by then.
    overdue = CreditBill.objects.filter(merchant_id=merchant.pk, business_date__lte=as_of, grace_until__lt=as_of).filter(
        Q(repaid_on__isnull=True) | Q(repaid_on__gt=as_of)).count()

    hits = sum(int(source(merchant, start, as_of)) for source in rule_hit_sources)

    values = {
        "refund_reversal_rate": (undone_rate, f"{counts['undone']} / {counts['payments']}"),
        "quick_release_share": (quick_share, f"{released['quick']} / {released['total']}"),
        "suspense_inflow_share": (suspense_share, f"{suspense_in:.2f} / {all_in:.2f}"),
        "reserve_shortfall": (shortfall_share, f"{shortfall:.2f} / {required:.2f}"),
        "overdue_credit": (Decimal(overdue), str(overdue)),
        "rule_hits": (Decimal(hits), str(hits)),
    }
    factors = []
    for spec in FACTORS:
        value, shown = values[spec.key]
        factors.append({"key": spec.key, "label": str(spec.label), "value": shown,
                        "ratio": f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP)}",
                        "points": str(_points(spec, value)), "weight": str(spec.weight), "rule": str(spec.rule),
                        "note": str(spec.note) if spec.note and not rule_hit_sources else ""})
    total = sum((Decimal(f["points"]) for f in factors), ZERO)
    score = int(min(max(total.quantize(Decimal(1), rounding=ROUND_HALF_UP), Decimal(0)), Decimal(100)))
    return Assessment(as_of=as_of, window_days=window_days, score=score, level=level_for(score),
                      factors=tuple(factors))
