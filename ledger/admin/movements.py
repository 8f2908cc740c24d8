"""Deposits, payments, splits, releases and refunds: read-only screens. Deposits are credited on
bank proof (reconciliation, channel notifications); payments and refunds come from the API. Staff
with ledger.release_payment may release part of a guaranteed payment (an amount, spread pro
rata as the API's `{"amount"}` is, with a reason) from its page."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from core.admin_display import status_badge
from core.admin_workflow import ServiceButton, WorkflowAdminMixin
from core.money import MoneyFormField

from ..models import Deposit, Payment, PaymentRelease, PaymentSplit, Refund
from ..models.payments import RELEASE_PERMISSION
from ..services.releases import RELEASABLE, payment_release_part
from .base import (
    MerchantScopedMixin,
    ReadOnlyAdminMixin,
    VisibleMerchantFilter,
    money_column,
)


@admin.register(Deposit)
class DepositAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "payment_code", "merchant", "member", "amount_display", "method", "status_badge",
                    "order_no", "credited_at", "created_at")
    list_filter = (VisibleMerchantFilter, "status", "method")
    list_select_related = ("merchant", "member")
    search_fields = ("payment_code", "order_no", "member__user_id", "proof_reference")
    status_badge = status_badge()
    amount_display = money_column("amount", _("expected amount"))
    fields = ("merchant", "member", "amount_display", "order_no", "method", "channel", "payment_code", "status",
              "entry", "proof_kind", "proof_reference", "credited_at", "created_at")
    readonly_fields = fields


class PaymentSplitInline(ReadOnlyAdminMixin, TabularInline):
    model = PaymentSplit
    extra = 0
    hide_title = True
    can_delete = False
    fields = ("payee", "amount_display", "released_display", "refunded_display")
    readonly_fields = fields
    amount_display = money_column("amount", _("amount"))
    released_display = money_column("released_amount", _("released"))
    refunded_display = money_column("refunded_amount", _("refunded"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payee")


class PaymentReleaseInline(ReadOnlyAdminMixin, TabularInline):
    model = PaymentRelease
    extra = 0
    hide_title = True
    can_delete = False
    fields = ("sequence", "amount_display", "fee_display", "shares", "reason", "entry", "created_at")
    readonly_fields = fields
    amount_display = money_column("amount", _("amount"))
    fee_display = money_column("platform_fee", _("platform fee"))


class PartialReleaseForm(forms.Form):
    amount = MoneyFormField(label=_("Amount"), allow_zero=False, widget=UnfoldAdminTextInputWidget,
                            help_text=_("At most what is still held; spread over the payees and the platform fee "
                                        "in proportion to what each still has in escrow, e.g. 1250.00"))
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))


class RefundInline(ReadOnlyAdminMixin, TabularInline):
    model = Refund
    extra = 0
    hide_title = True
    can_delete = False
    fields = ("amount_display", "reason", "entry", "created_at")
    readonly_fields = fields
    amount_display = money_column("amount", _("amount"))


@admin.register(Payment)
class PaymentAdmin(WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    inlines = [PaymentSplitInline, PaymentReleaseInline, RefundInline]
    service_object_arg = "payment"
    service_buttons = {
        "release_part": ServiceButton(_("Release in part"), payment_release_part, RELEASE_PERMISSION,
                                      available=lambda p: p.status in RELEASABLE, form_class=PartialReleaseForm),
    }
    list_display = ("id", "order_no", "merchant", "payer", "mode", "amount_display", "fee_display",
                    "released_display", "refunded_display", "status_badge", "auto_release_at", "created_at")
    list_filter = (VisibleMerchantFilter, "status", "mode")
    list_select_related = ("merchant", "payer")
    search_fields = ("order_no", "payer__user_id", "description")
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    fee_display = money_column("platform_fee", _("platform fee"))
    released_display = money_column("released_amount", _("released"))
    refunded_display = money_column("refunded_amount", _("refunded"))
    fields = ("merchant", "order_no", "payer", "mode", "amount_display", "fee_display", "released_display",
              "refunded_display", "description", "status", "entry", "release_entry", "auto_release_at",
              "released_at", "created_at")
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "payment", "merchant", "amount_display", "reason", "created_at")
    list_filter = (VisibleMerchantFilter,)
    list_select_related = ("merchant", "payment")
    search_fields = ("payment__order_no", "reason")
    amount_display = money_column("amount", _("amount"))
    fields = ("merchant", "payment", "amount_display", "reason", "idempotency_ref", "entry", "created_at")
    readonly_fields = fields
