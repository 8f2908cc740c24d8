"""Accounts and the journal: read-only, with freeze/unfreeze and marking a member's available
account hot or ordinary (risk), and reversal (operations), as buttons that call the services."""
from django.contrib import admin
from django.db.models import OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from core.admin_display import money
from core.admin_workflow import ServiceButton, WorkflowAdminMixin


from ..models import Account, AccountKind, JournalEntry, Posting
from ..models.accounts import MEMBER_KINDS
from ..selectors import balance_now, with_running_balances
from ..services.accounts import account_freeze, account_unfreeze
from ..services.hot_flagging import account_set_hot
from ..services.reversal import entry_reverse, reversal_blocker
from .base import MerchantScopedMixin, ReadOnlyAdminMixin, VisibleMerchantFilter

RECENT_POSTINGS = 20


def _set_hot(hot: bool):
    """The hot/ordinary button's service: account_set_hot (which refuses any account but a member's
    available one: the platform's hot accounts are hot by kind)."""
    def call(*, account, actor, reason):
        return account_set_hot(account=account, hot=hot, actor=actor, reason=reason)
    return call


def _member_available(account, *, hot: bool) -> bool:
    return account.kind == AccountKind.MEMBER_AVAILABLE and account.is_hot == hot


@admin.register(Account)
class AccountAdmin(WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    service_object_arg = "account"
    service_buttons = {
        "freeze": ServiceButton(_("Freeze"), account_freeze, "ledger.freeze_account", danger=True,
                                available=lambda a: not a.frozen),
        "unfreeze": ServiceButton(_("Unfreeze"), account_unfreeze, "ledger.freeze_account",
                                  available=lambda a: a.frozen),
        # A busy seller's account before a sale day (credits without a row lock), or back to ordinary.
        "mark_hot": ServiceButton(_("Mark hot"), _set_hot(True), "ledger.freeze_account",
                                  available=lambda a: _member_available(a, hot=False)),
        "mark_ordinary": ServiceButton(_("Mark ordinary"), _set_hot(False), "ledger.freeze_account",
                                       available=lambda a: _member_available(a, hot=True)),
    }
    list_display = ("id", "owner", "merchant", "kind", "balance_now", "frozen_flag", "is_hot")
    list_filter = (VisibleMerchantFilter, "kind", "frozen", "is_hot")
    list_select_related = ("merchant", "member")
    search_fields = ("member__user_id", "member__name", "merchant__code")
    fields = ("merchant", "member", "kind", "is_hot", "balance_now", "frozen", "freeze_reason", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(current_balance=balance_now())

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
            # The newest postings: a hot account's running balance is cheap to compute this near the top.
            recent = Posting.objects.filter(account=obj).select_related("entry", "account").order_by("-id")
            postings = with_running_balances(recent[:RECENT_POSTINGS], kinds=AccountKind.values)
            for p in postings:
                p.amount_display, p.balance_after_display = money(p.amount), money(p.running_balance)
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
        """A member's hot posting gets its balance after computed (a query of its own, only for those);
        a platform hot account's (whose newer postings are every later movement) is not shown."""
        balance = obj.balance_after
        if balance is None and obj.account.kind in MEMBER_KINDS:
            balance = with_running_balances([obj])[0].running_balance
        return money(balance) if balance is not None else _("(hot account: rolled up)")


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
