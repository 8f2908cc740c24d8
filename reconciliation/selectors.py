"""Reads shared by the admin, the API and the commands."""
from django.utils.translation import gettext_lazy as _

from core.admin_display import money

from .models import DiscrepancyCase, EodRun, StatementLine
from .models.eod import ORDER_KINDS, DifferenceKind


def exception_queue(merchant=None):
    """Lines waiting for a person: parked money in, unexplained money out."""
    qs = StatementLine.objects.filter(status=StatementLine.Status.UNMATCHED)
    if merchant is not None:
        qs = qs.filter(merchant=merchant)
    return qs.select_related("merchant", "batch", "candidate_deposit").order_by("value_date", "id")


def open_cases(merchant=None):
    qs = DiscrepancyCase.objects.filter(status__in=(DiscrepancyCase.Status.OPEN,
                                                    DiscrepancyCase.Status.INVESTIGATING))
    return qs.filter(merchant=merchant) if merchant is not None else qs


def run_for(merchant, business_date) -> EodRun | None:
    return EodRun.objects.filter(merchant=merchant, business_date=business_date).first()


def run_summary(run: EodRun | None) -> dict:
    """The API's view of a run (status "pending" before the first run)."""
    from core.money import format_amount

    if run is None:
        return {"status": "pending", "matched": 0, "missing_in_ledger": 0, "missing_in_orders": 0,
                "amount_mismatches": 0, "party_mismatches": 0, "supervision_balance": None, "virtual_total": None}
    status = "pending" if run.status == EodRun.Status.RUNNING else run.status
    return {"status": status, "matched": run.matched, "missing_in_ledger": run.missing_in_ledger,
            "missing_in_orders": run.missing_in_orders, "amount_mismatches": run.amount_mismatches,
            "party_mismatches": run.party_mismatches,
            "supervision_balance": format_amount(run.supervision_balance),
            "virtual_total": format_amount(run.virtual_total)}


def run_order_differences(run: EodRun, *, category: str | None = None):
    """The differing orders of a run (the kinds that are one order each), or of one category."""
    qs = run.difference_rows.filter(kind__in=ORDER_KINDS)
    return qs.filter(kind=category) if category else qs


def difference_view(difference) -> dict:
    """A differing order as the API shows it: the parties only for a party mismatch."""
    parties = None
    if difference.kind == DifferenceKind.PARTY_MISMATCH:
        parties = {side: {"payer_user_id": payer or None, "payee_user_id": payee or None}
                   for side, payer, payee in (("platform", difference.platform_payer, difference.platform_payee),
                                              ("ledger", difference.ledger_payer, difference.ledger_payee))}
    return {"order_no": difference.order_no, "order_type": difference.order_type, "kind": difference.kind,
            "expected_amount": difference.expected_amount, "actual_amount": difference.actual_amount,
            "parties": parties}


def close_blockers(merchant) -> list:
    """A merchant closes only after a clean last reconciliation (merchants.hooks.close_checks)."""
    problems = []
    last = EodRun.objects.filter(merchant=merchant).order_by("-business_date").first()
    if last is not None and last.status != EodRun.Status.BALANCED:
        problems.append(_("the last end of day (%(date)s) is not balanced") % {"date": last.business_date})
    if open_cases(merchant).exists():
        problems.append(_("discrepancy cases are still open"))
    if exception_queue(merchant).exists():
        problems.append(_("statement lines are waiting in the exception queue"))
    return problems


def merchant_admin_panels(merchant) -> list[dict]:
    last = EodRun.objects.filter(merchant=merchant).order_by("-business_date").first()
    if last is None:
        return []
    return [{
        "title": _("Last end of day (日末勾对)"),
        "ok": last.status == EodRun.Status.BALANCED,
        "headline": _("%(date)s: %(status)s") % {"date": last.business_date, "status": last.get_status_display()},
        "rows": [
            (_("Orders matched"), str(last.matched)),
            (_("Differences"), str(last.differences)),
            (_("Full proof at that close: supervision = Σ virtual"), _yes_no(last.totals_balance)),
            (_("Full proof at that close: every balance = Σ its postings"), _yes_no(last.postings_match)),
            (_("Book supervision balance at close"), money(last.book_closing_balance)),
            (_("Bank closing balance"), money(last.bank_closing_balance)),
            (_("Open discrepancy cases"), str(open_cases(merchant).count())),
            (_("Lines in the exception queue"), str(exception_queue(merchant).count())),
        ],
    }]


def _yes_no(value) -> str:
    return "—" if value is None else str(_("yes") if value else _("no"))


def statement_layouts_fingerprint(layouts: list) -> str:
    """A digest of what the active layouts say: the preview carries it to the confirm, so a file
    is booked only as it was previewed (a layout edited in between refuses the confirm)."""
    import hashlib
    import json

    data = [[layout.pk, layout.code, {k: list(v) for k, v in layout.headers.items()}, list(layout.date_formats),
             dict(layout.direction_values), list(layout.footer_patterns), list(layout.reference_columns),
             layout.reference_composite, list(layout.required_headers), layout.priority] for layout in layouts]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:32]


def statement_layouts(code: str | None = None) -> list:
    """The active bank layouts, as the statement reader takes them (parsing.Layout), or only
    the one with ``code``; the standard layout is always tried besides them."""
    from .models import StatementLayout

    qs = StatementLayout.objects.filter(active=True)
    if code:
        qs = qs.filter(code=code)
    return [row.as_layout() for row in qs.order_by("priority", "code")]
