"""Members (the platform's users) and their bank cards: registration, freezes, closing, card checks."""
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import (
    Duplicate,
    InvalidAmount,
    InvalidState,
    ValidationFailed,
)
from core.money import parse_amount
from core.names import same_name
from core.workflow import transition

from .. import hooks
from ..models import BankCard, Member, MemberKind, Merchant, MicroDeposit
from . import events
from .rows import locked, validated


@transaction.atomic
def member_create(*, merchant: Merchant, actor, user_id: str, name: str, kind: str,
                  id_number: str = "", phone: str = "", roles=("buyer",)) -> Member:
    member = Member(merchant=merchant, user_id=(user_id or "").strip(), name=(name or "").strip(), kind=kind,
                    is_buyer="buyer" in roles, is_seller="seller" in roles)
    member.set_identity(id_number=(id_number or "").strip(), phone=(phone or "").strip())
    validated(member, exclude=["merchant", "status"])
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
    member = locked(Member, member.pk)
    member.freeze_reason = (reason or "").strip()
    member.frozen_at = timezone.now()
    transition(member, "freeze", actor=actor, reason=reason, reason_required=True)
    events.emit(member.merchant, "member.frozen", {"user_id": member.user_id, "reason": member.freeze_reason})
    return member


@transaction.atomic
def member_unfreeze(*, member: Member, actor, reason: str) -> Member:
    member = locked(Member, member.pk)
    member.freeze_reason = ""
    member.frozen_at = None
    return transition(member, "unfreeze", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def member_close(*, member: Member, actor, reason: str) -> Member:
    """Close a member — never with money or credit left behind: each app that holds something of
    the member's (hooks.member_close_checks) says what stands in the way, and all of it is named."""
    member = locked(Member, member.pk)
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
        card = locked(BankCard, card.pk)
        if card.verified:
            return card
        if card.micro_deposit_amount is None:
            raise InvalidState(_("This card is not verified by micro-deposit; the account name must match the member."))
        if card.micro_deposit_status in (MicroDeposit.PENDING, MicroDeposit.SENT):
            raise InvalidState(_("The micro-deposit has not reached the account yet: verify it once the bank has "
                                 "paid it."))
        if card.micro_deposit_status == MicroDeposit.RETURNED:
            raise InvalidState(_("The bank returned the micro-deposit (%(reason)s): the account is wrong; add the "
                                 "card again.") % {"reason": card.micro_deposit_return_reason or "—"})
        if card.verify_attempts >= BankCard.MAX_VERIFY_ATTEMPTS:
            raise InvalidState(_("Too many wrong amounts; add the card again."))
        card.verify_attempts += 1
        matched = value == card.micro_deposit_amount
        if matched:
            card.verified, card.verified_at = True, timezone.now()
        card.save(update_fields=["verified", "verified_at", "verify_attempts"])
        audit_record(actor=actor, obj=card, action="verify_bank_card" if matched else "verify_bank_card_failed",
                     merchant_id=card.merchant_id)
        member = locked(Member, card.member_id)
        if matched and member.status == Member.Status.PENDING_VERIFICATION:
            transition(member, "verify", actor=actor, reason=_("Corporate account verified by micro-deposit"))
    if not matched:
        raise InvalidAmount(_("The amount does not match the micro-deposit."), field="amount")
    return card


# --- the micro-deposit's way to the account (the payouts app sends it in a payout batch) -----

def _micro_deposit_step(card: BankCard, actor, *, source, target, action, reason="", data=None) -> BankCard:
    card = locked(BankCard, card.pk)
    if card.micro_deposit_status not in source:
        raise InvalidState(_("The micro-deposit is “%(status)s”: it can't be marked “%(target)s”.")
                           % {"status": card.get_micro_deposit_status_display() or "—",
                              "target": MicroDeposit(target).label})
    before = card.micro_deposit_status
    card.micro_deposit_status = target
    card.micro_deposit_return_reason = reason[:200]
    card.save(update_fields=["micro_deposit_status", "micro_deposit_return_reason"])
    audit_record(actor=actor, obj=card, action=action, from_state=before, to_state=target, reason=reason,
                 merchant_id=card.merchant_id, data=data)
    return card


@transaction.atomic
def bank_card_micro_deposit_sent(*, card: BankCard, actor, batch_reference: str = "") -> BankCard:
    """The micro-deposit left in a payout batch: the member waits for it to arrive."""
    return _micro_deposit_step(card, actor, source=(MicroDeposit.PENDING,), target=MicroDeposit.SENT,
                               action="micro_deposit_sent", data={"batch": batch_reference})


@transaction.atomic
def bank_card_micro_deposit_paid(*, card: BankCard, actor, bank_reference: str = "") -> BankCard:
    """The bank paid the micro-deposit into the account: the member may now read it back (verify);
    the platform is told (bank_card.micro_deposit_paid) to ask them for the amount."""
    card = _micro_deposit_step(card, actor, source=(MicroDeposit.PENDING, MicroDeposit.SENT),
                               target=MicroDeposit.PAID, action="micro_deposit_paid",
                               data={"bank_reference": bank_reference})
    member = Member.objects.select_related("merchant").get(pk=card.member_id)
    events.emit(member.merchant, "bank_card.micro_deposit_paid",
                {"user_id": member.user_id, "bank_card_id": card.pk, "masked_number": card.masked_number})
    return card


@transaction.atomic
def bank_card_micro_deposit_returned(*, card: BankCard, actor, reason: str) -> BankCard:
    """The bank could not pay the micro-deposit (no such account, wrong name): the card can't be
    verified, and the platform is told (bank_card.micro_deposit_returned) to ask for another."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field="reason")
    card = _micro_deposit_step(card, actor, source=(MicroDeposit.SENT,), target=MicroDeposit.RETURNED,
                               action="micro_deposit_returned", reason=reason)
    member = Member.objects.select_related("merchant").get(pk=card.member_id)
    events.emit(member.merchant, "bank_card.micro_deposit_returned",
                {"user_id": member.user_id, "bank_card_id": card.pk, "masked_number": card.masked_number,
                 "reason": reason})
    return card
