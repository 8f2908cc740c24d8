"""The admin index: one dashboard section per role (a superuser sees every section).

Each section is a fixed number of queries whatever the portfolio's size; money sums are done
by the database. Sections are scoped like the rest of the admin: an RM sees their own
portfolio (merchants.selectors.merchants_visible_to), the other roles see every merchant."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent
from core.money import ZERO
from core.roles import AUDITOR, OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from credit.models import CreditApplication, CreditBill
from credit.selectors import AGING_BUCKETS, OUTSTANDING, aging_summary
from ledger.models import Account, AccountKind, HotBalanceDelta, Withdrawal
from merchants.models import Member, Merchant, WebhookDelivery
from merchants.selectors import merchants_visible_to
from reconciliation.models import EodRun, StatementLine
from risk.selectors.reserve import pending_decisions, short_of_reserve, with_reserve

from .balances import INFLOW_TYPES, daily_balance_series_to_now, supervision_postings
from .common import LIST_LIMIT, MONEY, roles_of, today

CHART_DAYS = 30
AUDIT_EVENTS_SHOWN = 50
LIVE = (Merchant.Status.ACTIVE, Merchant.Status.FROZEN)


def _sum_subquery(qs, field_name: str, by: str = "merchant"):
    """A correlated SUM (0 when nothing matches), for annotating one row per merchant."""
    return Coalesce(Subquery(qs.order_by().values(by).annotate(total=Sum(field_name)).values("total")[:1],
                             output_field=MONEY), Value(ZERO), output_field=MONEY)


def supervision_balance_now():
    """Annotation: the merchant's supervision balance now (materialised + pending hot deltas)."""
    account = Account.objects.filter(merchant=OuterRef("pk"), kind=AccountKind.SUPERVISION, member__isnull=True)
    delta = HotBalanceDelta.objects.filter(merchant=OuterRef("pk"), account__kind=AccountKind.SUPERVISION)
    return (Coalesce(Subquery(account.values("balance")[:1], output_field=MONEY), Value(ZERO), output_field=MONEY)
            + _sum_subquery(delta, "change"))


def chart(kind: str, labels, datasets, **options) -> dict:
    """Chart data as backoffice/charts.js draws it. Amounts stay strings (never floats here)."""
    return {"type": kind, "labels": [str(x) for x in labels],
            "datasets": [{"label": str(d["label"]), "data": [str(v) for v in d["data"]]} for d in datasets],
            "options": options}


# --- relationship manager -------------------------------------------------------------------

@dataclass
class RmDashboard:
    merchants: list
    total_balance: object
    total_inflow: object
    balance_chart: dict
    merchant_drafts: list
    credit_drafts: list
    overdue_bills: list
    overdue_total: object = ZERO
    total_reserve: object = ZERO  # the risk reserves of my merchants
    total_shortfall: object = ZERO  # what they lack of their required reserves


def rm_dashboard(user, *, as_of: date | None = None) -> RmDashboard:
    """My merchants with their supervision balance, 30-day inflow and risk reserve (balance and
    shortfall, annotations of the same query), a chart of their total
    daily balance, what waits on me (merchants and credit applications still in draft or sent
    back), and my overdue bills. Five queries."""
    as_of = as_of or today()
    start = as_of - timedelta(days=CHART_DAYS - 1)
    mine = merchants_visible_to(user)
    inflow = supervision_postings(merchant=OuterRef("pk"), amount__gt=0, entry__entry_type__in=INFLOW_TYPES,
                                  entry__business_date__gte=start, entry__business_date__lte=as_of)
    merchants = list(
        with_reserve(mine).annotate(
            balance=supervision_balance_now(),
            inflow_30=_sum_subquery(inflow, "amount"),
            inflow_30_count=Coalesce(Subquery(inflow.order_by().values("merchant").annotate(n=Count("id"))
                                              .values("n")[:1]), Value(0)),
        ).order_by("code")
    )
    # The chart reads only its window's postings, anchored at the balance now (no sum of the
    # portfolio's whole history on the index page).
    total_balance = sum((m.balance for m in merchants), ZERO)
    series = daily_balance_series_to_now(supervision_postings(merchant__in=mine), start, as_of, total_balance)
    balance_chart = chart("line", [d.isoformat() for d, _v in series],
                          [{"label": _("Total supervision balance"), "data": [v for _d, v in series]}])
    drafts = list(mine.filter(status__in=(Merchant.Status.DRAFT, Merchant.Status.REJECTED))
                  .order_by("-updated_at")[:LIST_LIMIT])
    credit_drafts = list(
        CreditApplication.objects.filter(merchant__in=mine, status=CreditApplication.Status.DRAFT)
        .select_related("merchant", "member").order_by("-updated_at")[:LIST_LIMIT])
    overdue = list(
        CreditBill.objects.filter(merchant__in=mine, status=CreditBill.Status.OVERDUE)
        .select_related("merchant", "member").annotate(owed=OUTSTANDING).order_by("due_date")[:LIST_LIMIT])
    return RmDashboard(
        merchants=merchants,
        total_balance=total_balance,
        total_inflow=sum((m.inflow_30 for m in merchants), ZERO),
        balance_chart=balance_chart, merchant_drafts=drafts, credit_drafts=credit_drafts, overdue_bills=overdue,
        overdue_total=sum((b.owed for b in overdue), ZERO),
        total_reserve=sum((m.reserve_balance for m in merchants), ZERO),
        total_shortfall=sum((m.reserve_shortfall for m in merchants), ZERO),
    )


