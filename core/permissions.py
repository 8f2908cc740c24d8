"""Permission callables for django-fsm transitions (`@transition(permission=...)`)."""


def may(perm: str):
    """The staff user holds the permission."""
    return lambda instance, user: user.is_active and user.has_perm(perm)


def checker(perm: str, maker_field: str):
    """Maker-checker: the permission, and never the user recorded in `maker_field` (the
    submitter or requester) — the person who prepared a thing never approves it."""
    return lambda instance, user: (
        user.is_active and user.has_perm(perm) and user.pk != getattr(instance, maker_field)
    )
