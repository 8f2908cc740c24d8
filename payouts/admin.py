"""Payout batches: operations build (add), submit, and — a second operations user — approve and
release; cancel from draft or submitted; download the file (CSV or pain.001 XML) once released;
upload the bank's result file. Every button calls a service; auditors and risk read."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminDateWidget, UnfoldAdminSelectWidget

from core.admin_display import status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from ledger.admin.base import (
    FormPageMixin,
    ReadOnlyAdminMixin,
    VisibleMerchantFilter,
    money_column,
    scoped,
)
from ledger.calendar import business_date_for
from merchants.selectors import merchants_visible_to

from . import files
from .models import PayoutBatch
from .selectors import batch_lines
from .services import answers, batches

FILE_STATES = (PayoutBatch.Status.RELEASED, PayoutBatch.Status.PARTIALLY_SETTLED, PayoutBatch.Status.SETTLED)


class BuildForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=None, widget=UnfoldAdminSelectWidget)
    value_date = forms.DateField(label=_("Value date"), widget=UnfoldAdminDateWidget,
                                 help_text=_("Approved withdrawals due by this date are gathered, with every "
                                             "micro-deposit still to be sent."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants_visible_to(user).order_by("code")
        self.fields["value_date"].initial = business_date_for()


class ResultFileForm(forms.Form):
    result_file = forms.FileField(label=_("The bank's result file (CSV, or a pain.002 status report)"),
                                  help_text=_("Header end_to_end_id,status,reason,bank_reference; status paid or "
                                              "returned (with a reason). A file with any error books nothing."))


@admin.register(PayoutBatch)
class PayoutBatchAdmin(FormPageMixin, WorkflowAdminMixin, ReadOnlyAdminMixin, ModelAdmin):
    workflow_object_arg = "batch"
    workflow = {
        "submit": (batches.payout_batch_submit, False),
        "release": (batches.payout_batch_release, False),
        "cancel": (batches.payout_batch_cancel, True),
    }
    list_display = ("reference", "merchant", "value_date", "count", "control_sum_display", "status_badge",
                    "created_by", "approved_by", "created_at")
    list_filter = ("status", VisibleMerchantFilter, "value_date")
    list_select_related = ("merchant", "created_by", "approved_by")
    search_fields = ("reference", "lines__end_to_end_id")
    status_badge = status_badge()
    control_sum_display = money_column("control_sum", _("control sum"))
    fields = ("reference", "merchant", "value_date", "status", "count", "control_sum_display", "created_by",
              "submitted_by", "approved_by", "created_at", "released_at", "settled_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("payouts.build_payoutbatch")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/file.csv", view(self.csv_view), name="payouts_payoutbatch_csv"),
            path("<path:object_id>/file.xml", view(self.xml_view), name="payouts_payoutbatch_xml"),
            path("<path:object_id>/result/", view(self.result_view), name="payouts_payoutbatch_result"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self.get_object(request, object_id)
        extra = {"extra_panels_template": "admin/payouts/batch_panels.html",
                 "payout_lines": batch_lines(batch) if batch else [],
                 "file_ready": batch is not None and batch.status in FILE_STATES
                 and request.user.has_perm("payouts.build_payoutbatch"),
                 "can_settle": request.user.has_perm("payouts.settle_payoutbatch")
                 and batch is not None and batch.status in answers.ANSWERABLE}
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    def add_view(self, request, form_url="", extra_context=None):
        """A batch is built by the service (gathering what is due), never by saving a model form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BuildForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                batch = batches.payout_batch_build(merchant=form.cleaned_data["merchant"], actor=request.user,
                                                   value_date=form.cleaned_data["value_date"])
            except ApplicationError as err:
                form.add_error(None, _("Refused: %(message)s") % {"message": err.message})
            else:
                self.message_user(request, _("Payout batch %(ref)s built: %(n)s payments, %(sum)s.")
                                  % {"ref": batch.reference, "n": batch.count, "sum": batch.control_sum},
                                  level=messages.SUCCESS)
                return redirect(reverse("admin:payouts_payoutbatch_change", args=[batch.pk]))
        return self.render_form_page(request, form=form, title=_("Build a payout batch"),
                                     cancel_url=reverse("admin:payouts_payoutbatch_changelist"),
                                     intro=_("Another operations user approves and releases it."))

    def _file(self, request, object_id, build, content_type, extension):
        if not (request.user.has_perm("payouts.build_payoutbatch")
                or request.user.has_perm("payouts.release_payoutbatch")):
            raise PermissionDenied  # the file carries full account numbers: operations only
        batch = self.get_object(request, object_id)
        if batch is None or batch.status not in FILE_STATES:
            self.message_user(request, _("The file exists once the batch is released."), level=messages.ERROR)
            return redirect(reverse("admin:payouts_payoutbatch_changelist"))
        response = HttpResponse(build(batch, batch_lines(batch)), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.{extension}"'
        return response

    def csv_view(self, request, object_id):
        return self._file(request, object_id, files.batch_csv, "text/csv; charset=utf-8", "csv")

    def xml_view(self, request, object_id):
        return self._file(request, object_id, files.batch_pain001, "application/xml", "xml")

    def result_view(self, request, object_id):
        batch = self.get_object(request, object_id)
        if batch is None:
            raise PermissionDenied
        change_url = reverse("admin:payouts_payoutbatch_change", args=[batch.pk])
        if not request.user.has_perm("payouts.settle_payoutbatch"):
            self.message_user(request, _("Refused: you may not record the bank's answer."), level=messages.ERROR)
            return redirect(change_url)
        form = ResultFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["result_file"]
            try:
                done = answers.payout_batch_apply_result(batch=batch, actor=request.user, data=upload.read(),
                                                         file_name=upload.name)
            except ApplicationError as err:
                form.add_error(None, _("Refused: %(message)s") % {"message": err.message})
            else:
                self.message_user(request, _("Result file booked: %(paid)s paid, %(returned)s returned, "
                                             "%(replayed)s already known.") % done, level=messages.SUCCESS)
                return redirect(change_url)
        return TemplateResponse(request, self.form_page_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": batch,
            "title": _("Upload the bank's result file"), "form": form, "cancel_url": change_url, "multipart": True,
        })
