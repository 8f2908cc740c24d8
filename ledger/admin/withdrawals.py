"""The withdrawal approval queue and holds. Every step is a workflow button that calls the
service (which checks the permission and maker-checker again, locks, books and audits)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from core.money import MoneyFormField
from merchants.models import Member
from merchants.selectors import merchants_visible_to

from ..models import Hold, Withdrawal
from ..services import holds as hold_services
from ..services import withdrawals as services
from .base import (
    FormPageMixin,
    MerchantScopedMixin,
    ReadOnlyAdminMixin,
    VisibleMerchantFilter,
    money_column,
    scoped,
)


class MemberPickForm(forms.Form):
    """A form about one member, picked by merchant and the platform's user id (cleaned_data["member"])."""

    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=None, widget=UnfoldAdminSelectWidget)
    user_id = forms.CharField(label=_("Member's platform user id"), max_length=64, widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants_visible_to(user).order_by("code")

    def clean(self):
        data = super().clean()
        if data.get("merchant") and data.get("user_id"):
            data["member"] = Member.objects.filter(merchant=data["merchant"], user_id=data["user_id"].strip()).first()
            if data["member"] is None:
                self.add_error("user_id", _("No member with this user id at this merchant."))
        return data


class MarkPaidForm(forms.Form):
    bank_reference = forms.CharField(label=_("Bank reference"), max_length=64, widget=UnfoldAdminTextInputWidget,
                                     help_text=_("The payment's reference in the bank's system."))
    reason = forms.CharField(label=_("Comment"), required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))


class ClosingPayoutForm(MemberPickForm):
    card_ending = forms.CharField(label=_("Card ending in"), max_length=8, required=False,
                                  widget=UnfoldAdminTextInputWidget,
                                  help_text=_("The last digits of the verified card to pay, if the member has several."))
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))



@admin.register(Withdrawal)
class WithdrawalAdmin(FormPageMixin, WorkflowAdminMixin, ReadOnlyAdminMixin, ModelAdmin):
    workflow_object_arg = "withdrawal"
    workflow = {
        "approve": (services.withdrawal_approve, False),
        "reject": (services.withdrawal_reject, True),
        "process": (services.withdrawal_process, False),
        "mark_paid": (services.withdrawal_mark_paid, True, MarkPaidForm),  # the bank's reference too
        "fail": (services.withdrawal_mark_failed, True),
    }
    list_display = ("id", "order_no", "merchant", "member", "amount_display", "status_badge", "value_date",
                    "requested_by", "decided_by", "created_at")
    list_filter = ("status", VisibleMerchantFilter, "value_date")
    list_select_related = ("merchant", "member", "requested_by", "decided_by", "bank_card")
    search_fields = ("order_no", "member__user_id", "bank_reference")
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    fields = ("merchant", "member", "bank_card", "amount_display", "order_no", "status", "value_date",
              "closes_member", "requested_by", "decided_by", "reason", "bank_reference", "request_entry",
              "final_entry", "created_at", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request):
        # The approval queue: what waits for a decision comes first. (Built here rather than
        # in super(), which orders by get_ordering() before the rank exists.)
        qs = Withdrawal.objects.select_related(*self.list_select_related).annotate(queue_rank=Case(
            When(status=Withdrawal.Status.PENDING_APPROVAL, then=Value(0)),
            When(status=Withdrawal.Status.APPROVED, then=Value(1)),
            When(status=Withdrawal.Status.PROCESSING, then=Value(2)),
            default=Value(3), output_field=IntegerField(),
        )).order_by("queue_rank", "-id")
        return scoped(qs, request.user)

    def get_ordering(self, request):
        return ["queue_rank", "-id"]

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("merchants.freeze_member")

    def add_view(self, request, form_url="", extra_context=None):
        """Staff open one kind of withdrawal: a closing payout (the member's whole balance to their
        verified card, approved by a second person; paid, it closes the member)."""
        changelist = reverse("admin:ledger_withdrawal_changelist")
        if not self.has_add_permission(request):
            raise PermissionDenied  # withdrawals are the platform's (API); staff open closing payouts only
        form = ClosingPayoutForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                withdrawal = services.member_closing_payout(member=data["member"], actor=request.user,
                                                            reason=data["reason"], card_ending=data["card_ending"])
            except ApplicationError as err:
                form.add_error(None, _("Refused: %(message)s") % {"message": err.message})
            else:
                self.message_user(request, _("Closing payout opened: it waits for a second person's approval."),
                                  level=messages.SUCCESS)
                return redirect(reverse("admin:ledger_withdrawal_change", args=[withdrawal.pk]))
        return self.render_form_page(request, form=form, title=_("Pay out a member's balance and close them"),
                                     cancel_url=changelist,
                                     intro=_("The member's whole available balance goes to their verified card once "
                                             "another person approves it; when the bank has paid it, the member is "
                                             "closed."))


class HoldForm(MemberPickForm):
    amount = MoneyFormField(label=_("Amount"), allow_zero=False, widget=UnfoldAdminTextInputWidget,
                            help_text=_("Moved from the member's available to their frozen balance, e.g. 1250.00"))
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))
    legal_reference = forms.CharField(label=_("Legal reference (court order number)"), max_length=100,
                                      required=False, widget=UnfoldAdminTextInputWidget)



@admin.register(Hold)
class HoldAdmin(FormPageMixin, WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    workflow_object_arg = "hold"
    workflow = {"release": (hold_services.hold_release, True)}
    list_display = ("id", "member", "merchant", "amount_display", "status_badge", "legal_reference", "created_by",
                    "created_at", "released_at")
    list_filter = ("status", VisibleMerchantFilter)
    list_select_related = ("merchant", "member", "created_by")
    search_fields = ("member__user_id", "legal_reference", "reason")
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    fields = ("merchant", "member", "amount_display", "status", "reason", "legal_reference", "entry",
              "release_entry", "created_by", "created_at", "released_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("ledger.add_hold")

    def add_view(self, request, form_url="", extra_context=None):
        """A hold is placed by the service, never by saving a model form."""
        changelist = reverse("admin:ledger_hold_changelist")
        if not self.has_add_permission(request):
            self.message_user(request, _("Refused: you may not place holds."), level=messages.ERROR)
            return redirect(changelist)
        form = HoldForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                hold = hold_services.hold_create(member=data["member"], actor=request.user, amount=data["amount"],
                                                 reason=data["reason"], legal_reference=data["legal_reference"])
            except ApplicationError as err:
                form.add_error(None, _("Refused: %(message)s") % {"message": err.message})
            else:
                self.message_user(request, _("Hold placed."), level=messages.SUCCESS)
                return redirect(reverse("admin:ledger_hold_change", args=[hold.pk]))
        return self.render_form_page(request, form=form, title=_("Place a hold"), cancel_url=changelist,
                                     intro=_("The amount is frozen at once and stays frozen until released."))
