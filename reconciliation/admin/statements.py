"""Statement imports (upload → preview → confirm), their lines, and the exception queue.

The upload runs the import as a dry run (everything is done, then rolled back), so the preview
shows exactly what confirming will book: every row's outcome, every error. The file waits under a
signed token (reconciliation.services.uploads) until it is confirmed — the preview's button posts
it to the confirm view here, the one way a previewed file is booked, which hands it to the app
registered in reconciliation.hooks.statement_import_starters (the back office's import job); a
refused file shows its errors and can't be confirmed."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from core.admin_display import money, status_badge
from core.audit_labels import labelled_timeline
from core.errors import ApplicationError
from core.masking import mask_card

from .. import hooks
from ..models import ExceptionQueueItem, StatementBatch, StatementLine
from ..services import exception_queue, uploads
from ..services.imports import statement_import
from ..services.line_outcomes import OUTCOME_LABELS
from . import forms
from .base import ReadOnlyScopedMixin, VisibleMerchantFilter, money_column

ERRORS_SHOWN = 200
# The statement fields (reconciliation.parsing.HEADERS) in the order staff read a line.
COLUMN_LABELS = {
    "bank_reference": _("bank reference"), "value_date": _("value date"), "amount": _("amount"),
    "credit": _("money in (credit)"), "debit": _("money out (debit)"), "direction": _("direction (debit/credit flag)"),
    "counterparty_name": _("counterparty"), "counterparty_account": _("counterparty account"),
    "counterparty_bank": _("counterparty bank"), "remark": _("remark"), "balance": _("balance"),
}
COLUMN_ORDER = {field: rank for rank, field in enumerate(COLUMN_LABELS)}


def _table(head, rows, table_id):
    """A small read-only table for a change page (cells escaped)."""
    return format_html(
        '<table id="{}" class="text-sm border border-base-200"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        table_id, format_html_join("", '<th class="text-left px-2 py-1">{}</th>', ((h,) for h in head)),
        format_html_join("", "<tr>{}</tr>", ((format_html_join(
            "", '<td class="border-t border-base-200 px-2 py-1">{}</td>', ((cell,) for cell in row)),)
            for row in rows)))


def _where(error: dict) -> str:
    """'12', or 'Sheet2 · 12' when the workbook had several sheets; '—' for the whole file."""
    line = error.get("line") or "—"
    return f"{error['sheet']} · {line}" if error.get("sheet") else str(line)


def column_reading(result) -> list[tuple]:
    """The preview's "how each column was read": field, header in the file, the first line's
    cell as written and as read, in the order staff read a line."""
    fields = sorted(result.columns, key=lambda f: COLUMN_ORDER.get(f, len(COLUMN_ORDER)))
    return [(COLUMN_LABELS.get(f, f), result.columns[f], result.samples.get(f, {}).get("cell", ""),
             result.samples.get(f, {}).get("read", "")) for f in fields]


@admin.register(StatementBatch)
class StatementBatchAdmin(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("id", "merchant", "file_name", "status_badge", "rows", "imported", "duplicates", "matched",
                    "unmatched", "closing", "last_value_date", "actor_label", "created_at")
    list_filter = (VisibleMerchantFilter, "status")
    list_select_related = ("merchant",)
    search_fields = ("file_name", "account_number", "sha256")
    date_hierarchy = "created_at"
    status_badge = status_badge()
    closing = money_column("closing_balance", _("closing balance"))
    change_list_template = "admin/reconciliation/statementbatch_change_list.html"
    change_form_template = "admin/reconciliation/statementbatch_change_form.html"
    fields = ("merchant", "account_number", "file_name", "sha256", "file_format", "encoding", "layout",
              "statement_account", "period_start", "period_end", "columns_display", "status", "rows",
              "imported", "duplicates", "matched", "unmatched", "skipped_summary", "skipped_zero", "closing_balance",
              "first_value_date", "last_value_date", "business_date", "errors_display", "actor_label",
              "created_at", "finished_at")
    readonly_fields = fields

    @display(description=_("columns read"))
    def columns_display(self, obj):
        """Which header of the file was read as what: a small table, not the stored JSON."""
        if not obj.columns:
            return "—"
        rows = sorted(obj.columns.items(), key=lambda item: COLUMN_ORDER.get(item[0], len(COLUMN_ORDER)))
        return _table((_("field"), _("header in the file")),
                      ((COLUMN_LABELS.get(field, field), header) for field, header in rows), "batch-columns")

    @display(description=_("errors"))
    def errors_display(self, obj):
        if not obj.errors:
            return "—"
        shown = obj.errors[:ERRORS_SHOWN]
        table = _table((_("line"), _("reason"), _("value")),
                       ((_where(e), e.get("reason") or "", e.get("value") or "") for e in shown), "batch-errors")
        if len(obj.errors) > ERRORS_SHOWN:
            table += format_html("<p>{}</p>", _("and %(n)s more") % {"n": len(obj.errors) - ERRORS_SHOWN})
        return table

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view),
                     name="reconciliation_statementbatch_import"),
                path("import/confirm/", self.admin_site.admin_view(require_POST(self.import_confirm_view)),
                     name="reconciliation_statementbatch_import_confirm"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_import": request.user.has_perm("reconciliation.add_statementbatch"),
                 "import_url": reverse("admin:reconciliation_statementbatch_import")}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"audit_timeline": labelled_timeline(obj) if obj else []}
        if obj is not None:
            lines = StatementLine.objects.filter(batch=obj)
            extra["lines_url"] = reverse("admin:reconciliation_statementline_changelist") + f"?batch__id__exact={obj.pk}"
            extra["outcomes"] = [(StatementLine.Status(s).label, n) for s, n in
                                 sorted(_count_by(lines, "status").items())]
            extra["first_lines"] = lines.select_related("deposit", "withdrawal", "member").order_by("line_no")[:100]
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    # --- upload → preview → confirm ------------------------------------------------------------
    def import_view(self, request):
        if not request.user.has_perm("reconciliation.add_statementbatch"):
            raise PermissionDenied
        form = forms.StatementUploadForm(request.POST or None, request.FILES or None, user=request.user)
        context = {"title": _("Import a bank statement"), "form": form}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            name = uploads.keep(upload)
            with uploads.kept(name).open("rb") as stream:
                result = statement_import(account_number=form.cleaned_data["account"], stream=stream,
                                          file_name=upload.name, actor=request.user, dry_run=True)
            for item in result.preview:
                item["outcome_label"] = OUTCOME_LABELS.get(item["outcome"], item["outcome"])
                item["where"] = _where(item)
            for error in result.errors:
                error["where"] = _where(error)
            context.update(result=result, file_name=upload.name, account=form.cleaned_data["account"],
                           column_reading=column_reading(result),
                           layouts_url=reverse("admin:reconciliation_statementlayout_changelist"))
            if result.refused:
                uploads.discard(name)
            else:
                context["token"] = uploads.issue_token(name=name, account=form.cleaned_data["account"],
                                                       file_name=upload.name, user=request.user,
                                                       layouts_fingerprint=result.layouts_fingerprint)
        return self.render_page(request, "admin/reconciliation/statement_import.html", **context)

    def import_confirm_view(self, request):
        """The preview's "Confirm import": the token the preview issued books the file it names,
        once (a second confirm of the same token finds the file taken)."""
        if not request.user.has_perm("reconciliation.add_statementbatch"):
            raise PermissionDenied
        try:
            ticket = uploads.open_token(request.POST.get("token", ""), user=request.user)
        except uploads.UploadExpired as err:
            messages.error(request, err.message)
            return redirect("admin:reconciliation_statementbatch_import")
        target = uploads.take(ticket)
        if hooks.statement_import_starters:
            return hooks.statement_import_starters[0](request, path=target, ticket=ticket)
        try:
            with target.open("rb") as stream:
                result = statement_import(account_number=ticket.account, stream=stream, file_name=ticket.file_name,
                                          actor=request.user, layouts_fingerprint=ticket.layouts_fingerprint)
        finally:
            target.unlink(missing_ok=True)
        if result.refused or result.batch is None:
            messages.error(request, _("The import was refused: nothing was imported."))
            return redirect("admin:reconciliation_statementbatch_import")
        return redirect("admin:reconciliation_statementbatch_change", result.batch.pk)


def _count_by(qs, field):
    from django.db.models import Count

    return dict(qs.values_list(field).annotate(n=Count("id")).order_by())


# --- statement lines and the exception queue -------------------------------------------------

QUEUE_ACTIONS = {
    # name: (label, form, service, keyword of the chosen object, money in?)
    "match_deposit": (_("Match to a deposit"), forms.MatchDepositForm,
                      exception_queue.statement_line_match_to_deposit, "deposit", True),
    "match_member": (_("Match to a member"), forms.MatchMemberForm,
                     exception_queue.statement_line_match_to_member, "user_id", True),
    "return": (_("Return to payer"), forms.ReasonOnlyForm, exception_queue.statement_line_return, None, True),
    "match_withdrawal": (_("Match to a withdrawal"), forms.MatchWithdrawalForm,
                         exception_queue.statement_line_match_to_withdrawal, "withdrawal", False),
    "ignore": (_("Ignore"), forms.ReasonOnlyForm, exception_queue.statement_line_ignore, None, False),
    "settle_channel": (_("Settle against the channel's deposits"), forms.ReasonOnlyForm,
                       exception_queue.statement_line_settle_channel, None, True),
}


def _queue_action_fits(name: str, money_in: bool, line) -> bool:
    """Money-in lines parked in suspense take the suspense actions; a channel settlement that
    did not add up (money in, never parked) takes only "settle against the channel's deposits"."""
    if money_in != (line.amount > 0):
        return False
    return not money_in or (name == "settle_channel") == (line.suspense_entry_id is None)


class StatementLineAdminBase(ReadOnlyScopedMixin, ModelAdmin):
    list_display = ("bank_reference", "merchant", "value_date", "amount_display", "counterparty_name", "remark",
                    "status_badge", "outcome", "batch_link")
    list_filter = (VisibleMerchantFilter, "status", "value_date")
    list_select_related = ("merchant", "deposit", "withdrawal", "member", "batch")
    search_fields = ("bank_reference", "counterparty_name", "counterparty_account", "remark")
    date_hierarchy = "value_date"
    status_badge = status_badge()
    amount_display = money_column("amount", _("amount"))
    change_form_template = "admin/workflow_change_form.html"
    fields = ("merchant", "batch", "account_number", "line_no", "bank_reference", "value_date", "business_date",
              "amount", "counterparty_name", "counterparty_account_masked", "counterparty_bank", "remark", "balance",
              "status", "note", "candidate_deposit", "deposit", "withdrawal", "member", "suspense_entry", "entry",
              "reason", "resolved_by", "resolved_at", "created_at")
    readonly_fields = fields

    @display(description=_("counterparty account"))
    def counterparty_account_masked(self, obj):
        # Usually the payer's bank card: masked like every card number on screen;
        # search still takes the full number, and the evidence row keeps it as the bank sent it.
        return mask_card(obj.counterparty_account) or "—"

    @display(description=_("outcome"))
    def outcome(self, obj):
        if obj.deposit_id:
            return _("Deposit %(order)s") % {"order": obj.deposit.order_no}
        if obj.withdrawal_id:
            return _("Withdrawal %(order)s") % {"order": obj.withdrawal.order_no}
        if obj.member_id:
            return _("Member %(user)s") % {"user": obj.member.user_id}
        return obj.note or "—"

    @display(description=_("import"))
    def batch_link(self, obj):
        return format_html('<a href="{}">#{}</a>',
                           reverse("admin:reconciliation_statementbatch_change", args=[obj.batch_id]), obj.batch_id)

    def get_urls(self):
        meta = self.model._meta
        return [path("<path:object_id>/queue/<str:action>/", self.admin_site.admin_view(self.queue_view),
                     name=f"{meta.app_label}_{meta.model_name}_queue"), *super().get_urls()]

    def queue_buttons(self, request, obj):
        if (obj is None or obj.status != StatementLine.Status.UNMATCHED
                or not request.user.has_perm("reconciliation.match_statementline")):
            return []
        meta = self.model._meta
        return [{"name": name, "label": label, "needs_reason": True, "danger": name in ("return", "ignore"),
                 "url": reverse(f"admin:{meta.app_label}_{meta.model_name}_queue", args=[obj.pk, name])}
                for name, (label, _form, _service, _arg, money_in) in QUEUE_ACTIONS.items()
                if _queue_action_fits(name, money_in, obj)]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"workflow_transitions": self.queue_buttons(request, obj),
                 "audit_timeline": labelled_timeline(StatementLine(pk=obj.pk)) if obj else []}
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    def queue_view(self, request, object_id, action):
        obj = self.get_object(request, object_id)
        meta = self.model._meta
        if obj is None or action not in QUEUE_ACTIONS:
            self.message_user(request, _("Not found, or not yours to see."), level=messages.ERROR)
            return redirect(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        label, form_class, service, arg, _money_in = QUEUE_ACTIONS[action]
        if not any(b["name"] == action for b in self.queue_buttons(request, obj)):
            self.message_user(request, _("Refused: you may not take “%(action)s” on this line now.")
                              % {"action": label}, level=messages.ERROR)
            return redirect(change_url)
        form = form_class(request.POST or None, line=obj)
        if request.method == "POST" and form.is_valid():
            kwargs = {"line": obj, "actor": request.user, "reason": form.cleaned_data["reason"]}
            if arg:
                kwargs["member" if arg == "user_id" else arg] = form.cleaned_data[arg]
            try:
                service(**kwargs)
            except ApplicationError as err:
                self.message_user(request, _("Refused: %(message)s") % {"message": err.message}, level=messages.ERROR)
            else:
                self.message_user(request, _("Done: %(action)s.") % {"action": label}, level=messages.SUCCESS)
                return redirect(change_url)
        return self.render_page(request, "admin/includes/form_page.html", title=label, original=obj,
                                form=form, cancel_url=change_url,
                                intro=_("%(amount)s from %(who)s, remark “%(remark)s”.") % {
                                    "amount": money(obj.amount), "who": obj.counterparty_name or "?",
                                    "remark": obj.remark})


@admin.register(StatementLine)
class StatementLineAdmin(StatementLineAdminBase):
    pass


@admin.register(ExceptionQueueItem)
class ExceptionQueueAdmin(StatementLineAdminBase):
    list_display = ("bank_reference", "merchant", "value_date", "amount_display", "counterparty_name", "remark",
                    "note", "age_days")
    list_filter = (VisibleMerchantFilter, "value_date")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=StatementLine.Status.UNMATCHED)

    @display(description=_("waiting (days)"))
    def age_days(self, obj):
        from django.utils import timezone

        return (timezone.localdate() - obj.value_date).days
