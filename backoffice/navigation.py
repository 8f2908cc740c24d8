"""The admin sidebar's permission checks (config/settings/admin_ui.py): each link shows only
to users who may open what it points to. Imported by the settings, so no models here."""


def can(*perms):
    """A sidebar `permission` callable: any of the permissions (a superuser has them all)."""

    def check(request) -> bool:
        user = request.user
        return user.is_active and any(user.has_perm(p) for p in perms)

    check.__name__ = "can_" + "_or_".join(p.replace(".", "_") for p in perms)
    return check


def can_see_performance(request) -> bool:
    from core.roles import RELATIONSHIP_MANAGER

    user = request.user
    return user.is_active and (user.has_perm("backoffice.view_rm_performance")
                               or user.groups.filter(name=RELATIONSHIP_MANAGER).exists())


def is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser
