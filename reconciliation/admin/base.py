"""What the reconciliation screens share."""
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from core.admin_display import money
from merchants.selectors import can_see_all_merchants, merchants_visible_to


def money_column(field: str, description):
    @display(description=description, ordering=field)
    def column(self, obj):
        return money(getattr(obj, field))

    return column


def scoped(qs, user):
    """Rows of the merchants this user may see (an RM: their own portfolio)."""
    return qs if can_see_all_merchants(user) else qs.filter(merchant__relationship_manager=user)


class VisibleMerchantFilter(admin.SimpleListFilter):
    title = _("merchant")
    parameter_name = "merchant"

    def lookups(self, request, model_admin):
        return [(m.pk, f"{m.code} · {m.legal_name}")
                for m in merchants_visible_to(request.user).only("pk", "code", "legal_name").order_by("code")]

    def queryset(self, request, queryset):
        return queryset.filter(merchant_id=self.value()) if self.value() else queryset


class ReadOnlyScopedMixin:
    """Screens show; services write. Scoped to the merchants the user may see."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def render_page(self, request, template, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, **context})
