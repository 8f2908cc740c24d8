"""Merchant 360: everything about one merchant on one page, for the staff who may see it (an
RM only their own: anything else is "not found")."""
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.audit_labels import labelled_timeline
from core.money import ZERO
from credit.models import CreditBill, CreditLine
from credit.selectors import OUTSTANDING
from ledger.models import Deposit, JournalEntry, Payment, Posting, Withdrawal
from ledger.selectors import balance_totals
from merchants.selectors import merchants_visible_to
from reconciliation.models import EodRun
from reconciliation.selectors import exception_queue, open_cases

from .balances import daily_balance_series_to_now, supervision_postings
from .common import LIST_LIMIT, MONEY, today
from .dashboards import IntegrityStatus, integrity_status

HISTORY_DAYS = 90
RECENT = 15


@dataclass
class Merchant360:
    merchant: object
    timeline: list
    totals: object  # ledger.selectors.BalanceTotals: from balances, never a sum of every posting
    balances: dict
    balance_series: list
    entries: list
    deposits: list
    withdrawals: list
    payments: list
    credit: dict
    overdue_bills: list
    eod_runs: list
    cases: list
    exception_lines: int
    integrity: IntegrityStatus | None = None

    @property
    def member_total(self):
        return self.balances.get("member_available", ZERO) + self.balances.get("member_frozen", ZERO)

    @property
    def last_proof(self):
        """The latest finished end of day: its full proof (every balance = Σ its postings)."""
        return next((r for r in self.eod_runs if r.status != EodRun.Status.RUNNING), None)


def visible_merchant(user, merchant_id):
    merchant = (merchants_visible_to(user).select_related("relationship_manager", "submitted_by", "decided_by")
                .filter(pk=merchant_id).first())
    if merchant is None:
        raise Http404
    return merchant


def merchant_360(user, merchant_id, *, as_of: date | None = None) -> Merchant360:
    """A fixed number of queries (about twenty) whatever the merchant's size, none of which
    reads the merchant's whole history: totals come from balances (plus pending hot deltas),
    the balance chart from the last 90 days' postings, the full proof from the last end of day
    and the nightly integrity check."""
    merchant = visible_merchant(user, merchant_id)
    as_of = as_of or today()
    start = as_of - timedelta(days=HISTORY_DAYS - 1)
    postings = Prefetch("postings", queryset=Posting.objects.select_related("account", "account__member")
                        .order_by("id"))
    entries = list(JournalEntry.objects.filter(merchant=merchant).select_related("payer", "payee")
                   .prefetch_related(postings).order_by("-id")[:RECENT])
    lines = CreditLine.objects.filter(merchant=merchant).exclude(status=CreditLine.Status.CLOSED)
    credit = lines.aggregate(lines=Count("id"), limit=Sum("limit"), used=Sum("used"),
                             suspended=Count("id", filter=Q(status=CreditLine.Status.SUSPENDED)))
    bills = CreditBill.objects.filter(merchant=merchant, status__in=CreditBill.OUTSTANDING_STATUSES)
    credit.update(bills.aggregate(outstanding=Sum(OUTSTANDING, output_field=MONEY),
                                  overdue=Sum(OUTSTANDING, filter=Q(status=CreditBill.Status.OVERDUE),
                                              output_field=MONEY),
                                  overdue_bills=Count("id", filter=Q(status=CreditBill.Status.OVERDUE))))
    for key in ("limit", "used", "outstanding", "overdue"):
        credit[key] = credit[key] or ZERO
    totals = balance_totals(merchant)
    return Merchant360(
        merchant=merchant,
        timeline=labelled_timeline(merchant),
        totals=totals,
        balances=totals.balances,
        balance_series=daily_balance_series_to_now(supervision_postings(merchant=merchant), start, as_of,
                                                   totals.supervision_balance),
        entries=entries,
        deposits=list(Deposit.objects.filter(merchant=merchant).select_related("member").order_by("-id")[:RECENT]),
        withdrawals=list(Withdrawal.objects.filter(merchant=merchant).select_related("member")
                         .order_by("-id")[:RECENT]),
        payments=list(Payment.objects.filter(merchant=merchant).select_related("payer").order_by("-id")[:RECENT]),
        credit=credit,
        overdue_bills=list(bills.filter(status=CreditBill.Status.OVERDUE).select_related("member")
                           .annotate(owed=OUTSTANDING).order_by("due_date")[:LIST_LIMIT]),
        eod_runs=list(EodRun.objects.filter(merchant=merchant).order_by("-business_date")[:10]),
        cases=list(open_cases(merchant).order_by("-business_date", "id")[:LIST_LIMIT]),
        exception_lines=exception_queue(merchant).count(),
        integrity=integrity_status(),
    )


def merchant_admin_link_panel(merchant) -> list[dict]:
    """On the merchant's admin page (merchants.hooks.admin_panels): the way to its 360 page."""
    url = reverse("backoffice:merchant-360", args=[merchant.pk])
    return [{"title": _("Merchant 360"), "ok": None, "headline": "",
             "rows": [(_("Everything about this merchant on one page"),
                       format_html('<a class="text-primary-600 font-medium" id="merchant-360-link" href="{}">{}</a>',
                                   url, _("Open the 360 view")))]}]
