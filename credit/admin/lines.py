from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_display import money, status_badge
from core.admin_workflow import WorkflowAdminMixin

from .. import services
from ..models import CreditBill, CreditLine
from .common import ReadOnlyMixin, visible


class BillInline(ReadOnlyMixin, TabularInline):
    model = CreditBill
    extra = 0
    fields = ("order_no", "payee", "amount", "principal_repaid", "penalty_accrued", "penalty_repaid", "due_date",
              "status")
    readonly_fields = fields
    show_change_link = True
    ordering = ("-id",)


@admin.register(CreditLine)
class CreditLineAdmin(ReadOnlyMixin, WorkflowAdminMixin, ModelAdmin):
    """Lines are opened and changed only by approved applications; risk suspends,
    reactivates and closes them here with a reason."""

    workflow_object_arg = "line"
    workflow = {
        "suspend": (services.credit_line_suspend, True),
        "reactivate": (services.credit_line_reactivate, True),
        "close": (services.credit_line_close, True),
    }
    list_display = ("member", "merchant", "creditor", "limit_display", "used_display", "available_display",
                    "term_days", "grace_days", "status_badge")
    list_filter = ("status", "creditor_is_platform", "merchant")
    list_select_related = ("member", "merchant", "creditor_member")
    search_fields = ("member__user_id", "member__name", "merchant__code")
    status_badge = status_badge()
    fields = ("merchant", "member", "creditor_is_platform", "creditor_member", "limit", "used", "term_days",
              "grace_days", "penalty_rate", "status", "status_reason", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [BillInline]

    @admin.display(description=_("creditor"))
    def creditor(self, obj):
        return obj.creditor_label

    @admin.display(description=_("limit"), ordering="limit")
    def limit_display(self, obj):
        return money(obj.limit)

    @admin.display(description=_("used"), ordering="used")
    def used_display(self, obj):
        return money(obj.used)

    @admin.display(description=_("available"))
    def available_display(self, obj):
        return money(obj.available)

    def get_queryset(self, request):
        return visible(super().get_queryset(request), request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {}
        if (obj is not None and obj.status != CreditLine.Status.CLOSED
                and request.user.has_perm("credit.add_creditapplication")):
            url = reverse("admin:credit_creditapplication_add") + f"?line={obj.pk}"
            extra["subtitle"] = format_html('<a href="{}" id="request-limit-change">{}</a>', url,
                                            _("Request a limit change"))
        extra.update(extra_context or {})
        return super().change_view(request, object_id, form_url, extra_context=extra)
