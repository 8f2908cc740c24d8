"""Risk screens: balance monitors (kept by risk and operations), their alerts (acknowledged with a
reason), and the history of computed risk levels (with the button that recomputes one). Every
change goes through risk.services; nothing here writes a row itself."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_workflow import ReasonForm, reason_step
from core.errors import ApplicationError
from ledger.admin.base import MerchantScopedMixin, ReadOnlyAdminMixin
from merchants.models import Merchant
from merchants.selectors import merchants_visible_to

from ..models import BalanceMonitor, MonitorAlert, RiskAssessment
from ..selectors.monitors import factor_rows
from ..services.assessments import merchant_assess
from ..services.monitors import (
    alert_acknowledge,
    balance_monitor_check,
    balance_monitor_save,
    monitor_evaluate,
)


class BalanceMonitorForm(forms.ModelForm):
    class Meta:
        model = BalanceMonitor
        fields = ("description", "merchant", "member", "field", "operator", "threshold", "enabled")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            probe = BalanceMonitor(**{name: cleaned.get(name) for name in self.Meta.fields})
            try:
                balance_monitor_check(probe)
            except ApplicationError as err:
                field = next((name for name in err.details if name in self.fields), None)
                self.add_error(field, err.message)
            else:
                cleaned["merchant"] = probe.merchant  # a member's monitor is for the member's merchant
        return cleaned


@admin.register(BalanceMonitor)
class BalanceMonitorAdmin(ModelAdmin):
    form = BalanceMonitorForm
    list_display = ("description", "merchant", "target", "condition", "enabled", "open_alerts")
    list_filter = ("enabled", "field", "merchant")
    search_fields = ("description", "merchant__code", "member__user_id")
    autocomplete_fields = ("merchant", "member")
    actions = ["evaluate_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("merchant", "member").annotate(
            open_count=Count("alerts", filter=Q(alerts__cleared_at__isnull=True)))

    @admin.display(description=_("target"))
    def target(self, obj):
        return obj.member if obj.member_id else _("every account: %(field)s") % {"field": obj.get_field_display()}

    @admin.display(description=_("condition"))
    def condition(self, obj):
        return f"{obj.get_operator_display()} {obj.threshold}"

    @admin.display(description=_("open alerts"), ordering="open_count")
    def open_alerts(self, obj):
        return obj.open_count

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted: its alerts point at it

    def save_model(self, request, obj, form, change):
        balance_monitor_save(monitor=obj, actor=request.user)

    def has_evaluate_permission(self, request):
        return request.user.has_perm("risk.evaluate_balancemonitor")

    @admin.action(description=_("Evaluate the selected monitors now"), permissions=["evaluate"])
    def evaluate_now(self, request, queryset):
        raised = cleared = 0
        for monitor in queryset.order_by("id"):
            result = monitor_evaluate(monitor=monitor, actor=request.user)
            raised, cleared = raised + len(result.raised), cleared + len(result.cleared)
        self.message_user(request, _("Evaluated: %(raised)d alert(s) raised, %(cleared)d cleared.")
                          % {"raised": raised, "cleared": cleared}, messages.SUCCESS)


@admin.register(MonitorAlert)
class MonitorAlertAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("crossed_at", "merchant", "monitor", "member", "value", "cleared_at", "acknowledged")
    list_filter = (("cleared_at", admin.EmptyFieldListFilter), ("acknowledged_at", admin.EmptyFieldListFilter),
                   "monitor__field", "merchant")
    list_select_related = ("merchant", "monitor", "member")
    search_fields = ("merchant__code", "member__user_id", "monitor__description")
    fields = ("monitor", "merchant", "account", "member", "condition", "value", "crossed_at", "cleared_at",
              "cleared_value", "acknowledged_by", "acknowledged_at", "acknowledge_reason")
    readonly_fields = fields

    @admin.display(description=_("acknowledged"))
    def acknowledged(self, obj):
        if obj.acknowledged_at:
            return format_html("{} · {}", obj.acknowledged_by, obj.acknowledge_reason)
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>',
                           reverse("admin:risk_monitoralert_acknowledge", args=[obj.pk]), _("Acknowledge"))

    def get_urls(self):
        return [path("<int:alert_id>/acknowledge/", self.admin_site.admin_view(self.acknowledge_view),
                     name="risk_monitoralert_acknowledge"), *super().get_urls()]

    def acknowledge_view(self, request, alert_id):
        if not request.user.has_perm("risk.acknowledge_monitoralert"):
            raise PermissionDenied
        alert = get_object_or_404(self.get_queryset(request), pk=alert_id)
        return reason_step(self, request, alert, label=_("Acknowledge the alert"), needs_reason=True,
                           form_class=ReasonForm, change_url=reverse("admin:risk_monitoralert_changelist"),
                           call=lambda reason: alert_acknowledge(alert=alert, actor=request.user, reason=reason))


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("computed_at", "merchant", "level", "score", "as_of", "computed_by")
    list_filter = ("level", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("merchant__code", "merchant__legal_name")
    fields = ("merchant", "level", "score", "as_of", "window_days", "computed_at", "computed_by", "factor_table")
    readonly_fields = fields

    @admin.display(description=_("factors"))
    def factor_table(self, obj):
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><td>{}</td><td class='font-mono'>{}</td></tr>", factor_rows(obj)))

    def get_urls(self):
        return [path("recompute/<int:merchant_id>/", self.admin_site.admin_view(self.recompute_view),
                     name="risk_riskassessment_recompute"), *super().get_urls()]

    def recompute_view(self, request, merchant_id):
        if not request.user.has_perm("risk.assess_merchant"):
            raise PermissionDenied
        merchant = get_object_or_404(merchants_visible_to(request.user), pk=merchant_id)
        change_url = reverse("admin:merchants_merchant_change", args=[merchant.pk])
        if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN, Merchant.Status.CLOSING):
            self.message_user(request, _("Only a merchant holding money has a computed risk level."), messages.ERROR)
            return redirect(change_url)
        return reason_step(self, request, merchant, label=_("Recompute the risk level"), needs_reason=False,
                           change_url=change_url,
                           call=lambda reason="": merchant_assess(merchant=merchant, actor=request.user))

