"""Deposits (入金): announced by the platform, credited only on bank-side proof — an imported
statement line or a signed channel notification. Unidentified money goes to suspense."""
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import Actor
from core.audit import audit_record
from core.errors import (
    DuplicateOrder,
    InvalidState,
    NotFound,
    OrderMismatch,
    ValidationFailed,
)
from core.money import parse_amount
from core.workflow import transition
from merchants.services import events

from .. import guards
from ..models import AccountKind, Deposit, EntryType
from ..posting import Leg, Order, post_entry
from .accounts import member_accounts, platform_account

# No 0/O, 1/I: a payer copies the code into a transfer remark by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_payment_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def deposit_announce(*, merchant, actor, member, amount, order_no: str, method: str, channel=None) -> Deposit:
    guards.ensure_merchant_can_receive(merchant)
    guards.ensure_member_of(merchant, member)
    guards.ensure_member_can_receive(member)
    return _announce(merchant=merchant, actor=actor, member=member, amount=amount, order_no=order_no,
                     method=method, channel=channel, purpose=Deposit.Purpose.MEMBER)


@transaction.atomic
def reserve_deposit_announce(*, merchant, actor, amount, order_no: str, method: str = "offline_transfer",
                             channel=None) -> Deposit:
    """The platform (or the bank's staff for it) announces money for its risk reserve (风险保证金). As
    every deposit it is credited only on bank-side proof (a statement line whose remark carries the
    code and whose payer is the platform itself, or a channel's signed notification): then the
    supervision account and the reserve go up by it (a RESERVE_DEPOSIT entry)."""
    guards.ensure_merchant_can_receive(merchant)
    return _announce(merchant=merchant, actor=actor, member=None, amount=amount, order_no=order_no,
                     method=method, channel=channel, purpose=Deposit.Purpose.RISK_RESERVE)


@transaction.atomic
def platform_deposit_announce(*, merchant, actor, amount, order_no: str, method: str = "offline_transfer",
                              channel=None) -> Deposit:
    """The platform announces money for its own account (its fee income: the platform's own money in
    the supervision account, which pays e.g. the micro-deposits verifying its corporate members'
    accounts). Credited only on bank-side proof, paid by the platform itself, as a reserve deposit is:
    then the supervision account and the platform's own account go up (a PLATFORM_DEPOSIT entry)."""
    guards.ensure_merchant_can_receive(merchant)
    return _announce(merchant=merchant, actor=actor, member=None, amount=amount, order_no=order_no,
                     method=method, channel=channel, purpose=Deposit.Purpose.PLATFORM)


def _announce(*, merchant, actor, member, amount, order_no, method, channel, purpose) -> Deposit:
    amount = parse_amount(amount)
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        raise ValidationFailed(_("An order number of 1 to 64 characters is required."), field="order_no")
    if method not in Deposit.Method.values:
        raise ValidationFailed(_("Unknown deposit method."), field="method")
    if method == Deposit.Method.CHANNEL and (channel is None or not channel.enabled):
        raise ValidationFailed(_("An enabled payment channel is required."), field="channel")
    for _attempt in range(5):
        deposit = Deposit(merchant=merchant, member=member, purpose=purpose, amount=amount, order_no=order_no,
                          method=method,
                          channel=channel if method == Deposit.Method.CHANNEL else None,
                          payment_code=new_payment_code())
        try:
            with transaction.atomic():
                deposit.save(force_insert=True)
            break
        except IntegrityError:
            if Deposit.objects.filter(merchant=merchant, order_no=order_no).exists():
                raise DuplicateOrder() from None
    else:  # pragma: no cover - 32^10 codes
        raise RuntimeError("could not draw a unique payment code")
    # No money moves until the bank proves it arrived: the announcement's trace is its audit record.
    audit_record(actor=actor, obj=deposit, action="announce", to_state=deposit.status,
                 data={"order_no": order_no, "amount": amount, "method": method, "purpose": purpose,
                       "user_id": member.user_id if member else None,
                       "channel": deposit.channel.code if deposit.channel_id else ""})
    return deposit


def ensure_creditable(deposit: Deposit, amount: Decimal, proof_kind: str, proof_reference: str) -> bool:
    """Raise why `deposit` can't be credited with `amount` on this proof. True when this very
    proof credited it already (a replay: book nothing again), False when it may be credited."""
    if deposit.status == Deposit.Status.SUCCEEDED:
        if (deposit.proof_kind, deposit.proof_reference) == (proof_kind, proof_reference[:128]):
            return True
        raise InvalidState(_("The deposit was already credited."))
    if deposit.status != Deposit.Status.AWAITING_FUNDS:
        raise InvalidState(_("The deposit is not awaiting funds."))
    if amount != deposit.amount:
        raise OrderMismatch(_("The amount received differs from the announced amount."))
    return False


