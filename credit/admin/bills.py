from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_display import money, status_badge
from core.admin_workflow import WorkflowAdminMixin
from ledger.calendar import local_now

from ..models import CreditBill, PenaltyAccrual, Repayment
from ..selectors import AGING_BUCKETS, aging_bucket, aging_summary, bills_in_bucket, days_past_due
from .common import ReadOnlyMixin, visible


def today():
    """Aging counts calendar days in the bank's time zone."""
    return local_now().date()


class AgingFilter(admin.SimpleListFilter):
    title = _("aging")
    parameter_name = "aging"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, *_rest in AGING_BUCKETS]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookups(request, None)):
            return bills_in_bucket(queryset, self.value(), today())
        return queryset


class RepaymentInline(ReadOnlyMixin, TabularInline):
    model = Repayment
    extra = 0
    fields = ("created_at", "amount", "penalty_part", "principal_part", "business_date", "idempotency_ref",
              "actor_label", "entry")
    readonly_fields = fields


class PenaltyAccrualInline(ReadOnlyMixin, TabularInline):
    model = PenaltyAccrual
    extra = 0
    fields = ("accrual_date", "principal_base", "rate", "amount")
    readonly_fields = fields


@admin.register(CreditBill)
class CreditBillAdmin(ReadOnlyMixin, WorkflowAdminMixin, ModelAdmin):
    """Bills change only through drawdowns, repayments and the overdue sweep."""

    workflow = {}
    workflow_object_arg = "bill"
    list_display = ("order_no", "member", "payee", "creditor", "amount_display", "outstanding_display", "due_date",
                    "days_past_due_display", "aging_display", "status_badge")
    list_filter = (AgingFilter, "status", "merchant")
    list_select_related = ("member", "payee", "creditor_member")
    search_fields = ("order_no", "member__user_id", "payee__user_id")
    status_badge = status_badge()
    list_before_template = "admin/credit/bill_aging_summary.html"
    fields = ("merchant", "line", "member", "payee", "creditor_is_platform", "creditor_member", "order_no", "amount",
              "principal_repaid", "penalty_rate", "penalty_accrued", "penalty_repaid", "business_date", "due_date",
              "grace_until", "status", "overdue_since", "repaid_on", "last_accrual_date", "entry", "created_by",
              "created_at")
    readonly_fields = fields
    inlines = [RepaymentInline, PenaltyAccrualInline]

    @admin.display(description=_("creditor"))
    def creditor(self, obj):
        return obj.creditor_label

    @admin.display(description=_("principal"), ordering="amount")
    def amount_display(self, obj):
        return money(obj.amount)

    @admin.display(description=_("outstanding"))
    def outstanding_display(self, obj):
        return money(obj.outstanding)

    @admin.display(description=_("days past due"))
    def days_past_due_display(self, obj):
        return days_past_due(obj, today()) if obj.status != CreditBill.Status.REPAID else "—"

    @admin.display(description=_("aging"))
    def aging_display(self, obj):
        key = aging_bucket(obj, today())
        return {k: label for k, label, *_rest in AGING_BUCKETS}.get(key, "—")

    def get_queryset(self, request):
        return visible(super().get_queryset(request), request)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # The summary follows the filters the user chose (merchant, status, aging).
            rows = aging_summary(context["cl"].queryset, today())
            context["aging_summary"] = [{**row, "outstanding": money(row["outstanding"])} for row in rows]
            context["aging_as_of"] = today()
        return response
