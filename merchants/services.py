"""Merchant, member, card and credential services: the only code that changes these rows."""
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import (
    Duplicate, InvalidAmount, InvalidState, ValidationFailed,
)
from core.money import parse_amount
from core.names import same_name
from core.workflow import transition

from . import events, hooks
from .account_numbers import next_supervision_account_number
from .models import ApiSecret, BankCard, Member, MemberKind, Merchant, MicroDeposit

PROFILE_FIELDS = (
    "legal_name", "uscc", "contact_name", "contact_phone", "contact_email", "business_type",
    "relationship_manager", "risk_level", "withdrawal_approval_threshold", "risk_reserve_required", "webhook_url",
)
LOCKED_AFTER_APPROVAL = ("uscc", "legal_name")


def _validated(instance, exclude=()):
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as err:
        raise ValidationFailed(_("Please correct the errors."), details=err.message_dict) from None


def _locked(model, pk):
    return model.objects.select_for_update(no_key=True).get(pk=pk)


# --- merchants ---------------------------------------------------------------------------

@transaction.atomic
def merchant_create(*, actor, code: str, **fields) -> Merchant:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    merchant = Merchant(code=code, **fields)
    if isinstance(merchant.uscc, str):
        merchant.uscc = merchant.uscc.strip().upper()
    _validated(merchant, exclude=["status"])
    merchant.save()
    audit_record(actor=actor, obj=merchant, action="create", to_state=merchant.status)
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, actor, **fields) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
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
    _validated(merchant, exclude=["status"])
    merchant.save()
    audit_record(actor=actor, obj=merchant, action="update", data={"changes": changes})
    return merchant