# --- risk officer ---------------------------------------------------------------------------

@dataclass
class RiskDashboard:
    merchants_submitted: list
    new_lines: list
    limit_changes: list
    withdrawals: list
    counts: dict
    frozen_merchants: list
    frozen_members: list
    aging: list
    aging_chart: dict
    eod_differences: list
    reserve_shortfalls: list = field(default_factory=list)  # merchants short of their risk reserve
    reserve_decisions: list = field(default_factory=list)  # reserve decisions awaiting a second approval


def _age_days(moment, as_of: date) -> int | None:
    if moment is None:
        return None
    from django.utils import timezone

    return (as_of - timezone.localtime(moment).date()).days


def risk_dashboard(user, *, as_of: date | None = None) -> RiskDashboard:
    """Approvals waiting (merchants submitted, credit applications and limit changes, large
    withdrawals), frozen merchants and members with reason and age, overdue credit by aging
    bucket, merchants whose last end of day found differences, merchants short of their risk
    reserve and the reserve decisions awaiting a second approval. Eleven queries."""
    as_of = as_of or today()
    visible = merchants_visible_to(user)
    submitted = list(visible.filter(status=Merchant.Status.SUBMITTED).select_related("relationship_manager")
                     .order_by("updated_at")[:LIST_LIMIT])
    pending_apps = list(
        CreditApplication.objects.filter(merchant__in=visible, status__in=(CreditApplication.Status.SUBMITTED,
                                                                           CreditApplication.Status.RM_REVIEWED))
        .select_related("merchant", "member").order_by("updated_at")[:2 * LIST_LIMIT])
    withdrawals = list(Withdrawal.objects.filter(merchant__in=visible, status=Withdrawal.Status.PENDING_APPROVAL)
                       .select_related("merchant", "member").order_by("created_at")[:LIST_LIMIT])
    counts = {
        "merchants": visible.filter(status=Merchant.Status.SUBMITTED).count(),
        **CreditApplication.objects.filter(
            merchant__in=visible, status__in=(CreditApplication.Status.SUBMITTED,
                                              CreditApplication.Status.RM_REVIEWED)).aggregate(
            new_lines=Count("id", filter=Q(kind=CreditApplication.Kind.NEW_LINE)),
            limit_changes=Count("id", filter=Q(kind=CreditApplication.Kind.LIMIT_CHANGE))),
    }
    frozen_merchants = list(visible.filter(status=Merchant.Status.FROZEN).order_by("frozen_at")[:LIST_LIMIT])
    frozen_members = list(Member.objects.filter(merchant__in=visible, status=Member.Status.FROZEN)
                          .select_related("merchant").order_by("frozen_at")[:LIST_LIMIT])
    for row in frozen_merchants + frozen_members:
        row.age_days = _age_days(row.frozen_at, as_of)
    aging = aging_summary(CreditBill.objects.filter(merchant__in=visible), as_of)
    aging_chart = chart("bar", [b["label"] for b in aging],
                        [{"label": _("Outstanding"), "data": [b["outstanding"] for b in aging]}])
    latest = EodRun.objects.filter(merchant=OuterRef("merchant")).order_by("-business_date").values("business_date")[:1]
    eod = list(EodRun.objects.filter(merchant__in=visible, status=EodRun.Status.DISCREPANCIES,
                                     business_date=Subquery(latest)).select_related("merchant")
               .order_by("-business_date", "merchant__code")[:LIST_LIMIT])
    counts["withdrawals"] = Withdrawal.objects.filter(merchant__in=visible,
                                                      status=Withdrawal.Status.PENDING_APPROVAL).count()
    return RiskDashboard(
        merchants_submitted=submitted,
        new_lines=[a for a in pending_apps if a.kind == CreditApplication.Kind.NEW_LINE][:LIST_LIMIT],
        limit_changes=[a for a in pending_apps if a.kind == CreditApplication.Kind.LIMIT_CHANGE][:LIST_LIMIT],
        withdrawals=withdrawals, counts=counts, frozen_merchants=frozen_merchants, frozen_members=frozen_members,
        aging=aging, aging_chart=aging_chart, eod_differences=eod,
        reserve_shortfalls=short_of_reserve(visible), reserve_decisions=pending_decisions(visible),
    )


