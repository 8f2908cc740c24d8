"""Workflow helpers shared by every app's services (django-fsm-2).

Services are the only entry point of a transition: they check that the actor may take it
(for staff: the transition's `permission`, which also encodes maker-checker), run it, save,
and write the audit record, all in the caller's transaction."""
import django_fsm as fsm
from django.utils.translation import gettext_lazy as _

from .actors import as_actor
from .audit import audit_record
from .errors import InvalidState, PermissionRefused, ValidationFailed


def transition(obj, name: str, *, actor, reason: str = "", reason_required: bool = False,
               state_field: str = "status", data=None, action: str | None = None, **kwargs):
    actor = as_actor(actor)
    method = getattr(obj, name)
    if reason_required and not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    if not fsm.can_proceed(method, check_conditions=False):
        raise InvalidState(
            _("“%(action)s” is not allowed while the status is “%(status)s”.")
            % {"action": name, "status": getattr(obj, f"get_{state_field}_display")()}
        )
    if actor.user is not None and not fsm.has_transition_perm(method, actor.user):
        raise PermissionRefused(_("You may not take this step on this record."))
    if not fsm.can_proceed(method):
        raise InvalidState(_("The conditions for this step are not met."))
    before = getattr(obj, state_field)
    method(**kwargs)
    obj.save()
    audit_record(actor=actor, obj=obj, action=action or name, from_state=before,
                 to_state=getattr(obj, state_field), reason=reason, data=data)
    return obj
