"""What the back-office selectors share: the money output type, today's business date, and
which dashboards a user gets."""
from datetime import date

from django.db.models import DecimalField

from core.roles import AUDITOR, OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER

MONEY = DecimalField(max_digits=18, decimal_places=2)
LIST_LIMIT = 20


def today() -> date:
    """The bank's calendar date (Asia/Shanghai): dashboards look back from it."""
    from ledger.calendar import local_now

    return local_now().date()


def roles_of(user) -> set[str]:
    """The staff roles whose dashboard this user sees; a superuser sees them all. One query,
    cached on the user object for the request."""
    cached = getattr(user, "_backoffice_roles", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        roles = set()
    elif user.is_superuser:
        roles = {RELATIONSHIP_MANAGER, RISK_OFFICER, OPERATIONS, AUDITOR}
    else:
        roles = set(user.groups.values_list("name", flat=True)) & {RELATIONSHIP_MANAGER, RISK_OFFICER,
                                                                     OPERATIONS, AUDITOR}
    user._backoffice_roles = roles
    return roles
