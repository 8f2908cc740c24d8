"""Risk reserve screens (风险保证金): policies, compensations and releases. Each is asked for on its own
page (the service, never a model form) and decided by a second risk officer with the record's buttons
(WorkflowAdminMixin: a button exists only for a user who may press it; the requester never sees
"Approve"). Part of the risk.admin package."""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from core.money import MoneyFormField
from ledger.admin.base import (
    FormPageMixin,
    MerchantScopedMixin,
    ReadOnlyAdminMixin,
    VisibleMerchantFilter,
    money_column,
)
from ledger.admin.withdrawals import MemberPickForm
from merchants.models import Merchant
from merchants.selectors import merchants_visible_to

from ..models import ReserveCompensation, ReservePolicy, ReserveRelease
from ..services import reserve as services


def _reason_field():
    return forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))


class PolicyForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=None, widget=UnfoldAdminSelectWidget)
    basis = forms.ChoiceField(label=_("Basis"), choices=ReservePolicy.Basis.choices, widget=UnfoldAdminSelectWidget)
    amount = MoneyFormField(label=_("Required amount"), required=False,
                            help_text=_("For a fixed amount."))
    percent = forms.DecimalField(label=_("Percentage of inflows"), required=False, max_digits=5, decimal_places=2,
                                 widget=UnfoldAdminDecimalFieldWidget,
                                 help_text=_("For a percentage: of the customers' money in over the last 30 days."))
    minimum = MoneyFormField(label=_("Minimum"), required=False, help_text=_("For a percentage: never less than this."))
    reason = _reason_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants_visible_to(user).filter(
            status__in=services.LIVE).order_by("code")


class CompensationForm(MemberPickForm):
    amount = MoneyFormField(label=_("Amount"))
    order_no = forms.CharField(label=_("Order number"), max_length=64, widget=UnfoldAdminTextInputWidget,
                               help_text=_("The order the compensation concerns (one of the member's in the books)."))
    platform_may_pay = forms.BooleanField(
        label=_("Platform's own money for the remainder"), required=False,
        help_text=_("If the reserve holds less than the amount, the rest comes from the platform's fee income. "
                    "Otherwise a compensation larger than the reserve is refused."))
    reason = _reason_field()


class ReleaseForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=None, widget=UnfoldAdminSelectWidget)
    payee_account_name = forms.CharField(label=_("Platform's account name"), max_length=200,
                                         widget=UnfoldAdminTextInputWidget)
    payee_account_number = forms.CharField(label=_("Platform's account number"), max_length=40,
                                           widget=UnfoldAdminTextInputWidget)
    payee_bank = forms.CharField(label=_("Platform's bank"), max_length=200, required=False,
                                 widget=UnfoldAdminTextInputWidget)
    reason = _reason_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants_visible_to(user).filter(
            status=Merchant.Status.CLOSING).order_by("code")


