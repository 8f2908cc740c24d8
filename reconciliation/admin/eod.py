"""Order files, end-of-day runs (per date, with a drill-down to each difference) and the
discrepancy cases' workflow."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.audit_labels import labelled_timeline
from core.errors import ApplicationError

from .. import hooks, tasks
from ..models import DiscrepancyCase, EodDifference, EodRun, OrderFile, OrderFileLine
from ..services import cases
from ..services.orders import order_file_from_csv
from . import forms
from .base import ReadOnlyScopedMixin, VisibleMerchantFilter, money_column

DIFFERENCES_SHOWN = 200


def _run_link(run):
    """The run a difference or case belongs to, by date and merchant (its __str__ shows ids)."""
    if run is None:
        return "—"
    return format_html('<a href="{}">{} · {}</a>', reverse("admin:reconciliation_eodrun_change", args=[run.pk]),
                       f"{run.business_date:%Y-%m-%d}", run.merchant.code)


def _entry_link(entry_id):
    if not entry_id:
        return "—"
    return format_html('<a href="{}">#{}</a>', reverse("admin:ledger_journalentry_change", args=[entry_id]), entry_id)


@admin.register(OrderFile)
class OrderFileAdmin(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("id", "merchant", "business_date", "status", "source", "line_count", "total", "actor_label",
                    "created_at")
    list_filter = (VisibleMerchantFilter, "status", "source")
    list_select_related = ("merchant",)
    date_hierarchy = "business_date"
    total = money_column("total_amount", _("total amount"))
    change_list_template = "admin/reconciliation/orderfile_change_list.html"
    fields = ("merchant", "business_date", "status", "source", "file_name", "line_count", "total_amount",
              "actor_label", "created_at", "lines_link")
    readonly_fields = fields

    @display(description=_("orders"))
    def lines_link(self, obj):
        url = reverse("admin:reconciliation_orderfileline_changelist") + f"?order_file__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Show the %(n)s orders") % {"n": obj.line_count})

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view),
                     name="reconciliation_orderfile_upload"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_upload": request.user.has_perm("reconciliation.add_orderfile"),
                 "upload_url": reverse("admin:reconciliation_orderfile_upload")}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def upload_view(self, request):
        if not request.user.has_perm("reconciliation.add_orderfile"):
            raise PermissionDenied
        form = forms.OrderFileUploadForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                order_file = order_file_from_csv(
                    merchant=form.cleaned_data["merchant"], actor=request.user,
                    business_date=form.cleaned_data["business_date"], data=upload.read(), file_name=upload.name)
            except ApplicationError as err:
                form.add_error(None, err.message)
                for problem in (err.details or {}).get("orders", [])[:50]:
                    form.add_error(None, problem)
            else:
                self.message_user(request, _("Order file received: %(n)s orders.") % {"n": order_file.line_count},
                                  level=messages.SUCCESS)
                return redirect("admin:reconciliation_orderfile_change", order_file.pk)
        return self.render_page(request, "admin/includes/form_page.html", title=_("Upload an order file"),
                                form=form, cancel_url=reverse("admin:reconciliation_orderfile_changelist"),
                                multipart=True)


@admin.register(OrderFileLine)
class OrderFileLineAdmin(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("order_no", "order_type", "amount_display", "payer_user_id", "payee_user_id", "order_file")
    list_filter = ("order_type",)
    list_select_related = ("order_file",)
    amount_display = money_column("amount", _("amount"))
    search_fields = ("order_no", "payer_user_id", "payee_user_id")
    fields = ("merchant", "order_file", "order_type", "order_no", "amount", "payer_user_id", "payee_user_id")
    readonly_fields = fields


@admin.register(EodRun)
class EodRunAdmin(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("business_date", "merchant", "status_badge", "orders", "matched", "missing_in_ledger",
                    "missing_in_orders", "amount_mismatches", "party_mismatches", "differences", "supervision",
                    "virtual",
                    "book_close", "bank_close", "finished_at")
    list_filter = (VisibleMerchantFilter, "status")
    list_select_related = ("merchant",)
    date_hierarchy = "business_date"
    status_badge = status_badge()
    supervision = money_column("supervision_balance", _("supervision balance"))
    virtual = money_column("virtual_total", _("Σ virtual"))
    book_close = money_column("book_closing_balance", _("book at close"))
    bank_close = money_column("bank_closing_balance", _("bank at close"))
    change_list_template = "admin/reconciliation/eodrun_change_list.html"
    change_form_template = "admin/workflow_change_form.html"
    fields = ("merchant", "business_date", "status", "order_file_link", "orders", "entries", "matched",
              "missing_in_ledger", "missing_in_orders", "amount_mismatches", "party_mismatches", "differences",
              "supervision_balance",
              "virtual_total", "totals_balance", "postings_match", "book_closing_balance", "bank_closing_balance",
              "runs", "actor_label", "started_at", "finished_at")
    readonly_fields = fields

    @display(description=_("order file"))
    def order_file_link(self, obj):
        if obj.order_file_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:reconciliation_orderfile_change",
                                                          args=[obj.order_file_id]), str(obj.order_file))

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="reconciliation_eodrun_run"),
            path("<path:object_id>/rerun/", self.admin_site.admin_view(self.rerun_view),
                 name="reconciliation_eodrun_rerun"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_run": request.user.has_perm("reconciliation.run_endofday"),
                 "run_url": reverse("admin:reconciliation_eodrun_run")}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"audit_timeline": labelled_timeline(obj) if obj else [],
                 "extra_panels_template": "admin/reconciliation/eodrun_differences.html"}
        if obj is not None:
            if request.user.has_perm("reconciliation.run_endofday"):
                extra["workflow_transitions"] = [{
                    "name": "rerun", "label": _("Run this day again"), "needs_reason": False, "danger": False,
                    "url": reverse("admin:reconciliation_eodrun_rerun", args=[obj.pk])}]
            extra["hooked_panels"] = [panel(request, obj) for panel in hooks.eodrun_panels]
            extra["differences"] = obj.difference_rows.select_related("case").order_by("kind", "id")[:DIFFERENCES_SHOWN]
            extra["differences_url"] = (reverse("admin:reconciliation_eoddifference_changelist")
                                        + f"?run__id__exact={obj.pk}")
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    def _start(self, request, merchant, business_date):
        # A Celery task (eager in tests and the quick start); a rerun replaces the day's result.
        try:
            tasks.run_end_of_day.delay(merchant.pk, business_date.isoformat(), request.user.pk)
        except ApplicationError as err:
            self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)
            return None
        self.message_user(request, _("End of day started for %(merchant)s, %(date)s.")
                          % {"merchant": merchant.code, "date": business_date}, level=messages.SUCCESS)
        return EodRun.objects.filter(merchant=merchant, business_date=business_date).first()

    def run_view(self, request):
        if not request.user.has_perm("reconciliation.run_endofday"):
            raise PermissionDenied
        form = forms.RunEodForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            run = self._start(request, form.cleaned_data["merchant"], form.cleaned_data["business_date"])
            if run is not None:
                return redirect("admin:reconciliation_eodrun_change", run.pk)
            return redirect("admin:reconciliation_eodrun_changelist")
        return self.render_page(request, "admin/includes/form_page.html", title=_("Run end of day"),
                                form=form, cancel_url=reverse("admin:reconciliation_eodrun_changelist"))

    def rerun_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            return redirect("admin:reconciliation_eodrun_changelist")
        if request.method == "POST":
            if not request.user.has_perm("reconciliation.run_endofday"):
                self.message_user(request, _("Refused: you may not run the end of day."), level=messages.ERROR)
            else:
                self._start(request, obj.merchant, obj.business_date)
        return redirect("admin:reconciliation_eodrun_change", obj.pk)


@admin.register(EodDifference)
class EodDifferenceAdmin(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("kind", "order_type", "order_no", "expected", "actual", "detail", "run_display",
                    "case_link")
    list_filter = ("kind", "order_type")
    list_select_related = ("run", "run__merchant", "case")
    search_fields = ("order_no", "key")
    expected = money_column("expected_amount", _("platform / bank amount"))
    actual = money_column("actual_amount", _("ledger amount"))
    fields = ("merchant", "run_display", "kind", "key", "order_type", "order_no", "expected_amount", "actual_amount",
              "platform_payer", "ledger_payer", "platform_payee", "ledger_payee", "entry_display", "detail",
              "case_link")
    readonly_fields = fields

    @display(description=_("run"))
    def run_display(self, obj):
        return _run_link(obj.run)

    @display(description=_("ledger entry"))
    def entry_display(self, obj):
        return _entry_link(obj.entry_id_hint)

    @display(description=_("case"))
    def case_link(self, obj):
        if not obj.case_id:
            return "—"
        return format_html('<a href="{}">#{} {}</a>', reverse("admin:reconciliation_discrepancycase_change",
                                                              args=[obj.case_id]), obj.case_id,
                           obj.case.get_status_display())


@admin.register(DiscrepancyCase)
class DiscrepancyCaseAdmin(WorkflowAdminMixin, ReadOnlyScopedMixin, ModelAdmin):
    workflow_object_arg = "case"
    workflow = {
        "investigate": (cases.case_investigate, False),
        "resolve": (cases.case_resolve, True),
        "write_off": (cases.case_write_off, True),
    }
    list_display = ("business_date", "merchant", "kind", "order_type", "order_no", "expected", "actual",
                    "status_badge", "still_present", "updated_at")
    list_filter = (VisibleMerchantFilter, "status", "kind", "still_present")
    list_select_related = ("merchant",)
    search_fields = ("order_no", "key", "detail")
    date_hierarchy = "business_date"
    status_badge = status_badge()
    expected = money_column("expected_amount", _("platform / bank amount"))
    actual = money_column("actual_amount", _("ledger amount"))
    fields = ("merchant", "business_date", "kind", "key", "order_type", "order_no", "expected_amount",
              "actual_amount", "detail", "status", "still_present", "run_display", "resolution", "resolved_by",
              "opened_at", "updated_at", "closed_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run__merchant")

    @display(description=_("last seen in run"))
    def run_display(self, obj):
        return _run_link(obj.run)