@transaction.atomic
def merchant_submit(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.submitted_by_id = actor.user_id
    merchant.rejection_reason = ""
    return transition(merchant, "submit", actor=actor, reason=reason)


@transaction.atomic
def merchant_approve(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.decided_by_id = actor.user_id
    return transition(merchant, "approve", actor=actor, reason=reason)


@transaction.atomic
def merchant_reject(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    merchant.decided_by_id = actor.user_id
    merchant.rejection_reason = (reason or "").strip()
    return transition(merchant, "reject", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_activate(*, merchant: Merchant, actor, reason: str = "") -> tuple[Merchant, str]:
    """Open the supervision account and the merchant's virtual accounts (ledger hook) and
    issue API credentials. Returns the merchant and the secret, which is shown only once."""
    merchant = _locked(Merchant, merchant.pk)
    merchant.activated_at = timezone.now()
    merchant.supervision_account_number = next_supervision_account_number(merchant)
    merchant.app_id = _new_app_id()
    transition(merchant, "activate", actor=actor, reason=reason,
               data={"supervision_account_number": merchant.supervision_account_number, "app_id": merchant.app_id})
    for fn in hooks.on_activate:
        fn(merchant=merchant, actor=actor)
    secret = _issue_secret(merchant, actor)
    return merchant, secret


@transaction.atomic
def merchant_freeze(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    merchant.freeze_reason = (reason or "").strip()
    merchant.frozen_at = timezone.now()
    transition(merchant, "freeze", actor=actor, reason=reason, reason_required=True)
    events.emit(merchant, "merchant.frozen", {"reason": merchant.freeze_reason})
    return merchant


@transaction.atomic
def merchant_unfreeze(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    merchant.freeze_reason = ""
    merchant.frozen_at = None
    return transition(merchant, "unfreeze", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_start_closing(*, merchant: Merchant, actor, reason: str) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    return transition(merchant, "start_closing", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def merchant_close(*, merchant: Merchant, actor, reason: str = "") -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    problems = [str(p) for check in hooks.close_checks for p in check(merchant)]
    if problems:
        raise InvalidState(_("The merchant can't be closed yet: %(problems)s") % {"problems": "; ".join(problems)})
    return transition(merchant, "close", actor=actor, reason=reason)


# --- credentials -------------------------------------------------------------------------

def _new_app_id() -> str:
    return "jg" + secrets.token_hex(8)


def _issue_secret(merchant: Merchant, actor) -> str:
    secret = secrets.token_urlsafe(32)
    ApiSecret.objects.create(merchant=merchant, secret=secret, created_by_id=as_actor(actor).user_id)
    return secret


@transaction.atomic
def credentials_rotate(*, merchant: Merchant, actor, reason: str = "") -> str:
    """Issue a new secret; the current ones stay valid for the configured overlap."""
    merchant = _locked(Merchant, merchant.pk)
    actor = as_actor(actor)
    if actor.user is not None and not actor.user.has_perm("merchants.rotate_credentials"):
        from core.errors import PermissionRefused

        raise PermissionRefused()
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN):
        raise InvalidState(_("Only an active or frozen merchant has credentials to rotate."))
    overlap_ends = timezone.now() + timedelta(hours=settings.JIANGUAN["SECRET_ROTATION_OVERLAP_HOURS"])
    merchant.api_secrets.filter(expires_at__isnull=True).update(expires_at=overlap_ends)
    merchant.api_secrets.filter(expires_at__gt=overlap_ends).update(expires_at=overlap_ends)
    secret = _issue_secret(merchant, actor)
    audit_record(actor=actor, obj=merchant, action="rotate_credentials", reason=reason,
                 data={"old_secrets_expire_at": overlap_ends.isoformat()})
    return secret


def valid_secrets(merchant: Merchant, *, now=None) -> list[str]:
    now = now or timezone.now()
    rows = merchant.api_secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-id")
    return [row.secret for row in rows]


# --- members -----------------------------------------------------------------------------

@transaction.atomic
def member_create(*, merchant: Merchant, actor, user_id: str, name: str, kind: str,
                  id_number: str = "", phone: str = "", roles=("buyer",)) -> Member:
    member = Member(merchant=merchant, user_id=(user_id or "").strip(), name=(name or "").strip(), kind=kind,
                    is_buyer="buyer" in roles, is_seller="seller" in roles)
    member.set_identity(id_number=(id_number or "").strip(), phone=(phone or "").strip())
    _validated(member, exclude=["merchant", "status"])
    if Member.objects.filter(merchant=merchant, user_id=member.user_id).exists():
        raise Duplicate(_("A member with this user id already exists."), field="user_id")
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise Duplicate(_("A member with this user id already exists."), field="user_id") from None
    audit_record(actor=actor, obj=member, action="create", to_state=member.status)
    for fn in hooks.on_member_created:
        fn(member=member, actor=actor)
    if kind == MemberKind.INDIVIDUAL:
        # Individuals are identified by name and identity number when the platform registers
        # them; businesses are verified through a micro-deposit to their corporate account.
        transition(member, "verify", actor=actor, reason=_("Individual identified at registration"))
    return member


@transaction.atomic
def member_freeze(*, member: Member, actor, reason: str) -> Member:
    member = _locked(Member, member.pk)
    member.freeze_reason = (reason or "").strip()
    member.frozen_at = timezone.now()
    transition(member, "freeze", actor=actor, reason=reason, reason_required=True)
    events.emit(member.merchant, "member.frozen", {"user_id": member.user_id, "reason": member.freeze_reason})
    return member


@transaction.atomic
def member_unfreeze(*, member: Member, actor, reason: str) -> Member:
    member = _locked(Member, member.pk)
    member.freeze_reason = ""
    member.frozen_at = None
    return transition(member, "unfreeze", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def member_close(*, member: Member, actor, reason: str) -> Member:
    """Close a member — never with money or credit left behind: each app that holds something of
    the member's (hooks.member_close_checks) says what stands in the way, and all of it is named."""
    member = _locked(Member, member.pk)
    problems = [str(p) for check in hooks.member_close_checks for p in check(member)]
    if problems:
        raise InvalidState(_("The member can't be closed yet: %(problems)s.") % {"problems": "; ".join(problems)},
                           details={"blockers": problems})
    return transition(member, "close", actor=actor, reason=reason, reason_required=True)


# --- bank cards --------------------------------------------------------------------------

@transaction.atomic
def bank_card_add(*, member: Member, actor, account_number: str, account_name: str, bank_name: str) -> BankCard:
    number = "".join((account_number or "").split())
    if not (number.isascii() and number.isdigit()) or not 8 <= len(number) <= 32:  # '６２２２' is not a card
        raise ValidationFailed(_("An account number has 8 to 32 digits."), field="account_number")
    if not (account_name or "").strip():
        raise ValidationFailed(_("The account name is required."), field="account_name")
    if not (bank_name or "").strip():
        raise ValidationFailed(_("The bank name is required."), field="bank_name")
    if member.status == Member.Status.CLOSED:
        raise InvalidState(_("The member is closed."))
    card = BankCard(merchant_id=member.merchant_id, member=member, account_name=account_name.strip(),
                    bank_name=bank_name.strip())
    card.set_number(number)
    if member.kind == MemberKind.INDIVIDUAL and same_name(account_name, member.name):
        card.verified, card.verified_at = True, timezone.now()
    elif member.kind == MemberKind.BUSINESS:
        # The bank sends this amount to the account; the member reads it off their statement.
        card.micro_deposit_amount = parse_amount(f"0.{secrets.randbelow(98) + 1:02d}")
        card.micro_deposit_status = MicroDeposit.PENDING
    card.save()
    audit_record(actor=actor, obj=card, action="add_bank_card", merchant_id=member.merchant_id,
                 data={"masked_number": card.masked_number, "verified": card.verified})
    return card


def bank_card_verify(*, card: BankCard, actor, amount) -> BankCard:
    """Check the micro-deposit amount. A wrong amount is counted (and committed) before it is
    refused, so guessing stops after BankCard.MAX_VERIFY_ATTEMPTS tries."""
    value = parse_amount(amount)
    with transaction.atomic():
        card = _locked(BankCard, card.pk)
        if card.verified:
            return card
        if card.micro_deposit_amount is None:
            raise InvalidState(_("This card is not verified by micro-deposit; the account name must match the member."))
        if card.verify_attempts >= BankCard.MAX_VERIFY_ATTEMPTS:
            raise InvalidState(_("Too many wrong amounts; add the card again."))
        card.verify_attempts += 1
        matched = value == card.micro_deposit_amount
        if matched:
            card.verified, card.verified_at = True, timezone.now()
        card.save(update_fields=["verified", "verified_at", "verify_attempts"])
        audit_record(actor=actor, obj=card, action="verify_bank_card" if matched else "verify_bank_card_failed",
                     merchant_id=card.merchant_id)
        member = _locked(Member, card.member_id)
        if matched and member.status == Member.Status.PENDING_VERIFICATION:
            transition(member, "verify", actor=actor, reason=_("Corporate account verified by micro-deposit"))
    if not matched:
        raise InvalidAmount(_("The amount does not match the micro-deposit."), field="amount")
    return card

