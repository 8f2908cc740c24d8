"""Outflow-rule screens: the rules risk officers keep (saved through the service: checked, audited
with who and what changed, never deleted — switched off), the hits each rule left (what it decided
or, observing, would have), and the risk queue with its approve / refuse buttons (the review's
transitions: a risk officer who did not write the rule; the service books the outcome)."""
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from ledger.admin.base import MerchantScopedMixin, ReadOnlyAdminMixin, money_column

from ..models import OutflowRule, RiskReview, RuleHit
from ..services.reviews import review_approve, review_refuse
from ..services.rules import outflow_rule_check, outflow_rule_save

RULE_FORM_FIELDS = ("name", "active", "mode", "outcome", "merchant", "min_risk_level", "movement", "kind", "amount",
                    "count", "window", "days", "hours", "description")


class OutflowRuleForm(forms.ModelForm):
    class Meta:
        model = OutflowRule
        fields = RULE_FORM_FIELDS

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            probe = OutflowRule(**{name: cleaned.get(name) for name in self.Meta.fields})
            try:
                outflow_rule_check(probe)
            except ApplicationError as err:
                field = next((name for name in err.details if name in self.fields), None)
                self.add_error(field, err.message)
        return cleaned


def _hit_rows(hits):
    return format_html("<table>{}</table>", format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='font-mono'>{}</td><td>{}</td></tr>",
        ((f"{timezone.localtime(h.created_at):%Y-%m-%d %H:%M}", h.rule, h.get_movement_display(), h.order_no, h.amount,
          f"{h.get_outcome_display()} · {h.get_mode_display()} · {h.detail}") for h in hits))) if hits else "—"


@admin.register(OutflowRule)
class OutflowRuleAdmin(ModelAdmin):
    form = OutflowRuleForm
    list_display = ("name", "merchant", "min_risk_level", "movement", "kind", "outcome", "mode", "active",
                    "hits_7_days", "updated_by", "updated_at")
    list_filter = ("active", "mode", "outcome", "kind", "movement", "min_risk_level")
    list_select_related = ("merchant", "updated_by")
    search_fields = ("name", "merchant__code", "description")
    autocomplete_fields = ("merchant",)
    readonly_fields = ("created_by", "created_at", "updated_by", "updated_at", "recent_hits")

    def get_fields(self, request, obj=None):
        return RULE_FORM_FIELDS + (self.readonly_fields if obj is not None else ())

    def get_queryset(self, request):
        # How often each rule matched in the last 7 days (what an observing rule would have done): tuning.
        since = timezone.now() - timedelta(days=7)
        return super().get_queryset(request).annotate(
            recent_hits=Count("hits", filter=Q(hits__created_at__gte=since)))

    @admin.display(description=_("hits (7 days)"), ordering="recent_hits")
    def hits_7_days(self, obj):
        return obj.recent_hits

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted: its hits and reviews point at it

    def save_model(self, request, obj, form, change):
        outflow_rule_save(rule=obj, actor=request.user)

    @admin.display(description=_("recent hits"))
    def recent_hits(self, obj):
        return _hit_rows(list(obj.hits.select_related("rule").order_by("-created_at", "-id")[:20]))


@admin.register(RuleHit)
class RuleHitAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "rule", "merchant", "movement", "order_no", "amount_display", "outcome", "mode",
                    "applied", "detail")
    list_filter = ("mode", "outcome", "applied", "movement", "rule")
    list_select_related = ("rule", "merchant")
    search_fields = ("order_no", "member__user_id", "rule__name", "merchant__code")
    amount_display = money_column("amount", _("amount"))
    fields = ("rule", "merchant", "member", "movement", "order_no", "amount", "outcome", "mode", "applied",
              "detail", "payment", "withdrawal", "review", "created_at")
    readonly_fields = fields


@admin.register(RiskReview)
class RiskReviewAdmin(MerchantScopedMixin, ReadOnlyAdminMixin, WorkflowAdminMixin, ModelAdmin):
    workflow_object_arg = "review"
    workflow = {"approve": (review_approve, False), "refuse": (review_refuse, True)}
    list_display = ("created_at", "status_badge", "movement", "merchant", "member", "order_no", "amount_display",
                    "rule", "detail", "decided_by")
    list_filter = ("status", "movement", "rule", "merchant")
    list_select_related = ("merchant", "member", "rule", "decided_by")
    search_fields = ("order_no", "member__user_id", "merchant__code", "rule__name")
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    fields = ("status", "movement", "merchant", "member", "order_no", "amount_display", "movement_link", "rule",
              "detail", "rule_hits", "reason", "decided_by", "decided_at", "created_at")
    readonly_fields = fields

    @admin.display(description=_("payment or withdrawal"))
    def movement_link(self, obj):
        if obj.withdrawal_id:
            return format_html('<a class="underline" href="{}">{}</a>',
                               reverse("admin:ledger_withdrawal_change", args=[obj.withdrawal_id]), obj.withdrawal)
        if obj.payment_id:
            return format_html('<a class="underline" href="{}">{}</a>',
                               reverse("admin:ledger_payment_change", args=[obj.payment_id]), obj.payment)
        return "—"

    @admin.display(description=_("rule hits"))
    def rule_hits(self, obj):
        return _hit_rows(list(obj.hits.select_related("rule")))
