"""Accounts and the journal: read-only, with freeze/unfreeze (risk) and reversal (operations)
as buttons that call the services."""
from django.contrib import admin
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from core.admin_display import money
from core.admin_workflow import ServiceButton, WorkflowAdminMixin

from ..models import Account, HotBalanceDelta, JournalEntry, Posting
from ..services.accounts import account_freeze, account_unfreeze
from ..services.reversal import entry_reverse, reversal_blocker
from .base import MerchantScopedMixin, ReadOnlyAdminMixin, VisibleMerchantFilter

RECENT_POSTINGS = 20


def _pending_hot_total():
    return Coalesce(
        Subquery(HotBalanceDelta.objects.filter(account_id=OuterRef("pk")).order_by()
                 .values("account_id").annotate(total=Sum("change")).values("total")),
        Value(0), output_field=DecimalField(max_digits=18, decimal_places=2),
    )


@admin.register(Account)
class AccountAdmin(WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    service_object_arg = "account"
    service_buttons = {
        "freeze": ServiceButton(_("Freeze"), account_freeze, "ledger.freeze_account", danger=True,
                                available=lambda a: not a.frozen),
        "unfreeze": ServiceButton(_("Unfreeze"), account_unfreeze, "ledger.freeze_account",
                                  available=lambda a: a.frozen),
    }
    list_display = ("id", "owner", "merchant", "kind", "balance_now", "frozen_flag", "is_hot")
    list_filter = (VisibleMerchantFilter, "kind", "frozen", "is_hot")
    list_select_related = ("merchant", "member")
    search_fields = ("member__user_id", "member__name", "merchant__code")
    fields = ("merchant", "member", "kind", "is_hot", "balance_now", "frozen", "freeze_reason", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(current_balance=F("balance") + _pending_hot_total())

    @display(description=_("owner"), ordering="member__user_id")
    def owner(self, obj):
        return obj.member.user_id if obj.member_id else _("platform")

    @display(description=_("balance"), ordering="current_balance")
    def balance_now(self, obj):
        return money(obj.current_balance)

    @display(description=_("frozen"), label={_("frozen"): "danger", _("open"): "success"})
    def frozen_flag(self, obj):
        return _("frozen") if obj.frozen else _("open")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {}
        if obj is not None:
            postings = list(Posting.objects.filter(account=obj).select_related("entry").order_by("-id")[:RECENT_POSTINGS])
            for p in postings:
                p.amount_display, p.balance_after_display = money(p.amount), money(p.balance_after)
            extra = {"extra_panels_template": "admin/ledger/account_postings.html", "account_postings": postings,
                     "postings_limit": RECENT_POSTINGS, "account_balance_now": money(obj.current_balance),
                     "account_frozen": obj.frozen, "account_freeze_reason": obj.freeze_reason}
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})


class PostingInline(ReadOnlyAdminMixin, TabularInline):
    model = Posting
    extra = 0
    hide_title = True
    can_delete = False
    fields = ("account", "amount_display", "balance_after_display")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__member", "account__merchant")

    @display(description=_("amount (debit +, credit −)"))
    def amount_display(self, obj):
        return money(obj.amount)

    @display(description=_("balance after"))
    def balance_after_display(self, obj):
        return money(obj.balance_after) if obj.balance_after is not None else _("(hot account: rolled up)")


def _entry_link(entry_id):
    if entry_id is None:
        return "—"
    return format_html('<a href="{}">#{}</a>', reverse("admin:ledger_journalentry_change", args=[entry_id]), entry_id)


@admin.register(JournalEntry)
class JournalEntryAdmin(WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    service_object_arg = "entry"
    service_buttons = {
        "reverse": ServiceButton(_("Reverse"), entry_reverse, "ledger.reverse_entry", danger=True,
                                 available=lambda e: reversal_blocker(e) is None),
    }
    inlines = [PostingInline]
    list_display = ("id", "business_date", "merchant", "entry_type", "order_no", "total", "actor_label",
                    "reverses_link", "reversed_by_link", "created_at")
    list_filter = (VisibleMerchantFilter, "entry_type", "business_date")
    list_select_related = ("merchant",)
    search_fields = ("order_no", "idempotency_ref", "description")
    fields = ("merchant", "entry_type", "business_date", "order_no", "payer", "payee", "order_amount_display",
              "total", "description", "actor_kind", "actor_label", "idempotency_ref", "reverses_link",
              "reversed_by_link", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        debits = (Posting.objects.filter(entry_id=OuterRef("pk"), amount__gt=0).order_by()
                  .values("entry_id").annotate(total=Sum("amount")).values("total"))
        # At most one reversal per entry (entry_reversed_once_per_merchant): fetched with the row.
        reversal = JournalEntry.objects.filter(reverses_id=OuterRef("pk")).order_by().values("pk")[:1]
        return super().get_queryset(request).annotate(debit_total=Subquery(debits), reversal_id=Subquery(reversal))

    @display(description=_("amount"))
    def total(self, obj):
        return money(obj.debit_total)

    @display(description=_("order amount"))
    def order_amount_display(self, obj):
        return money(obj.order_amount)

    @display(description=_("reverses"))
    def reverses_link(self, obj):
        return _entry_link(obj.reverses_id)

    @display(description=_("reversed by"))
    def reversed_by_link(self, obj):
        return _entry_link(obj.reversal_id)
