"""Who may do what: one check for the services (`require`) and the permission callables for
django-fsm transitions (`@transition(permission=...)`)."""
from django.utils.translation import gettext_lazy as _

from .actors import Actor, as_actor
from .errors import PermissionRefused


def require(actor, *perms: str, people_only: bool = True, message=None) -> Actor:
    """The actor (see core.actors.as_actor) if it may do this, else PermissionRefused (with
    `message`, or a default one).

    people_only: the step is a person's decision, so a platform, a channel or a system job may
    not take it. perms: a staff user must be active and hold every one of them; without
    people_only, an actor that is not a user (a system job, an import, a channel) is not asked
    for them."""
    actor = as_actor(actor)
    if actor.user is None:
        if people_only:
            raise PermissionRefused(message or _("Only bank staff may do this."))
        return actor
    if perms and not (actor.user.is_active and all(actor.user.has_perm(perm) for perm in perms)):
        raise PermissionRefused(message)
    return actor


def may(perm: str):
    """The staff user holds the permission."""
    return lambda instance, user: user.is_active and user.has_perm(perm)


def checker(perm: str, maker_field: str):
    """Maker-checker: the permission, and never the user recorded in `maker_field` (the
    submitter or requester) — the person who prepared a thing never approves it."""
    return lambda instance, user: (
        user.is_active and user.has_perm(perm) and user.pk != getattr(instance, maker_field)
    )
