"""A merchant's life: created, submitted, approved or rejected, activated, frozen, closed."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import (
    InvalidState,
    ValidationFailed,
)
from core.workflow import transition

from .. import hooks
from ..account_numbers import next_supervision_account_number
from ..models import Merchant
from . import events
from .credentials import issue_secret, new_app_id
from .rows import locked, validated

PROFILE_FIELDS = (
    "legal_name", "uscc", "contact_name", "contact_phone", "contact_email", "business_type",
    "relationship_manager", "risk_level", "withdrawal_approval_threshold", "webhook_url",
    "otp_for_withdrawals", "otp_for_releases", "otp_payments_above",
)
LOCKED_AFTER_APPROVAL = ("uscc", "legal_name")



@transaction.atomic
def merchant_create(*, actor, code: str, **fields) -> Merchant:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    merchant = Merchant(code=code, **fields)
    if isinstance(merchant.uscc, str):
        merchant.uscc = merchant.uscc.strip().upper()
    validated(merchant, exclude=["status"])
    merchant.save()
    audit_record(actor=actor, obj=merchant, action="create", to_state=merchant.status)
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, actor, **fields) -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    changes = {}
    for name, value in fields.items():
        if name not in PROFILE_FIELDS:
            raise ValidationFailed(_("Unknown fields: %(names)s") % {"names": name})
        old = getattr(merchant, name)
        if old != value:
            if name in LOCKED_AFTER_APPROVAL and merchant.status not in (Merchant.Status.DRAFT, Merchant.Status.REJECTED):
                raise InvalidState(_("The legal name and credit code can't change after submission."))
            changes[name] = [str(old), str(value)]
            setattr(merchant, name, value)
    if not changes:
        return merchant
    validated(merchant, exclude=["status"])
    merchant.save()
    audit_record(actor=actor, obj=merchant, action="update", data={"changes": changes})
    return merchant


@transaction.atomic
def merchant_submit(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.submitted_by_id = actor.user_id
    merchant.rejection_reason = ""
    return transition(merchant, "submit", actor=actor, reason=reason)


@transaction.atomic
def merchant_approve(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.decided_by_id = actor.user_id
    return transition(merchant, "approve", actor=actor, reason=reason)


@transaction.atomic
def merchant_reject(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.decided_by_id = actor.user_id
    merchant.rejection_reason = (reason or "").strip()
    return transition(merchant, "reject", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_activate(*, merchant: Merchant, actor, reason: str = "") -> tuple[Merchant, str]:
    """Open the supervision account and the merchant's virtual accounts (ledger hook) and
    issue API credentials. Returns the merchant and the secret, which is shown only once."""
    merchant = locked(Merchant, merchant.pk)
    merchant.activated_at = timezone.now()
    merchant.supervision_account_number = next_supervision_account_number(merchant)
    merchant.app_id = new_app_id()
    transition(merchant, "activate", actor=actor, reason=reason,
               data={"supervision_account_number": merchant.supervision_account_number, "app_id": merchant.app_id})
    for fn in hooks.on_activate:
        fn(merchant=merchant, actor=actor)
    secret = issue_secret(merchant, actor)
    return merchant, secret


@transaction.atomic
def merchant_freeze(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    merchant.freeze_reason = (reason or "").strip()
    merchant.frozen_at = timezone.now()
    transition(merchant, "freeze", actor=actor, reason=reason, reason_required=True)
    events.emit(merchant, "merchant.frozen", {"reason": merchant.freeze_reason})
    return merchant


@transaction.atomic
def merchant_unfreeze(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    merchant.freeze_reason = ""
    merchant.frozen_at = None
    return transition(merchant, "unfreeze", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_start_closing(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    return transition(merchant, "start_closing", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_close(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = locked(Merchant, merchant.pk)
    problems = [str(p) for check in hooks.close_checks for p in check(merchant)]
    if problems:
        raise InvalidState(_("The merchant can't be closed yet: %(problems)s") % {"problems": "; ".join(problems)})
    return transition(merchant, "close", actor=actor, reason=reason)
