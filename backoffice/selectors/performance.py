"""RM performance (绩效考核数据): per relationship manager and period (month 2026-11, quarter
2026Q4, year 2026), the figures the bank's appraisal system takes.

- merchants managed (activated on or before the period's last day) and newly activated in it;
- average daily supervision balance (日均余额): the mean, over the period's days up to today,
  of the end-of-day supervision balance of the RM's merchants, computed from postings;
- period-end balance: the end-of-day balance of the last day (or of today, for a running period);
- inflow: money that arrived at the bank (deposits credited, unidentified inflows), amount and count;
- payment volume and count (payments booked in the period, gross of refunds);
- credit lines granted (new lines whose approval opened them in the period, at the approved
  limit) and credit used (principal drawn in the period);
- overdue: principal past due date and grace at the period's end and not repaid by then;
- risk reserve (风险保证金): the reserves of the RM's merchants at the period's end (from postings),
  and their shortfall: per merchant, the required reserve (the policy in force now, which the
  snapshot taken the night after the period ended fixes) less its period-end reserve, never below 0.
Dates are business dates, merchants belong to the RM they are assigned to now. Every figure
is one grouped query for all RMs (set-based), eleven queries in all."""
import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.money import ZERO, quantize
from core.roles import RELATIONSHIP_MANAGER
from credit.models import CreditApplication, CreditBill, Repayment
from ledger.models import AccountKind, Payment, Posting
from merchants.models import Merchant

from .balances import INFLOW_TYPES, daily_changes, supervision_postings
from .common import MONEY, today

RM = "merchant__relationship_manager"


@dataclass(frozen=True)
class Period:
    key: str
    kind: str  # month | quarter | year
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self):
        return self.key


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def parse_period(text: str) -> Period:
    """2026-11 (month), 2026Q4 or 2026-Q4 (quarter), 2026 (year)."""
    value = (text or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(f"{year}-{month:02d}", "month", date(year, month, 1), _month_end(year, month))
    elif m := re.fullmatch(r"(\d{4})-?Q([1-4])", value):
        year, quarter = int(m[1]), int(m[2])
        return Period(f"{year}Q{quarter}", "quarter", date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter))
    elif re.fullmatch(r"\d{4}", value):
        year = int(value)
        return Period(str(year), "year", date(year, 1, 1), date(year, 12, 31))
    raise ValidationFailed(_("A period is a month (2026-11), a quarter (2026Q4) or a year (2026)."),
                           field="period")


def current_period(kind: str = "month", *, as_of: date | None = None) -> Period:
    day = as_of or today()
    if kind == "year":
        return parse_period(str(day.year))
    if kind == "quarter":
        return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    return parse_period(f"{day.year}-{day.month:02d}")


def previous_period(period: Period) -> Period:
    day = period.start - timedelta(days=1)
    return current_period(period.kind, as_of=day)


# The figures, in the order of the screen, the exports and the snapshot's columns.
METRICS = [
    ("merchants_managed", _("Merchants managed"), "count"),
    ("merchants_activated", _("Newly activated"), "count"),
    ("average_daily_balance", _("Average daily balance (日均余额)"), "money"),
    ("period_end_balance", _("Period-end balance"), "money"),
    ("inflow_amount", _("Inflow"), "money"),
    ("inflow_count", _("Inflow count"), "count"),
    ("payment_amount", _("Payment volume"), "money"),
    ("payment_count", _("Payment count"), "count"),
    ("credit_granted_count", _("Credit lines granted"), "count"),
    ("credit_granted_amount", _("Credit granted"), "money"),
    ("credit_used_amount", _("Credit used"), "money"),
    ("overdue_amount", _("Overdue"), "money"),
    ("reserve_balance", _("Risk reserve, period end"), "money"),
    ("reserve_shortfall", _("Risk reserve shortfall"), "money"),
]
METRIC_NAMES = [name for name, _label, _kind in METRICS]


@dataclass
class RmPerformance:
    rm_id: int
    username: str
    name: str
    merchants_managed: int = 0
    merchants_activated: int = 0
    average_daily_balance: Decimal = ZERO
    period_end_balance: Decimal = ZERO
    inflow_amount: Decimal = ZERO
    inflow_count: int = 0
    payment_amount: Decimal = ZERO
    payment_count: int = 0
    credit_granted_count: int = 0
    credit_granted_amount: Decimal = ZERO
    credit_used_amount: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    reserve_balance: Decimal = ZERO
    reserve_shortfall: Decimal = ZERO
    snapshot: object = field(default=None, repr=False)

    def values(self) -> dict:
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def differences(self) -> dict:
        """Live minus snapshot, per figure (empty without a snapshot)."""
        if self.snapshot is None:
            return {}
        return {name: getattr(self, name) - getattr(self.snapshot, name) for name in METRIC_NAMES}

    @property
    def changed_since_snapshot(self) -> bool:
        return any(self.differences().values())


def relationship_managers(rm_ids=None):
    """Staff in the RM role and anyone a merchant is assigned to."""
    qs = get_user_model().objects.filter(Q(groups__name=RELATIONSHIP_MANAGER) | Q(managed_merchants__isnull=False))
    if rm_ids is not None:
        qs = qs.filter(pk__in=rm_ids)
    return qs.distinct().order_by("username")


def _grouped(qs, key: str, **aggregates) -> dict:
    return {row[key]: row for row in qs.order_by().values(key).annotate(**aggregates)}