# --- operations -----------------------------------------------------------------------------

@dataclass
class OpsDashboard:
    eod_date: date
    eod_rows: list
    eod_counts: dict
    unmatched: dict
    unmatched_lines: list
    withdrawal_counts: dict
    withdrawal_queue: list
    failed_webhooks: list
    failed_webhook_count: int = 0
    integrity: "IntegrityStatus | None" = None


# A nightly check that has not passed for this long is itself an alert (beat or the worker is
# down, or the check keeps dying): a day and a half leaves room for one slow night.
INTEGRITY_STALE_AFTER = timedelta(hours=36)


@dataclass
class IntegrityStatus:
    """The latest finished integrity check (the nightly full proof of the books) and whether the
    operations dashboard must alert: it did not pass, or none passed within INTEGRITY_STALE_AFTER."""

    last: object | None  # backoffice.models.IntegrityCheck
    last_passed_at: object | None
    alert: bool
    reason: str = ""


def integrity_status(now=None) -> IntegrityStatus:
    """One query: the latest finished check, with the time the latest passing one finished."""
    from django.utils import timezone

    from ..models import IntegrityCheck

    now = now or timezone.now()
    passed = (IntegrityCheck.objects.filter(status=IntegrityCheck.Status.PASSED)
              .order_by("-started_at", "-id").values("finished_at")[:1])
    last = (IntegrityCheck.objects.exclude(status=IntegrityCheck.Status.RUNNING)
            .annotate(last_passed_at=Subquery(passed)).order_by("-started_at", "-id").first())
    if last is None:
        return IntegrityStatus(last=None, last_passed_at=None, alert=False, reason=str(_("Not run yet.")))
    if not last.ok:
        reason = (_("Integrity break: %(check)s at %(where)s: %(detail)s")
                  % {"check": last.check_name, "where": last.location, "detail": last.detail}
                  if last.status == IntegrityCheck.Status.FAILED
                  else _("The check could not finish: %(detail)s") % {"detail": last.detail})
        return IntegrityStatus(last=last, last_passed_at=last.last_passed_at, alert=True, reason=str(reason))
    if last.finished_at is None or now - last.finished_at > INTEGRITY_STALE_AFTER:
        return IntegrityStatus(last=last, last_passed_at=last.last_passed_at, alert=True,
                               reason=str(_("No integrity check has passed for more than %(hours)d hours: is Celery "
                                            "beat running?") % {"hours": INTEGRITY_STALE_AFTER.total_seconds() // 3600}))
    return IntegrityStatus(last=last, last_passed_at=last.last_passed_at, alert=False,
                           reason=str(_("Passed: audit chain, entries, balances, total = sum of parts.")))


def last_working_day_before(day: date) -> date:
    """The business date the night's end of day reconciles: the working day before `day`."""
    from ledger.models import BusinessDay

    overrides = dict(BusinessDay.objects.filter(date__lt=day, date__gte=day - timedelta(days=40))
                     .values_list("date", "is_working_day"))
    candidate = day - timedelta(days=1)
    for _i in range(40):
        working = overrides.get(candidate, candidate.weekday() < 5)
        if working:
            return candidate
        candidate -= timedelta(days=1)
    return day - timedelta(days=1)


QUEUE_STATUSES = (Withdrawal.Status.PENDING_APPROVAL, Withdrawal.Status.APPROVED, Withdrawal.Status.PROCESSING)


def ops_dashboard(user, *, as_of: date | None = None) -> OpsDashboard:
    """Today's end of day per merchant (the run for the last working day), unmatched statement
    lines and their amount, the withdrawal queue, failed webhook deliveries, the last nightly
    integrity check. Nine queries."""
    as_of = as_of or today()
    eod_date = last_working_day_before(as_of)
    visible = merchants_visible_to(user)
    run = EodRun.objects.filter(merchant=OuterRef("pk"), business_date=eod_date)
    rows = list(visible.filter(status__in=LIVE).annotate(
        run_id=Subquery(run.values("pk")[:1]), run_status=Subquery(run.values("status")[:1]),
        run_differences=Subquery(run.values("differences")[:1]),
    ).order_by("code"))
    for row in rows:
        row.run_status_label = EodRun.Status(row.run_status).label if row.run_status else _("Not run yet")
    eod_counts = {"balanced": sum(r.run_status == EodRun.Status.BALANCED for r in rows),
                  "discrepancies": sum(r.run_status == EodRun.Status.DISCREPANCIES for r in rows),
                  "running": sum(r.run_status == EodRun.Status.RUNNING for r in rows),
                  "not_run": sum(r.run_status is None for r in rows)}
    lines = StatementLine.objects.filter(merchant__in=visible, status=StatementLine.Status.UNMATCHED)
    unmatched = lines.aggregate(
        count=Count("id"), amount_in=Coalesce(Sum("amount", filter=Q(amount__gt=0)), Value(ZERO), output_field=MONEY),
        amount_out=Coalesce(Sum("amount", filter=Q(amount__lt=0)), Value(ZERO), output_field=MONEY),
        oldest=Min("value_date"))
    unmatched_lines = list(lines.select_related("merchant").order_by("value_date", "id")[:LIST_LIMIT])
    for line in unmatched_lines:
        line.age_days = (as_of - line.value_date).days
    queue = Withdrawal.objects.filter(merchant__in=visible, status__in=QUEUE_STATUSES)
    withdrawal_counts = {row["status"]: {"count": row["n"], "amount": row["amount"]}
                         for row in queue.order_by().values("status").annotate(n=Count("id"), amount=Sum("amount"))}
    withdrawal_queue = list(queue.select_related("merchant", "member").order_by("created_at")[:LIST_LIMIT])
    failed = WebhookDelivery.objects.filter(merchant__in=visible, status=WebhookDelivery.Status.FAILED)
    failed_list = list(failed.select_related("merchant").order_by("-created_at")[:LIST_LIMIT])
    return OpsDashboard(eod_date=eod_date, eod_rows=rows, eod_counts=eod_counts, unmatched=unmatched,
                        unmatched_lines=unmatched_lines, withdrawal_counts=withdrawal_counts,
                        withdrawal_queue=withdrawal_queue, failed_webhooks=failed_list,
                        failed_webhook_count=failed.count(), integrity=integrity_status())


# --- auditor --------------------------------------------------------------------------------

@dataclass
class AuditDashboard:
    events: list
    actions: list
    filters: dict = field(default_factory=dict)


AUDIT_FILTERS = ("actor", "object", "action")


def audit_dashboard(user, *, actor: str = "", obj: str = "", action: str = "") -> AuditDashboard:
    """The latest audit events, filtered by actor (name), object (its text or id) and action
    (exact). Two queries."""
    qs = AuditEvent.objects.select_related("content_type").order_by("-id")
    actor, obj, action = (actor or "").strip(), (obj or "").strip(), (action or "").strip()
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if obj:
        qs = qs.filter(Q(object_repr__icontains=obj) | Q(object_id=obj) | Q(content_type__model=obj.lower()))
    if action:
        qs = qs.filter(action=action)
    actions = list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
    return AuditDashboard(events=list(qs[:AUDIT_EVENTS_SHOWN]), actions=actions,
                          filters={"actor": actor, "object": obj, "action": action})


# --- the index ------------------------------------------------------------------------------

@dataclass
class BalanceAlerts:
    """The open balance-monitor alerts (risk.models.MonitorAlert), newest first: one panel that
    risk and operations share. One query (two when more are open than the panel shows)."""

    alerts: list
    count: int


def balance_alerts(user) -> BalanceAlerts:
    from risk.selectors import open_alerts

    alerts, count = open_alerts(merchants_visible_to(user))
    return BalanceAlerts(alerts=alerts, count=count)


def _overdue_payouts(user):
    """Withdrawals not paid the working day after their value date (payouts.selectors)."""
    from payouts.selectors import overdue_withdrawals

    return overdue_withdrawals(merchants_visible_to(user), as_of=today())


def dashboards_for(user, params=None) -> dict:
    """{"rm": RmDashboard, "risk": ..., "ops": ..., "alerts": ..., "audit": ...} for the roles the user has."""
    params = params or {}
    roles = roles_of(user)
    result = {}
    if RELATIONSHIP_MANAGER in roles:
        result["rm"] = rm_dashboard(user)
    if RISK_OFFICER in roles:
        result["risk"] = risk_dashboard(user)
    if OPERATIONS in roles:
        result["ops"] = ops_dashboard(user)
        result["overdue_payouts"] = _overdue_payouts(user)
    if RISK_OFFICER in roles or OPERATIONS in roles:
        result["alerts"] = balance_alerts(user)
    if AUDITOR in roles:
        result["audit"] = audit_dashboard(user, actor=params.get("audit_actor", ""),
                                          obj=params.get("audit_object", ""), action=params.get("audit_action", ""))
    return result


AGING_KEYS = [key for key, *_rest in AGING_BUCKETS]
