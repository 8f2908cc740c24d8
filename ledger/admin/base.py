"""What every ledger screen shares: read-only by default, scoped to the merchants the user
may see, money shown with two decimals, and buttons that call services."""
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from core.admin_display import money
from core.admin_workflow import reason_step
from core.audit import timeline_for
from merchants.selectors import can_see_all_merchants, merchants_visible_to


def money_column(field: str, description):
    """A list/detail column showing a money field as 1,234.56."""

    @display(description=description, ordering=field)
    def column(self, obj):
        return money(getattr(obj, field))

    return column


def scoped(qs, user, merchant_path: str = "merchant"):
    """Rows of the merchants this user may see (an RM: their own portfolio)."""
    if can_see_all_merchants(user):
        return qs
    return qs.filter(**{f"{merchant_path}__relationship_manager": user})


class VisibleMerchantFilter(admin.SimpleListFilter):
    """Like a merchant filter, but offering only merchants the user may see."""

    title = _("merchant")
    parameter_name = "merchant"

    def lookups(self, request, model_admin):
        return [(m.pk, f"{m.code} · {m.legal_name}")
                for m in merchants_visible_to(request.user).only("pk", "code", "legal_name").order_by("code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(merchant_id=self.value())
        return queryset


class ReadOnlyAdminMixin:
    """Screens show; services write. No add, change or delete through the admin forms."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MerchantScopedMixin:
    merchant_path = "merchant"

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user, self.merchant_path)


@dataclass(frozen=True)
class ServiceButton:
    """A button on a record that is not an FSM transition (freeze an account, reverse an entry)."""

    label: str
    service: Callable  # called as service(<object_arg>=obj, actor=request.user, reason=...)
    permission: str
    needs_reason: bool = True
    danger: bool = False
    available: Callable = lambda obj: True


class ServiceButtonsMixin:
    """Buttons that call a service, shown only to users with the permission and only when
    the record's state allows; they post to their own URL (so view-only users can use them)
    and take a reason first when the service needs one. Reuses the workflow templates."""

    service_buttons: dict[str, ServiceButton] = {}
    service_object_arg = "obj"
    change_form_template = "admin/workflow_change_form.html"

    def get_urls(self):
        meta = self.model._meta
        return [
            path("<path:object_id>/do/<str:name>/", self.admin_site.admin_view(self.service_view),
                 name=f"{meta.app_label}_{meta.model_name}_do"),
            *super().get_urls(),
        ]

    def allowed_buttons(self, request, obj):
        if obj is None:
            return []
        meta = self.model._meta
        return [
            {"name": name, "label": b.label, "needs_reason": b.needs_reason, "danger": b.danger,
             "url": reverse(f"admin:{meta.app_label}_{meta.model_name}_do", args=[obj.pk, name])}
            for name, b in self.service_buttons.items()
            if request.user.has_perm(b.permission) and b.available(obj)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = {
            "workflow_transitions": self.allowed_buttons(request, obj),
            "audit_timeline": list(timeline_for(obj)) if obj is not None else [],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def service_view(self, request, object_id, name):
        obj = self.get_object(request, object_id)
        meta = self.model._meta
        if obj is None:
            self.message_user(request, _("Not found, or not yours to see."), level=messages.ERROR)
            return redirect(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        button = self.service_buttons.get(name)
        if button is None:
            self.message_user(request, _("Unknown action."), level=messages.ERROR)
            return redirect(change_url)
        if not request.user.has_perm(button.permission):
            self.message_user(request, _("Refused: you may not take “%(action)s” on this record now.")
                              % {"action": button.label}, level=messages.ERROR)
            return redirect(change_url)
        return reason_step(self, request, obj, label=button.label, needs_reason=button.needs_reason,
                           change_url=change_url,
                           call=lambda **data: button.service(**{self.service_object_arg: obj},
                                                              actor=request.user, **data))


class FormPageMixin:
    """Renders a plain form page in the admin's frame (custom add forms, extra fields)."""

    form_page_template = "admin/includes/form_page.html"

    def render_form_page(self, request, *, form: forms.Form, title, cancel_url, original=None, intro=""):
        return TemplateResponse(request, self.form_page_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": original,
            "title": title, "form": form, "cancel_url": cancel_url, "intro": intro,
        })
