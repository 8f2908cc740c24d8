"""Back-office screens in the admin: the performance snapshots and the background jobs,
read-only (they are written by the nightly task and by the work they record)."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from core.admin_display import money

from .jobs import jobs_visible_to
from .models import BackgroundJob, PerformanceSnapshot

JOB_COLORS = {"queued": "warning", "running": "info", "succeeded": "success", "failed": "danger"}


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PerformanceSnapshot)
class PerformanceSnapshotAdmin(ReadOnly, ModelAdmin):
    list_display = ("period", "relationship_manager", "merchants_managed", "avg_balance", "end_balance", "inflow",
                    "payments", "overdue", "taken_at")
    list_filter = ("period", "relationship_manager")
    list_filter_submit = True
    list_select_related = ("relationship_manager",)
    readonly_fields = [f.name for f in PerformanceSnapshot._meta.fields]

    @display(description=_("average daily balance"), ordering="average_daily_balance")
    def avg_balance(self, obj):
        return money(obj.average_daily_balance)

    @display(description=_("period-end balance"), ordering="period_end_balance")
    def end_balance(self, obj):
        return money(obj.period_end_balance)

    @display(description=_("inflow"), ordering="inflow_amount")
    def inflow(self, obj):
        return money(obj.inflow_amount)

    @display(description=_("payment volume"), ordering="payment_amount")
    def payments(self, obj):
        return money(obj.payment_amount)

    @display(description=_("overdue"), ordering="overdue_amount")
    def overdue(self, obj):
        return money(obj.overdue_amount)


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnly, ModelAdmin):
    list_display = ("id", "kind", "status_badge", "merchant", "business_date", "user", "progress", "created_at",
                    "finished_at", "page")
    list_filter = ("kind", "status")
    list_filter_submit = True
    list_select_related = ("merchant", "user")
    readonly_fields = [f.name for f in BackgroundJob._meta.fields]

    def get_queryset(self, request):
        return jobs_visible_to(request.user)

    @display(description=_("status"), label=JOB_COLORS, ordering="status")
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("progress"))
    def page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("backoffice:job", args=[obj.pk]), _("Open"))
