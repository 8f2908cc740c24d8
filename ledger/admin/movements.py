"""Deposits, payments, splits and refunds: read-only screens. Deposits are credited on bank
proof (reconciliation, channel notifications); payments and refunds come from the API."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_display import status_badge

from ..models import Deposit, Payment, PaymentSplit, Refund
from .base import MerchantScopedMixin, ReadOnlyAdminMixin, VisibleMerchantFilter, money_column


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
    fields = ("payee", "amount_display", "refunded_display")
    readonly_fields = fields
    amount_display = money_column("amount", _("amount"))
    refunded_display = money_column("refunded_amount", _("refunded"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payee")


class RefundInline(ReadOnlyAdminMixin, TabularInline):
    model = Refund
    extra = 0
    hide_title = True
    can_delete = False
    fields = ("amount_display", "reason", "entry", "created_at")
    readonly_fields = fields
    amount_display = money_column("amount", _("amount"))


@admin.register(Payment)
class PaymentAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    inlines = [PaymentSplitInline, RefundInline]
    list_display = ("id", "order_no", "merchant", "payer", "mode", "amount_display", "fee_display",
                    "refunded_display", "status_badge", "auto_release_at", "created_at")
    list_filter = (VisibleMerchantFilter, "status", "mode")
    list_select_related = ("merchant", "payer")
    search_fields = ("order_no", "payer__user_id", "description")
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    fee_display = money_column("platform_fee", _("platform fee"))
    refunded_display = money_column("refunded_amount", _("refunded"))
    fields = ("merchant", "order_no", "payer", "mode", "amount_display", "fee_display", "refunded_display",
              "description", "status", "entry", "release_entry", "auto_release_at", "released_at", "created_at")
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
