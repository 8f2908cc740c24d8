"""What every ledger screen shares: read-only by default, scoped to the merchants the user
may see, money shown with two decimals. Buttons that call services are core.admin_workflow's
(WorkflowAdminMixin with `service_buttons`)."""
from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from core.admin_display import money
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


class FormPageMixin:
    """Renders a plain form page in the admin's frame (custom add forms, extra fields)."""

    form_page_template = "admin/includes/form_page.html"

    def render_form_page(self, request, *, form: forms.Form, title, cancel_url, original=None, intro=""):
        return TemplateResponse(request, self.form_page_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": original,
            "title": title, "form": form, "cancel_url": cancel_url, "intro": intro,
        })
