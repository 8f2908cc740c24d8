"""django-fsm-2's admin mixin, made safe for a bank.

The upstream FSMAdminMixin lists only the transitions a user may take, but applies a posted
transition without checking its permission and calls the model method directly. Here:
- a button exists only where `has_transition_perm` is true (permission and maker-checker);
- a posted transition is refused with a plain message unless it is;
- the work goes through the app's service (which locks, audits and runs side effects),
  never `model.save()` from the admin;
- a transition that needs a reason shows a reason form first.
Buttons post to their own URL, so a user with view-only access (a risk officer approving)
can take the transitions they are allowed to without change permission on the record."""
import django_fsm as fsm
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextareaWidget

from .audit import timeline_for
from .errors import ApplicationError


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}), required=True)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Comment"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
                             required=False)


class WorkflowAdminMixin:
    """Declare `workflow = {"transition_name": (service_fn, needs_reason)}`; the service is
    called as service_fn(obj=..., actor=request.user, reason=...). The keyword naming the
    object is `workflow_object_arg` (e.g. "merchant"). A step that asks for more than a reason
    names its form as a third item, `(service_fn, needs_reason, FormClass)`: the service then
    gets every cleaned field as a keyword."""

    workflow: dict = {}
    workflow_object_arg = "obj"
    workflow_state_field = "status"
    change_form_template = "admin/workflow_change_form.html"

    def get_urls(self):
        meta = self.model._meta
        return [
            path("<path:object_id>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name=f"{meta.app_label}_{meta.model_name}_transition"),
            *super().get_urls(),
        ]

    # --- what the user may do ---------------------------------------------------------------
    def allowed_transitions(self, request, obj):
        if obj is None:
            return []
        available = getattr(obj, f"get_available_user_{self.workflow_state_field}_transitions")(user=request.user)
        meta = self.model._meta
        return [
            {
                "name": t.name,
                "label": t.custom.get("label") or t.name,
                "needs_reason": self.workflow[t.name][1],
                "url": reverse(f"admin:{meta.app_label}_{meta.model_name}_transition", args=[obj.pk, t.name]),
                "danger": t.name in ("reject", "freeze", "close", "start_closing", "fail"),
            }
            for t in available
            if t.name in self.workflow
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = {
            "workflow_transitions": self.allowed_transitions(request, obj),
            "audit_timeline": list(timeline_for(obj)) if obj is not None else [],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    # --- taking a transition ------------------------------------------------------------
    def transition_view(self, request, object_id, name):
        obj = self.get_object(request, object_id)
        meta = self.model._meta
        if obj is None:
            self.message_user(request, _("Not found, or not yours to see."), level=messages.ERROR)
            return redirect(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        method = getattr(obj, name, None)
        if name not in self.workflow or method is None or not hasattr(method, "_django_fsm"):
            self.message_user(request, _("Unknown action."), level=messages.ERROR)
            return redirect(change_url)
        label = dict((t["name"], t["label"]) for t in self.allowed_transitions(request, obj)).get(name, name)
        if not fsm.has_transition_perm(method, request.user):
            self.message_user(
                request, _("Refused: you may not take “%(action)s” on this record now.") % {"action": label},
                level=messages.ERROR,
            )
            return redirect(change_url)
        service, needs_reason, *form_class = self.workflow[name]
        return reason_step(self, request, obj, label=label, needs_reason=needs_reason, change_url=change_url,
                           form_class=form_class[0] if form_class else None,
                           call=lambda **data: service(**{self.workflow_object_arg: obj}, actor=request.user,
                                                       **data))


def reason_step(model_admin, request, obj, *, label, needs_reason, change_url, call, form_class=None):
    """The shared second half of a workflow or service button: show the reason form (GET, or an
    invalid POST), else call the service with the form's fields (`reason`, and any a step's own
    form adds) and report the outcome in plain words."""
    form_class = form_class or (ReasonForm if needs_reason else OptionalReasonForm)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            call(**form.cleaned_data)
        except ApplicationError as err:
            model_admin.message_user(request, _("Refused: %(message)s") % {"message": err.message},
                                     level=messages.ERROR)
        else:
            model_admin.message_user(request, _("Done: %(action)s.") % {"action": label}, level=messages.SUCCESS)
        return redirect(change_url)
    return TemplateResponse(request, "admin/workflow_transition_form.html", {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "original": obj,
        "title": label, "transition_label": label, "form": form, "change_url": change_url,
    })
