"""Account-level freezes (只进不出): a frozen account still receives credits, but nothing
leaves it — the posting engine refuses every debit from it (AccountFrozen) unless the leg
returns money to its owner (a released hold, a rejected or failed withdrawal)."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import InvalidState, PermissionRefused, ValidationFailed

from ..models import Account


def _checked(actor, reason):
    actor = as_actor(actor)
    if actor.user is None or not actor.user.is_active or not actor.user.has_perm("ledger.freeze_account"):
        raise PermissionRefused()
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    return actor


@transaction.atomic
def account_freeze(*, account, actor, reason: str) -> Account:
    actor = _checked(actor, reason)
    account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
    if account.frozen:
        raise InvalidState(_("The account is already frozen."))
    account.frozen, account.freeze_reason = True, reason.strip()
    account.save(update_fields=["frozen", "freeze_reason"])
    audit_record(actor=actor, obj=account, action="freeze", from_state="active", to_state="frozen", reason=reason)
    return account


@transaction.atomic
def account_unfreeze(*, account, actor, reason: str) -> Account:
    actor = _checked(actor, reason)
    account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
    if not account.frozen:
        raise InvalidState(_("The account is not frozen."))
    account.frozen, account.freeze_reason = False, ""
    account.save(update_fields=["frozen", "freeze_reason"])
    audit_record(actor=actor, obj=account, action="unfreeze", from_state="frozen", to_state="active", reason=reason)
    return account
