"""Receipts in the admin: the list of issued receipts (read-only), and the download every
ledger screen links to — "Receipt (PDF)" on a payment, a release, a refund, a deposit, a
withdrawal — for staff who may view that movement, of the merchants they may see (an RM: their
own portfolio). Behind the admin's sign-in, so its second factor applies."""
from django.contrib import admin
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.errors import ApplicationError
from ledger.admin.base import (
    MerchantScopedMixin,
    ReadOnlyAdminMixin,
    VisibleMerchantFilter,
    money_column,
)
from merchants.selectors import merchants_visible_to

from .download import pdf_response
from .models import Receipt, ReceiptKind
from .movements import find_movement

# The ledger permission that lets staff see each kind of movement (and so its receipt).
VIEW_PERMISSION = {
    ReceiptKind.PAYMENT: "ledger.view_payment", ReceiptKind.RELEASE: "ledger.view_payment",
    ReceiptKind.REFUND: "ledger.view_refund", ReceiptKind.DEPOSIT: "ledger.view_deposit",
    ReceiptKind.WITHDRAWAL: "ledger.view_withdrawal",
}


@admin.register(Receipt)
class ReceiptAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("number", "kind", "merchant", "order_no", "amount_display", "business_date", "issued_at")
    list_filter = (VisibleMerchantFilter, "kind", "business_date")
    list_select_related = ("merchant",)
    search_fields = ("number", "order_no")
    amount_display = money_column("amount", _("amount"))
    fields = ("number", "kind", "merchant", "movement_id", "order_no", "amount_display", "business_date",
              "booked_at", "payer_masked", "payee_masked", "issued_at")
    readonly_fields = fields

    def get_urls(self):
        return [
            path("download/<str:kind>/<int:pk>/", self.admin_site.admin_view(self.download_view),
                 name="receipts_receipt_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, kind, pk):
        """?part=N picks a release of a payment released in parts (pk is the payment's)."""
        permission = VIEW_PERMISSION.get(kind)
        if permission is None or not request.user.has_perm(permission):
            raise Http404
        part = request.GET.get("part")
        try:
            movement = find_movement(kind, pk, merchants=merchants_visible_to(request.user),
                                     part=int(part) if part and part.isdigit() else None)
        except ApplicationError as error:  # not found, not yours, or nothing to prove yet
            raise Http404(str(error)) from None
        return pdf_response(request, movement, actor=request.user)