def deposit_legs(deposit: Deposit, supervision, credited) -> tuple[str, tuple[Leg, Leg], Order]:
    """A deposit's entry: its reference, supervision and the credited account (the member's available
    balance, or the risk reserve: credited_account) up by the announced amount, and the deposit's own order."""
    return (f"deposit:{deposit.pk}", (Leg(supervision, deposit.amount), Leg(credited, deposit.amount)),
            Order(order_no=deposit.order_no, payee_id=deposit.member_id, amount=deposit.amount,
                  description=deposit.payment_code))


def deposit_entry_type(deposit: Deposit) -> str:
    return {Deposit.Purpose.RISK_RESERVE: EntryType.RESERVE_DEPOSIT,
            Deposit.Purpose.PLATFORM: EntryType.PLATFORM_DEPOSIT}.get(deposit.purpose, EntryType.DEPOSIT)


def credited_account(deposit: Deposit):
    """The account a deposit credits: the platform's risk reserve or its own account (fee income), or
    the member's available balance."""
    if deposit.for_platform:
        return platform_account(deposit.merchant, PLATFORM_CREDITED[deposit.purpose])
    return member_accounts(deposit.member)[0]


PLATFORM_CREDITED = {Deposit.Purpose.RISK_RESERVE: AccountKind.RISK_RESERVE, Deposit.Purpose.PLATFORM: AccountKind.FEE_INCOME}


def emit_succeeded(merchant, deposit: Deposit) -> None:
    if deposit.purpose == Deposit.Purpose.PLATFORM:
        events.emit(merchant, "platform_account.funded", {
            "id": deposit.pk, "order_no": deposit.order_no, "amount": str(deposit.amount),
            "payment_code": deposit.payment_code,
        })
        return
    if deposit.for_reserve:
        events.emit(merchant, "reserve.funded", {
            "id": deposit.pk, "order_no": deposit.order_no, "amount": str(deposit.amount),
            "payment_code": deposit.payment_code,
        })
        return
    events.emit(merchant, "deposit.succeeded", {
        "id": deposit.pk, "user_id": deposit.member.user_id, "order_no": deposit.order_no,
        "amount": str(deposit.amount), "payment_code": deposit.payment_code,
    })


@transaction.atomic
def deposit_credit(*, deposit: Deposit, actor, amount, proof_kind: str, proof_reference: str,
                   business_date=None) -> Deposit:
    """Credit an announced deposit on bank-side proof: supervision up, member available (or the risk
    reserve, for a reserve deposit) up.
    The same proof twice books once; a second, different proof for a credited deposit is refused."""
    deposit = Deposit.objects.select_for_update(of=("self",), no_key=True).select_related("merchant", "member").get(pk=deposit.pk)
    if ensure_creditable(deposit, parse_amount(amount), proof_kind, proof_reference):
        return deposit
    guards.ensure_merchant_can_receive(deposit.merchant)
    reference, legs, order = deposit_legs(
        deposit, platform_account(deposit.merchant, AccountKind.SUPERVISION), credited_account(deposit))
    booked = post_entry(merchant=deposit.merchant, entry_type=deposit_entry_type(deposit), idempotency_ref=reference,
                        legs=list(legs), actor=actor, order=order, business_date=business_date)
    deposit.entry = booked.entry
    deposit.proof_kind, deposit.proof_reference = proof_kind, proof_reference[:128]
    deposit.credited_at = timezone.now()
    transition(deposit, "succeed", actor=actor, data={"proof": proof_kind, "reference": proof_reference})
    emit_succeeded(deposit.merchant, deposit)
    return deposit


def expiry_days() -> int:
    return int(settings.JIANGUAN.get("DEPOSIT_EXPIRY_DAYS", 7))


