"""Merchant management screens (多商户管理中心). Every change goes through merchants.services."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from core.roles import RELATIONSHIP_MANAGER

from .. import hooks
from ..models import Merchant
from ..selectors import can_see_all_merchants, merchants_visible_to
from ..services.credentials import credentials_rotate
from ..services.lifecycle import (
    LOCKED_AFTER_APPROVAL,
    PROFILE_FIELDS,
    merchant_activate,
    merchant_approve,
    merchant_close,
    merchant_create,
    merchant_freeze,
    merchant_reject,
    merchant_start_closing,
    merchant_submit,
    merchant_unfreeze,
    merchant_update,
)


class MerchantForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = ("code",) + PROFILE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "relationship_manager" in self.fields:
            self.fields["relationship_manager"].queryset = get_user_model().objects.filter(
                groups__name=RELATIONSHIP_MANAGER, is_active=True
            ).order_by("username")


@admin.register(Merchant)
class MerchantAdmin(WorkflowAdminMixin, ModelAdmin):
    form = MerchantForm
    workflow_object_arg = "merchant"
    workflow = {
        "submit": (merchant_submit, False),
        "approve": (merchant_approve, False),
        "reject": (merchant_reject, True),
        "activate": (merchant_activate, False),
        "freeze": (merchant_freeze, True),
        "unfreeze": (merchant_unfreeze, True),
        "start_closing": (merchant_start_closing, True),
        "close": (merchant_close, False),
    }
    list_display = ("code", "legal_name", "status_badge", "relationship_manager", "risk_level", "business_type",
                    "supervision_account_number")
    list_filter = ("status", "risk_level", "business_type", "relationship_manager")
    list_select_related = ("relationship_manager",)
    search_fields = ("code", "legal_name", "uscc", "app_id", "supervision_account_number")
    list_filter_submit = True
    status_badge = status_badge()
    # The required risk reserve is the risk office's approved policy (risk: a request and a second
    # risk officer's approval), never typed here.
    readonly_fields = ("risk_reserve_required", "status", "submitted_by", "decided_by", "rejection_reason", "freeze_reason", "frozen_at",
                       "supervision_account_number", "app_id", "activated_at", "created_at", "updated_at")
    fieldsets = (
        (_("Profile"), {"fields": ("code", "legal_name", "uscc", "business_type", "contact_name", "contact_phone",
                                   "contact_email", "webhook_url")}),
        (_("Supervision"), {"fields": ("relationship_manager", "risk_level", "withdrawal_approval_threshold",
                                       "risk_reserve_required", "otp_for_withdrawals", "otp_for_releases",
                                       "otp_payments_above")}),
        (_("Status"), {"fields": ("status", "submitted_by", "decided_by", "rejection_reason", "freeze_reason",
                                  "frozen_at", "supervision_account_number", "app_id", "activated_at",
                                  "created_at", "updated_at")}),
        (_("Guaranteed payments"), {"fields": ("guarantee_auto_release_days",)}),
    )

    def get_queryset(self, request):
        return merchants_visible_to(request.user).select_related("relationship_manager")

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("code")
            if obj.status not in (Merchant.Status.DRAFT, Merchant.Status.REJECTED):
                fields += list(LOCKED_AFTER_APPROVAL)
            if not can_see_all_merchants(request.user):
                fields.append("relationship_manager")
        return fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.groups.filter(name=RELATIONSHIP_MANAGER).exists():
            initial.setdefault("relationship_manager", request.user.pk)
        return initial

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The admin never writes the row itself: the services validate, lock and audit.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in PROFILE_FIELDS}
        try:
            if change:
                saved = merchant_update(merchant=obj, actor=request.user, **data)
            else:
                saved = merchant_create(actor=request.user, code=form.cleaned_data["code"],
                                                 **{n: form.cleaned_data[n] for n in PROFILE_FIELDS
                                                    if n in form.cleaned_data})
        except ApplicationError as err:
            # Form validation already ran the same checks; this is a race (e.g. state changed).
            self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # no inlines write through the admin

    # Activation and rotation show the new secret once, on the response page itself.
    def transition_view(self, request, object_id, name):
        if name != "activate" or request.method != "POST":
            return super().transition_view(request, object_id, name)
        obj = self.get_object(request, object_id)
        if obj is None:
            return super().transition_view(request, object_id, name)
        try:
            import django_fsm as fsm

            if not fsm.has_transition_perm(obj.activate, request.user):
                return super().transition_view(request, object_id, name)
            merchant, secret = merchant_activate(merchant=obj, actor=request.user,
                                                           reason=request.POST.get("reason", ""))
        except ApplicationError as err:
            self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)
            return redirect(reverse("admin:merchants_merchant_change", args=[obj.pk]))
        return self._secret_once(request, merchant, secret, _("Merchant activated"))

    def get_urls(self):
        return [
            path("<path:object_id>/rotate-secret/", self.admin_site.admin_view(self.rotate_secret_view),
                 name="merchants_merchant_rotate_secret"),
            *super().get_urls(),
        ]

    def rotate_secret_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            return redirect(reverse("admin:merchants_merchant_changelist"))
        change_url = reverse("admin:merchants_merchant_change", args=[obj.pk])
        if request.method != "POST":
            return redirect(change_url)
        try:
            secret = credentials_rotate(merchant=obj, actor=request.user,
                                                 reason=request.POST.get("reason", ""))
        except ApplicationError as err:
            self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)
            return redirect(change_url)
        return self._secret_once(request, obj, secret, _("API secret rotated"))

    def _secret_once(self, request, merchant, secret, title):
        response = TemplateResponse(request, "admin/merchants/secret_once.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": merchant,
            "title": title, "merchant": merchant, "secret": secret,
            "change_url": reverse("admin:merchants_merchant_change", args=[merchant.pk]),
        })
        response["Cache-Control"] = "no-store"
        return response

    def step_panels(self, request, obj, name):
        # Before freezing or closing a platform, the risk officer sees what the merchant page shows:
        # its computed risk level with the factors, its balances, its reconciliation and credit.
        if name in ("freeze", "unfreeze", "start_closing", "close"):
            return merchant_panels(obj)
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"extra_panels_template": "admin/merchants/merchant_panels.html"}
        if obj is not None:
            extra["can_rotate"] = (request.user.has_perm("merchants.rotate_credentials")
                                   and obj.status in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN))
            extra["rotate_url"] = reverse("admin:merchants_merchant_rotate_secret", args=[obj.pk])
            extra["merchant_panels"] = merchant_panels(obj)
        extra.update(extra_context or {})
        return super().change_view(request, object_id, form_url, extra_context=extra)


def merchant_panels(merchant):
    """Extra facts for the merchant page, contributed by apps that build on merchants."""
    panels = []
    for fn in hooks.admin_panels:
        panels.extend(fn(merchant))
    return panels
