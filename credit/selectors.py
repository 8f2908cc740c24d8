"""Reads of credit shared by the admin, the API and reports."""
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.money import ZERO

from .models import CreditBill, CreditLine, CreditNotification

# Aging buckets by days past the due date (not the grace end): how a bank ages receivables.
AGING_BUCKETS = (
    ("current", _("Current (not yet due)"), None, 0),
    ("1_30", _("1–30 days past due"), 1, 30),
    ("31_60", _("31–60 days past due"), 31, 60),
    ("61_90", _("61–90 days past due"), 61, 90),
    ("90_plus", _("90+ days past due"), 91, None),
)
OUTSTANDING = (F("amount") - F("principal_repaid") + F("penalty_accrued") - F("penalty_repaid"))


def credit_line_for(member) -> CreditLine | None:
    """The member's current (active or suspended) line, or None."""
    return (CreditLine.objects.select_related("creditor_member")
            .filter(merchant_id=member.merchant_id, member=member).exclude(status=CreditLine.Status.CLOSED)
            .first())


def credit_summary(member) -> dict | None:
    """{"limit", "used", "available"} (Decimals) for the balance API, or None without a line.
    A suspended line has nothing available."""
    line = credit_line_for(member)
    if line is None:
        return None
    return {"limit": line.limit, "used": line.used, "available": line.available}


def bills_for(merchant, user_id=None, status=None):
    """A merchant's bills, newest first, optionally of one member (platform user id) and status."""
    qs = (CreditBill.objects.filter(merchant=merchant)
          .select_related("member", "payee", "creditor_member").order_by("-id"))
    if user_id:
        qs = qs.filter(member__user_id=user_id)
    if status:
        if status not in CreditBill.Status.values:
            raise ValidationFailed(_("Unknown status."), field="status",
                                   details={"status": [str(_("One of: %(values)s")
                                                           % {"values": ", ".join(CreditBill.Status.values)})]})
        qs = qs.filter(status=status)
    return qs


def bill_for(merchant, bill_id) -> CreditBill | None:
    return CreditBill.objects.filter(merchant=merchant, pk=bill_id).select_related("member").first()


# --- aging -----------------------------------------------------------------------------------

def days_past_due(bill, as_of: date) -> int:
    return max((as_of - bill.due_date).days, 0)


def aging_bucket(bill, as_of: date) -> str | None:
    """The bucket key of an unpaid bill, None for a repaid one."""
    if bill.status == CreditBill.Status.REPAID:
        return None
    days = days_past_due(bill, as_of)
    for key, _label, low, high in AGING_BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return key
    return None  # pragma: no cover - the buckets cover every day count


def _bucket_q(key: str, as_of: date) -> Q:
    """Bills in one bucket: due_date compared with as_of (days past due = as_of − due_date)."""
    _key, _label, low, high = next(b for b in AGING_BUCKETS if b[0] == key)
    q = Q(status__in=CreditBill.OUTSTANDING_STATUSES)
    if low is not None:
        q &= Q(due_date__lte=as_of - timedelta(days=low))
    if high is not None:
        q &= Q(due_date__gte=as_of - timedelta(days=high))
    return q


def bills_in_bucket(qs, key: str, as_of: date):
    return qs.filter(_bucket_q(key, as_of))


def aging_summary(qs, as_of: date) -> list[dict]:
    """Count and outstanding (principal + penalty) per bucket, in one query."""
    money = DecimalField(max_digits=18, decimal_places=2)
    aggregates = {}
    for key, *_rest in AGING_BUCKETS:
        q = _bucket_q(key, as_of)
        aggregates[f"{key}__count"] = Count("id", filter=q)
        aggregates[f"{key}__amount"] = Sum(Case(When(q, then=OUTSTANDING), default=Value(ZERO), output_field=money))
    row = qs.aggregate(**aggregates)
    return [{"key": key, "label": label, "count": row[f"{key}__count"] or 0,
             "outstanding": Decimal(row[f"{key}__amount"] or 0)}
            for key, label, *_rest in AGING_BUCKETS]


# --- the admin -------------------------------------------------------------------------------

def unread_notifications_for(user):
    return CreditNotification.objects.filter(recipient=user, read_at__isnull=True)


def unread_notifications_badge(request) -> str | None:
    """For the admin sidebar (UNFOLD navigation `badge`): the user's unread credit notices."""
    count = unread_notifications_for(request.user).count()
    return str(count) if count else None


def merchant_credit_panels(merchant) -> list[dict]:
    """The merchant page's credit panel (merchants.hooks.admin_panels)."""
    lines = CreditLine.objects.filter(merchant=merchant).exclude(status=CreditLine.Status.CLOSED)
    totals = lines.aggregate(n=Count("id"), limit=Sum("limit"), used=Sum("used"),
                             suspended=Count("id", filter=Q(status=CreditLine.Status.SUSPENDED)))
    if not totals["n"]:
        return []
    overdue = CreditBill.objects.filter(merchant=merchant, status=CreditBill.Status.OVERDUE).aggregate(
        n=Count("id"), amount=Sum(OUTSTANDING))
    from core.admin_display import money

    return [{
        "title": _("Credit (账期)"),
        "ok": not overdue["n"],
        "headline": _("No overdue bills.") if not overdue["n"] else _("Overdue bills: follow up."),
        "rows": [
            (_("Open credit lines"), str(totals["n"])),
            (_("Suspended lines"), str(totals["suspended"])),
            (_("Total limit"), money(totals["limit"] or ZERO)),
            (_("Used"), money(totals["used"] or ZERO)),
            (_("Overdue bills"), str(overdue["n"])),
            (_("Overdue outstanding"), money(overdue["amount"] or ZERO)),
        ],
    }]


def close_blockers(merchant) -> list:
    """A merchant can't close while its buyers owe credit bills (merchants.hooks.close_checks)."""
    if CreditBill.objects.filter(merchant=merchant, status__in=CreditBill.OUTSTANDING_STATUSES).exists():
        return [_("credit bills are still outstanding")]
    return []


def member_close_blockers(member) -> list:
    """A member can't close while they owe a credit bill or are owed one as its creditor
    (merchants.hooks.member_close_checks)."""
    outstanding = CreditBill.objects.filter(status__in=CreditBill.OUTSTANDING_STATUSES)
    problems = []
    owed = outstanding.filter(member=member).count()
    if owed:
        problems.append(_("%(n)s credit bill(s) are still outstanding") % {"n": owed})
    owing = outstanding.filter(creditor_member=member).count()
    if owing:
        problems.append(_("%(n)s credit bill(s) are still owed to them as creditor") % {"n": owing})
    return problems
