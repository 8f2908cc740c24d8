"""Small display helpers shared by every app's admin."""
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

STATUS_COLORS = {
    "draft": "info", "submitted": "warning", "approved": "info", "rejected": "danger", "active": "success",
    "frozen": "danger", "closing": "warning", "closed": "info", "pending_verification": "warning",
    "requested": "warning", "pending_approval": "warning", "processing": "info", "paid": "success",
    "failed": "danger", "held": "warning", "released": "success", "settled": "success", "refunded": "info",
    "partially_refunded": "warning", "awaiting_funds": "warning", "succeeded": "success", "open": "warning",
    "investigating": "info", "resolved": "success", "written_off": "danger", "balanced": "success",
    "discrepancies": "danger", "running": "info", "unmatched": "warning", "matched": "success", "posted": "success",
    "ignored": "info", "returned": "info", "rm_reviewed": "info", "suspended": "danger", "overdue": "danger",
    "partially_repaid": "warning", "repaid": "success", "uploaded": "info", "validated": "info",
    "cancelled": "info", "expired": "info", "in_review": "warning", "refused": "danger",
}


def status_badge(field="status", description=_("status")):
    @display(description=description, label=STATUS_COLORS, ordering=field)
    def badge(self, obj):
        return getattr(obj, field), getattr(obj, f"get_{field}_display")()

    return badge


def money(value) -> str:
    """1234567.8 -> 1,234,567.80 (bank screens always show two decimals and separators)."""
    if value is None:
        return "—"
    return intcomma(f"{value:.2f}", use_l10n=False)
