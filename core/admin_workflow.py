"""One admin mixin for a record's buttons, made safe for a bank: its workflow transitions
(django-fsm-2) and its service buttons (steps that are not transitions: freeze an account,
reverse an entry).

django-fsm-2's own FSMAdminMixin lists only the transitions a user may take, but applies a
posted transition without checking its permission and calls the model method directly. Here:
- a button exists only where the user may press it: a transition where `has_transition_perm`
  is true (permission, conditions, maker-checker), a service button where the user holds its
  permission and the record's state allows it;
- a posted button is refused with a plain message unless the user holds its permission;
- the work goes through the app's service (which locks, audits and runs side effects),
  never `model.save()` from the admin;
- a step that needs a reason (or more) shows its form first.
Buttons post to their own URL, so a user with view-only access (a risk officer approving)
can take the steps they are allowed to without change permission on the record."""
from collections.abc import Callable
from dataclasses import dataclass

import django_fsm as fsm
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextareaWidget

from .audit_labels import labelled_timeline, transition_labels
from .errors import ApplicationError

DANGEROUS_TRANSITIONS = ("reject", "freeze", "close", "start_closing", "fail")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}), required=True)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Comment"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
                             required=False)


@dataclass(frozen=True)
class ServiceButton:
    """A button on a record that is not an FSM transition (freeze an account, reverse an entry)."""

    label: str
    service: Callable  # called as service(<service_object_arg>=obj, actor=request.user, reason=...)
    permission: str
    needs_reason: bool = True
    danger: bool = False
    available: Callable = lambda obj: True
    form_class: type | None = None  # a step that asks for more than a reason (its fields go to the service)


@dataclass(frozen=True)
class _Step:
    """A pressed button, resolved: what to call, and whether this user may."""

    label: str
    needs_reason: bool
    form_class: type | None
    permitted: bool
    call: Callable


class WorkflowAdminMixin:
    """Declare `workflow = {"transition_name": (service_fn, needs_reason)}` for FSM transitions
    and/or `service_buttons = {"name": ServiceButton(...)}` for other steps. A transition's service
    is called as service_fn(<workflow_object_arg>=obj, actor=request.user, reason=...), a button's
    as service(<service_object_arg>=obj, ...). A transition that asks for more than a reason names
    its form as a third item, `(service_fn, needs_reason, FormClass)` (a button: `form_class=`):
    the service then gets every cleaned field as a keyword."""

    workflow: dict = {}
    workflow_object_arg = "obj"
    workflow_state_field = "status"
    service_buttons: dict = {}
    service_object_arg = "obj"
    change_form_template = "admin/workflow_change_form.html"

    def get_urls(self):
        meta = self.model._meta
        return [
            path("<path:object_id>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name=f"{meta.app_label}_{meta.model_name}_transition"),
            path("<path:object_id>/do/<str:name>/", self.admin_site.admin_view(self.service_view),
                 name=f"{meta.app_label}_{meta.model_name}_do"),
            *super().get_urls(),
        ]

    # --- what the user may do ---------------------------------------------------------------
    def allowed_transitions(self, request, obj):
        if obj is None or not self.workflow:
            return []
        available = getattr(obj, f"get_available_user_{self.workflow_state_field}_transitions")(user=request.user)
        return [
            {"name": t.name, "label": t.custom.get("label") or t.name, "needs_reason": self.workflow[t.name][1],
             "url": self._button_url("transition", obj, t.name), "danger": t.name in DANGEROUS_TRANSITIONS}
            for t in available
            if t.name in self.workflow
        ]

    def allowed_buttons(self, request, obj):
        if obj is None:
            return []
        return [
            {"name": name, "label": b.label, "needs_reason": b.needs_reason, "danger": b.danger,
             "url": self._button_url("do", obj, name)}
            for name, b in self.service_buttons.items()
            if request.user.has_perm(b.permission) and b.available(obj)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = {
            "workflow_transitions": self.allowed_transitions(request, obj) + self.allowed_buttons(request, obj),
            "audit_timeline": labelled_timeline(obj) if obj is not None else [],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    # --- pressing a button ------------------------------------------------------------------
    def transition_view(self, request, object_id, name):
        return self._press(request, object_id, name, self._transition_step)

    def service_view(self, request, object_id, name):
        return self._press(request, object_id, name, self._service_step)

    def _transition_step(self, request, obj, name) -> _Step | None:
        method = getattr(obj, name, None)
        if name not in self.workflow or method is None or not hasattr(method, "_django_fsm"):
            return None
        label = transition_labels(type(obj)).get(name, name)  # a refusal names the step too
        service, needs_reason, *form_class = self.workflow[name]
        return _Step(label, needs_reason, form_class[0] if form_class else None,
                     permitted=fsm.has_transition_perm(method, request.user),
                     call=lambda **data: service(**{self.workflow_object_arg: obj}, actor=request.user, **data))

    def _service_step(self, request, obj, name) -> _Step | None:
        button = self.service_buttons.get(name)
        if button is None:
            return None
        return _Step(button.label, button.needs_reason, button.form_class,
                     permitted=request.user.has_perm(button.permission),
                     call=lambda **data: button.service(**{self.service_object_arg: obj}, actor=request.user,
                                                        **data))

    def _press(self, request, object_id, name, resolve):
        obj = self.get_object(request, object_id)
        meta = self.model._meta
        if obj is None:
            self.message_user(request, _("Not found, or not yours to see."), level=messages.ERROR)
            return redirect(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        step = resolve(request, obj, name)
        if step is None:
            self.message_user(request, _("Unknown action."), level=messages.ERROR)
            return redirect(change_url)
        if not step.permitted:
            self.message_user(
                request, _("Refused: you may not take “%(action)s” on this record now.") % {"action": step.label},
                level=messages.ERROR,
            )
            return redirect(change_url)
        return reason_step(self, request, obj, label=step.label, needs_reason=step.needs_reason,
                           change_url=change_url, form_class=step.form_class, call=step.call,
                           panels=self.step_panels(request, obj, name))

    def step_panels(self, request, obj, name) -> list[dict]:
        """Facts to show beside a step's confirmation form ({"title", "ok", "headline", "rows"}),
        e.g. a merchant's risk level and balances before it is frozen. None by default."""
        return []

    def _button_url(self, kind, obj, name):
        meta = self.model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_{kind}", args=[obj.pk, name])


def reason_step(model_admin, request, obj, *, label, needs_reason, change_url, call, form_class=None, panels=()):
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
        "title": label, "transition_label": label, "form": form, "change_url": change_url, "panels": list(panels),
    })