def deposits_expire_due(*, now=None, limit: int = 5000) -> int:
    """Expire the announced deposits still unpaid `DEPOSIT_EXPIRY_DAYS` after they were announced;
    returns how many. Each in its own transaction, re-checked under its row lock, so a deposit
    credited meanwhile is left alone and a second run expires nothing twice. A payment that
    arrives afterwards matches no open deposit: it is parked in suspense, in the exception queue."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=expiry_days())
    due = list(Deposit.objects.filter(status=Deposit.Status.AWAITING_FUNDS, created_at__lt=cutoff)
               .order_by("created_at", "id").values_list("pk", flat=True)[:limit])
    actor = Actor.system("deposit-expiry")
    return sum(1 for pk in due if _expire(pk, actor, cutoff))


@transaction.atomic
def _expire(pk: int, actor, cutoff) -> bool:
    deposit = Deposit.objects.select_for_update(of=("self",), no_key=True).select_related("merchant", "member").get(pk=pk)
    if deposit.status != Deposit.Status.AWAITING_FUNDS or deposit.created_at >= cutoff:
        return False
    transition(deposit, "expire", actor=actor,
               reason=_("Not paid within %(days)s days of its announcement.") % {"days": expiry_days()})
    events.emit(deposit.merchant, "deposit.expired", {
        "id": deposit.pk, "user_id": deposit.member.user_id if deposit.member_id else None,
        "purpose": deposit.purpose, "order_no": deposit.order_no, "amount": str(deposit.amount),
        "payment_code": deposit.payment_code,
    })
    return True


def find_open_deposit_by_code(merchant, text: str) -> Deposit | None:
    """The open deposit whose payment code appears in a remark (statement matching)."""
    upper = (text or "").upper()
    candidates = {upper[i:i + CODE_LENGTH] for i in range(max(0, len(upper) - CODE_LENGTH + 1))}
    if not candidates:
        return None
    return (Deposit.objects.filter(merchant=merchant, status=Deposit.Status.AWAITING_FUNDS,
                                   payment_code__in=candidates).first())


@transaction.atomic
def suspense_receive(*, merchant, actor, amount: Decimal, reference: str, description: str = "",
                     business_date=None):
    """Money arrived that no deposit explains: supervision up, suspense up (so the books add up)."""
    amount = parse_amount(amount)
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.SUSPENSE_IN, idempotency_ref=f"suspense-in:{reference}",
        legs=[Leg(platform_account(merchant, AccountKind.SUPERVISION), amount),
              Leg(platform_account(merchant, AccountKind.SUSPENSE), amount)],
        actor=actor, order=Order(order_no=reference[:64], amount=amount, description=description),
        business_date=business_date,
    )
    return booked.entry


@transaction.atomic
def suspense_match_to_deposit(*, merchant, actor, deposit: Deposit, amount, reference: str, reason: str):
    """Operations identify money parked in suspense as an announced deposit."""
    deposit = (Deposit.objects.select_for_update(of=("self",), no_key=True).select_related("merchant", "member")
               .get(pk=deposit.pk))
    if deposit.merchant_id != merchant.pk:
        raise NotFound()
    amount = parse_amount(amount)
    if deposit.status != Deposit.Status.AWAITING_FUNDS:
        raise InvalidState(_("The deposit is not awaiting funds."))
    if amount != deposit.amount:
        raise OrderMismatch(_("The amount differs from the announced amount."))
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.SUSPENSE_MATCH, idempotency_ref=f"suspense-match:{reference}",
        legs=[Leg(platform_account(merchant, AccountKind.SUSPENSE), -amount, check=True),
              Leg(credited_account(deposit), amount)],
        actor=actor, order=Order(order_no=deposit.order_no, payee_id=deposit.member_id, amount=amount,
                                 description=reason),
    )
    deposit.entry = booked.entry
    deposit.proof_kind, deposit.proof_reference = "statement_line", reference[:128]
    deposit.credited_at = timezone.now()
    transition(deposit, "succeed", actor=actor, reason=reason, data={"matched_from_suspense": reference})
    emit_succeeded(merchant, deposit)  # the platform learns of it as of any other credited deposit
    return deposit


@transaction.atomic
def suspense_match_to_member(*, merchant, actor, member, amount, reference: str, reason: str):
    guards.ensure_member_of(merchant, member)
    amount = parse_amount(amount)
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    available, _frozen = member_accounts(member)
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.SUSPENSE_MATCH, idempotency_ref=f"suspense-match:{reference}",
        legs=[Leg(platform_account(merchant, AccountKind.SUSPENSE), -amount, check=True), Leg(available, amount)],
        actor=actor, order=Order(order_no=reference[:64], payee_id=member.pk, amount=amount, description=reason),
    )
    audit_record(actor=actor, obj=booked.entry, action="suspense_match_member", reason=reason,
                 data={"member": member.user_id, "amount": str(amount)})
    return booked.entry


@transaction.atomic
def suspense_return(*, merchant, actor, amount, reference: str, reason: str):
    """Send unidentified money back to the payer: suspense down, supervision down."""
    amount = parse_amount(amount)
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.SUSPENSE_RETURN, idempotency_ref=f"suspense-return:{reference}",
        legs=[Leg(platform_account(merchant, AccountKind.SUSPENSE), -amount, check=True),
              Leg(platform_account(merchant, AccountKind.SUPERVISION), -amount, check=False)],
        actor=actor, order=Order(order_no=reference[:64], amount=amount, description=reason),
    )
    audit_record(actor=actor, obj=booked.entry, action="suspense_return", reason=reason, data={"amount": str(amount)})
    return booked.entry
