from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_display import money, status_badge
from core.admin_workflow import WorkflowAdminMixin
from core.errors import ApplicationError
from ledger.calendar import business_date_for
from merchants.selectors import members_visible_to

from .. import services
from ..models import CreditApplication, CreditLine
from ..scoring import score_member
from .common import refuse, visible

FORM_FIELDS = ("member", "kind", "line", "proposed_limit", "term_days", "grace_days", "penalty_rate",
               "creditor_is_platform", "creditor_member", "purpose")


class CreditApplicationForm(forms.ModelForm):
    """The RM's draft. Its checks are the service's (validate_application), shown by field."""

    user = None  # set by CreditApplicationAdmin.get_form

    class Meta:
        model = CreditApplication
        fields = FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = members_visible_to(self.user) if self.user is not None else None
        if members is not None:
            if "member" in self.fields:
                self.fields["member"].queryset = members.filter(is_buyer=True).order_by("merchant__code", "user_id")
            if "creditor_member" in self.fields:
                self.fields["creditor_member"].queryset = members.filter(is_seller=True).order_by(
                    "merchant__code", "user_id")
            if "line" in self.fields:
                self.fields["line"].queryset = (CreditLine.objects.exclude(status=CreditLine.Status.CLOSED)
                                                .filter(member__in=members).select_related("member"))

    def clean(self):
        data = super().clean()
        instance = self.instance
        member = data.get("member") or (instance.member if instance.pk else None)
        if member is None or self.errors:
            return data
        try:
            services.validate_application(
                merchant=member.merchant, member=member,
                kind=data.get("kind", instance.kind), line=data.get("line", instance.line),
                proposed_limit=data.get("proposed_limit"), term_days=data.get("term_days"),
                grace_days=data.get("grace_days"), penalty_rate=data.get("penalty_rate"),
                creditor_is_platform=data.get("creditor_is_platform"), creditor_member=data.get("creditor_member"),
                user=self.user)
        except ApplicationError as err:
            placed = False
            for field, messages_ in (err.details or {}).items():
                if field in self.fields:
                    self.add_error(field, messages_)
                    placed = True
            if not placed:
                raise forms.ValidationError(str(err.message)) from None
        return data


@admin.register(CreditApplication)
class CreditApplicationAdmin(WorkflowAdminMixin, ModelAdmin):
    form = CreditApplicationForm
    workflow_object_arg = "application"
    workflow = {
        "submit": (services.credit_application_submit, False),
        "review": (services.credit_application_review, False),
        "approve": (services.credit_application_approve, False),
        "reject": (services.credit_application_reject, True),
    }
    list_display = ("id", "member", "merchant", "kind", "limit_display", "score", "suggested_display",
                    "status_badge", "prepared_by", "created_at")
    list_filter = ("status", "kind", "merchant")
    list_select_related = ("member", "merchant", "prepared_by")
    search_fields = ("member__user_id", "member__name", "merchant__code")
    list_filter_submit = True
    status_badge = status_badge()
    autocomplete_fields = ("member", "creditor_member")
    readonly_after_draft = FORM_FIELDS
    decision_fields = ("merchant", "status", "prepared_by", "reviewed_by", "first_approver", "second_approver",
                       "decided_by", "rejection_reason", "created_at", "updated_at")

    @admin.display(description=_("proposed limit"), ordering="proposed_limit")
    def limit_display(self, obj):
        return money(obj.proposed_limit)

    @admin.display(description=_("suggested limit"))
    def suggested_display(self, obj):
        return money(obj.suggested_limit)

    def get_queryset(self, request):
        return visible(super().get_queryset(request), request)

    def get_fieldsets(self, request, obj=None):
        application = [*FORM_FIELDS]
        if obj is None:
            return ((_("Application"), {"fields": application}),)
        return ((_("Application"), {"fields": application}), (_("Decision"), {"fields": self.decision_fields}))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("member", "kind", "line")
        if obj.status != CreditApplication.Status.DRAFT:
            fixed = FORM_FIELDS
        return (*fixed, *self.decision_fields)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_changeform_initial_data(self, request):
        """"Request a limit change" on a line opens this form filled from the line."""
        initial = super().get_changeform_initial_data(request)
        line_id = request.GET.get("line")
        if line_id and line_id.isdigit():
            line = visible(CreditLine.objects.all(), request).filter(pk=line_id).first()
            if line is not None:
                initial.update(kind=CreditApplication.Kind.LIMIT_CHANGE, line=line.pk, member=line.member_id,
                               proposed_limit=line.limit, term_days=line.term_days, grace_days=line.grace_days,
                               penalty_rate=line.penalty_rate, creditor_is_platform=line.creditor_is_platform,
                               creditor_member=line.creditor_member_id)
        return initial

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != CreditApplication.Status.DRAFT:
            return False  # decided or in review: the buttons, not the form
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                fields = {name: data[name] for name in form.changed_data if name in services.applications.EDITABLE_FIELDS}
                saved = services.credit_application_update(application=obj, actor=request.user, **fields)
            else:
                saved = services.credit_application_create(
                    merchant=data["member"].merchant, actor=request.user, member=data["member"], kind=data["kind"],
                    line=data.get("line"), proposed_limit=data["proposed_limit"], term_days=data["term_days"],
                    grace_days=data["grace_days"], penalty_rate=data["penalty_rate"],
                    creditor_is_platform=data.get("creditor_is_platform", False),
                    creditor_member=data.get("creditor_member"), purpose=data.get("purpose", ""))
        except ApplicationError as err:  # the form ran the same checks: this is a race
            refuse(self, request, err)
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"extra_panels_template": "admin/credit/application_panels.html"}
        if obj is not None:
            extra["credit_panel"] = application_panel(obj)
        extra.update(extra_context or {})
        return super().change_view(request, object_id, form_url, extra_context=extra)


def application_panel(application) -> dict:
    """What the approver decides on: the score and every factor, the approvals, the line."""
    if application.score_factors:
        factors, score = application.score_factors, application.score
        suggested, as_of, live = application.suggested_limit, application.scored_as_of, False
    else:  # a draft: a preview on today's business date, not stored
        result = score_member(application.member, as_of=business_date_for(), term_days=application.term_days)
        factors, score, suggested, as_of, live = (result.factors_as_json(), result.score, result.suggested_limit,
                                                  result.as_of, True)
    return {
        "score": score, "suggested_limit": money(suggested), "as_of": as_of, "live": live,
        "factors": factors, "proposed_limit": money(application.proposed_limit),
        "above_suggestion": suggested is not None and application.proposed_limit > suggested,
        "approvals_needed": application.approvals_needed,
        "first_approver": application.first_approver, "second_approver": application.second_approver,
        "line": application.line,
        "line_limit": money(application.line.limit) if application.line_id else None,
        "line_used": money(application.line.used) if application.line_id else None,
    }
