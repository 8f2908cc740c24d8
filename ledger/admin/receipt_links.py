""""Receipt (PDF)" on the pages of the movements a receipt proves: a payment (and each of its
releases), a refund, a credited deposit, a paid withdrawal. The links go to the receipts app's
download in the admin (by URL name: the ledger does not import receipts), which checks the
same view permission and merchant scope as these pages."""
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import display

from ..models import Deposit, EntryType, JournalEntry, Withdrawal
from .movements import DepositAdmin, PaymentAdmin, RefundAdmin, RefundInline
from .withdrawals import WithdrawalAdmin

FIELD = "receipt_pdf"


def receipt_url(kind: str, pk: int, part: int | None = None) -> str:
    url = reverse("admin:receipts_receipt_download", args=[kind, pk])
    return f"{url}?part={part}" if part else url


def _payment_links(payment):
    links = [(receipt_url("payment", payment.pk), _("Receipt (PDF)"))] if payment.entry_id else []
    releases = JournalEntry.objects.filter(merchant_id=payment.merchant_id, entry_type=EntryType.PAYMENT_RELEASE,
                                           order_no=payment.order_no).count()
    links += [(receipt_url("release", payment.pk, part), _("Release %(part)s (PDF)") % {"part": part})
              for part in range(1, releases + 1)]
    return links


LINKS = {
    DepositAdmin: lambda d: ([(receipt_url("deposit", d.pk), _("Receipt (PDF)"))]
                             if d.status == Deposit.Status.SUCCEEDED else []),
    PaymentAdmin: _payment_links,
    RefundAdmin: lambda r: [(receipt_url("refund", r.pk), _("Receipt (PDF)"))],
    RefundInline: lambda r: [(receipt_url("refund", r.pk), _("Receipt (PDF)"))],
    WithdrawalAdmin: lambda w: ([(receipt_url("withdrawal", w.pk), _("Receipt (PDF)"))]
                                if w.status == Withdrawal.Status.PAID else []),
}


def _column(links):
    @display(description=gettext_lazy("Receipt (PDF)"))
    def column(self, obj):
        items = links(obj) if obj is not None and obj.pk else []
        if not items:
            return "—"
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener" data-receipt>{}</a>', items)

    return column


for admin_class, links in LINKS.items():
    setattr(admin_class, FIELD, _column(links))
    admin_class.fields = (*admin_class.fields, FIELD)
    admin_class.readonly_fields = (*admin_class.readonly_fields, FIELD)