def performance(period: Period, *, as_of: date | None = None, rm_ids=None) -> list[RmPerformance]:
    """Live figures of every RM (or of the given ones) for the period, computed now."""
    last = min(period.end, as_of or today())
    rows = [RmPerformance(rm_id=u.pk, username=u.get_username(), name=u.get_full_name() or u.get_username())
            for u in relationship_managers(rm_ids)]
    if not rows or last < period.start:
        return rows
    start = period.start
    in_period = {"entry__business_date__gte": start, "entry__business_date__lte": last}

    merchants = _grouped(Merchant.objects.all(), "relationship_manager",
                         managed=Count("id", filter=Q(activated_at__date__lte=last)),
                         activated=Count("id", filter=Q(activated_at__date__gte=start, activated_at__date__lte=last)))
    balances = daily_changes(supervision_postings(), start, last, group=RM)
    inflow = _grouped(supervision_postings(amount__gt=0, entry__entry_type__in=INFLOW_TYPES, **in_period), RM,
                      amount=Sum("amount", output_field=MONEY), n=Count("id"))
    payments = _grouped(Payment.objects.filter(**in_period), RM, amount=Sum("amount", output_field=MONEY),
                        n=Count("id"))
    granted = _grouped(CreditApplication.objects.filter(kind=CreditApplication.Kind.NEW_LINE,
                                                        status=CreditApplication.Status.APPROVED,
                                                        line__created_at__date__gte=start,
                                                        line__created_at__date__lte=last), RM,
                       amount=Sum("proposed_limit", output_field=MONEY), n=Count("id"))
    used = _grouped(CreditBill.objects.filter(business_date__gte=start, business_date__lte=last), RM,
                    amount=Sum("amount", output_field=MONEY))
    # Overdue at the end: principal of bills past grace, less what was repaid by then (a bill
    # repaid in full adds nothing).
    past_grace = _grouped(CreditBill.objects.filter(grace_until__lt=last), RM, amount=Sum("amount", output_field=MONEY))
    repaid = _grouped(Repayment.objects.filter(bill__grace_until__lt=last, business_date__lte=last),
                      "bill__" + RM, amount=Sum("principal_part", output_field=MONEY))

    reserves = _reserves_at(last)

    days = (last - start).days + 1
    for row in rows:
        row.reserve_balance, row.reserve_shortfall = reserves.get(row.rm_id, (ZERO, ZERO))
        m = merchants.get(row.rm_id, {})
        row.merchants_managed, row.merchants_activated = m.get("managed", 0), m.get("activated", 0)
        series = balances[row.rm_id].series(start, last) if row.rm_id in balances else []
        if series:
            row.average_daily_balance = quantize(sum((v for _d, v in series), ZERO) / Decimal(days))
            row.period_end_balance = series[-1][1]
        row.inflow_amount = (inflow.get(row.rm_id) or {}).get("amount") or ZERO
        row.inflow_count = (inflow.get(row.rm_id) or {}).get("n", 0)
        row.payment_amount = (payments.get(row.rm_id) or {}).get("amount") or ZERO
        row.payment_count = (payments.get(row.rm_id) or {}).get("n", 0)
        row.credit_granted_amount = (granted.get(row.rm_id) or {}).get("amount") or ZERO
        row.credit_granted_count = (granted.get(row.rm_id) or {}).get("n", 0)
        row.credit_used_amount = (used.get(row.rm_id) or {}).get("amount") or ZERO
        row.overdue_amount = (((past_grace.get(row.rm_id) or {}).get("amount") or ZERO)
                              - ((repaid.get(row.rm_id) or {}).get("amount") or ZERO))
    return rows


def _reserves_at(last: date) -> dict:
    """RM id -> (Σ reserves at the end of `last`, Σ per-merchant shortfall against the requirement). Two queries."""
    reserve = {row["merchant_id"]: -(row["total"] or ZERO) for row in Posting.objects.filter(
        account__kind=AccountKind.RISK_RESERVE, account__member__isnull=True, entry__business_date__lte=last)
        .order_by().values("merchant_id").annotate(total=Sum("amount", output_field=MONEY))}
    result: dict = {}
    for merchant_id, rm_id, required in Merchant.objects.filter(
            Q(pk__in=list(reserve)) | Q(risk_reserve_required__gt=0)).values_list(
            "pk", "relationship_manager_id", "risk_reserve_required"):
        held = reserve.get(merchant_id, ZERO)
        balance, shortfall = result.get(rm_id, (ZERO, ZERO))
        result[rm_id] = (balance + held, shortfall + max((required or ZERO) - held, ZERO))
    return result


def with_snapshots(period: Period, rows: list[RmPerformance]) -> list[RmPerformance]:
    """Attach each RM's snapshot of the period, if one was taken (one query)."""
    from ..models import PerformanceSnapshot

    snaps = {s.relationship_manager_id: s for s in PerformanceSnapshot.objects.filter(period=period.key)}
    for row in rows:
        row.snapshot = snaps.get(row.rm_id)
    return rows


def official_values(row: RmPerformance) -> tuple[dict, str]:
    """What the appraisal system takes: the snapshot's figures once there is one, else live."""
    if row.snapshot is not None:
        return {name: getattr(row.snapshot, name) for name in METRIC_NAMES}, "snapshot"
    return row.values(), "live"


def chart_for(rows: list[RmPerformance]) -> dict:
    from .dashboards import chart

    return chart("bar", [r.name for r in rows], [
        {"label": _("Average daily balance (日均余额)"), "data": [r.average_daily_balance for r in rows]},
        {"label": _("Inflow"), "data": [r.inflow_amount for r in rows]},
        {"label": _("Payment volume"), "data": [r.payment_amount for r in rows]},
    ])


SNAPSHOT_FIELDS = [f.name for f in fields(RmPerformance) if f.name in METRIC_NAMES]