class _RequestAdmin(FormPageMixin, WorkflowAdminMixin, MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    """A request page (the service), the record's approve/reject buttons, read-only otherwise."""

    request_permission = ""
    request_form = None
    request_title = ""
    request_intro = ""
    list_filter = ("status", VisibleMerchantFilter)
    status_badge = status_badge()

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(self.request_permission)

    def call_request(self, request, data):  # pragma: no cover - each admin defines it
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        meta = self.model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        if not self.has_add_permission(request):
            self.message_user(request, _("Refused: you may not make this request."), level=messages.ERROR)
            return redirect(changelist)
        form = self.request_form(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.call_request(request, form.cleaned_data)
            except ApplicationError as err:
                form.add_error(None, _("Refused: %(message)s") % {"message": err.message})
            else:
                self.message_user(request, _("Requested: a second risk officer approves it."), level=messages.SUCCESS)
                return redirect(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
        return self.render_form_page(request, form=form, title=self.request_title, cancel_url=changelist,
                                     intro=self.request_intro)


@admin.register(ReservePolicy)
class ReservePolicyAdmin(_RequestAdmin):
    workflow_object_arg = "policy"
    workflow = {"approve": (services.reserve_policy_approve, False),
                "reject": (services.reserve_policy_reject, True)}
    request_permission = "risk.request_reservepolicy"
    request_form = PolicyForm
    request_title = _("Request a required risk reserve")
    request_intro = _("Nothing changes until a second risk officer approves. Approving supersedes the policy in force.")
    list_display = ("id", "merchant", "requirement", "status_badge", "required_display", "requested_by",
                    "decided_by", "requested_at")
    list_select_related = ("merchant", "requested_by", "decided_by")
    required_display = money_column("required_at_approval", _("required when approved"))
    fields = ("merchant", "basis", "amount", "percent", "minimum", "status", "required_at_approval", "reason",
              "requested_by", "requested_at", "decided_by", "decided_at", "decision_reason")
    readonly_fields = fields

    @admin.display(description=_("requirement"))
    def requirement(self, obj):
        return str(obj)

    def call_request(self, request, data):
        return services.reserve_policy_request(
            merchant=data["merchant"], actor=request.user, basis=data["basis"], reason=data["reason"],
            amount=data.get("amount"), percent=data.get("percent"), minimum=data.get("minimum"))


@admin.register(ReserveCompensation)
class ReserveCompensationAdmin(_RequestAdmin):
    workflow_object_arg = "compensation"
    workflow = {"approve": (services.reserve_compensation_approve, False),
                "reject": (services.reserve_compensation_reject, True)}
    request_permission = "risk.request_reservecompensation"
    request_form = CompensationForm
    request_title = _("Compensate a member from the risk reserve")
    request_intro = _("The reserve pays first. Nothing moves until a second risk officer approves.")
    list_display = ("id", "merchant", "member", "order_no", "amount_display", "status_badge", "requested_by",
                    "decided_by", "requested_at")
    list_select_related = ("merchant", "member", "requested_by", "decided_by")
    search_fields = ("order_no", "member__user_id")
    amount_display = money_column("amount", _("amount"))
    fields = ("merchant", "member", "order_no", "amount", "platform_may_pay", "status", "reserve_part",
              "platform_part", "entry", "reason", "requested_by", "requested_at", "decided_by", "decided_at",
              "decision_reason")
    readonly_fields = fields

    def call_request(self, request, data):
        return services.reserve_compensation_request(
            merchant=data["merchant"], actor=request.user, member=data["member"], amount=data["amount"],
            order_no=data["order_no"], reason=data["reason"], platform_may_pay=data.get("platform_may_pay", False))


@admin.register(ReserveRelease)
class ReserveReleaseAdmin(_RequestAdmin):
    workflow_object_arg = "release"
    workflow = {"approve": (services.reserve_release_approve, False),
                "reject": (services.reserve_release_reject, True)}
    request_permission = "risk.request_reserverelease"
    request_form = ReleaseForm
    request_title = _("Release a closing merchant's risk reserve")
    request_intro = _("Approved only after a clean last end of day, once every other balance is paid out.")
    list_display = ("id", "merchant", "payee_account_name", "amount_display", "status_badge", "requested_by",
                    "decided_by", "requested_at")
    list_select_related = ("merchant", "requested_by", "decided_by")
    amount_display = money_column("amount", _("released amount"))
    fields = ("merchant", "payee_account_name", "payee_account_number", "payee_bank", "status", "amount", "entry",
              "reason", "requested_by", "requested_at", "decided_by", "decided_at", "decision_reason")
    readonly_fields = fields

    def call_request(self, request, data):
        return services.reserve_release_request(
            merchant=data["merchant"], actor=request.user, payee_account_name=data["payee_account_name"],
            payee_account_number=data["payee_account_number"], payee_bank=data.get("payee_bank", ""),
            reason=data["reason"])
