"""Outflows a member confirms with a one-time code (merchants.services.challenges).

Per merchant: withdrawals (`Merchant.otp_for_withdrawals`), releases from escrow
(`otp_for_releases`: the payer, who confirms receipt, confirms the release) and payments above an
amount (`otp_payments_above`: the payer confirms). Such a request is checked as far as it can be
without booking (order number, amounts, parties, card, freezes, what is still held) and answered
with a challenge; the code texted to the member confirms it, and the confirmation books the
movement in the same transaction, exactly as the request would have. A request whose order is
already booked is not challenged again: it replays (or is refused as a duplicate) like any request.

The outflow rules (ledger.outflows) are asked before the code is sent too: one that would refuse
the withdrawal refuses it then (rule_refused, its hit recorded), so no member types a code for a
withdrawal the bank will not make. Reviews and allowed hits are decided and recorded once, when
the confirmation books it (the books may have moved meanwhile)."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, InvalidState, ValidationFailed
from core.money import parse_amount
from merchants.models import BankCard, Challenge, Member
from merchants.services.challenges import (
    challenge_confirm,
    challenge_for,
    challenge_issue,
)

from .. import outflows
from ..models import Payment, Withdrawal
from .payments import payment_create, payment_input
from .releases import ensure_releasable, payment_release
from .withdrawals import ensure_can_withdraw, withdrawal_input, withdrawal_request


def withdrawal_needs_code(merchant, order_no: str) -> bool:
    order_no = (order_no or "").strip()
    return merchant.otp_for_withdrawals and not Withdrawal.objects.filter(merchant=merchant, order_no=order_no).exists()


@outflows.records_refusals
def withdrawal_challenge(*, merchant, actor, member, amount, bank_card, order_no) -> Challenge:
    """Refuse what withdrawal_request would refuse before the member is bothered, then text the code."""
    amount, order_no = withdrawal_input(merchant=merchant, member=member, amount=amount, bank_card=bank_card,
                                        order_no=order_no)
    card = ensure_can_withdraw(merchant=merchant, member=member, bank_card=bank_card, amount=amount)
    if outflows.applies(merchant):
        with transaction.atomic():  # the rules' row locks end here; only a refusal counts now
            outflows.check(outflows.Outflow(kind=outflows.WITHDRAWAL, merchant=merchant, member=member,
                                            amount=amount, bank_card=card, order_no=order_no))
    return challenge_issue(member=member, purpose=Challenge.Purpose.WITHDRAWAL, actor=actor,
                           payload={"bank_card_id": bank_card.pk, "amount": str(amount), "order_no": order_no})


def payment_needs_code(merchant, order_no: str, amount) -> bool:
    """A payment above the merchant's `otp_payments_above`, of an order not booked yet."""
    if merchant.otp_payments_above is None:
        return False
    try:
        amount = parse_amount(amount)
    except ApplicationError:
        return False  # refused by payment_create, with its own message
    order_no = (order_no or "").strip()
    return amount > merchant.otp_payments_above and not Payment.objects.filter(merchant=merchant,
                                                                              order_no=order_no).exists()


def payment_challenge(*, merchant, actor, payer, amount, order_no, mode, splits, platform_fee="0.00",
                      description="") -> Challenge:
    """Refuse what payment_create would refuse before the payer is bothered, then text the code."""
    order_no, amount, fee, merged = payment_input(merchant=merchant, payer=payer, amount=amount, order_no=order_no,
                                                  mode=mode, splits=splits, platform_fee=platform_fee,
                                                  description=description)
    return challenge_issue(member=payer, purpose=Challenge.Purpose.PAYMENT, actor=actor, payload={
        "amount": str(amount), "order_no": order_no, "mode": mode, "platform_fee": str(fee),
        "description": description or "", "splits": [[pk, str(value)] for pk, value in merged.items()]})


def release_needs_code(merchant) -> bool:
    return merchant.otp_for_releases


def release_challenge(*, merchant, actor, payment, amount=None, splits=None, reason: str = "",
                      idempotency_ref: str) -> Challenge:
    """A release the payer confirms (they confirm receipt of the goods): checked as far as it can be
    without booking, then the code goes to the payer. A release already booked under this
    reference is not challenged again (it replays)."""
    if payment.releases.filter(idempotency_ref=idempotency_ref).exists():
        raise InvalidState(_("This release was already booked."))
    ensure_releasable(payment)
    if amount not in (None, ""):
        amount = parse_amount(amount)
        if amount > payment.held_amount:
            raise ValidationFailed(_("More than is held in escrow (%(held)s) can't be released.")
                                   % {"held": payment.held_amount}, field="amount")
    payer = Member.objects.get(pk=payment.payer_id)
    return challenge_issue(member=payer, purpose=Challenge.Purpose.RELEASE, actor=actor, payload={
        "payment_id": payment.pk, "amount": None if amount in (None, "") else str(amount),
        "splits": None if splits is None else [[member.pk, str(value)] for member, value in splits],
        "reason": reason or "", "idempotency_ref": idempotency_ref})


def _book_withdrawal(merchant, actor, challenge: Challenge) -> int:
    payload = challenge.payload
    card = BankCard.objects.filter(pk=payload["bank_card_id"], member_id=challenge.member_id).first()
    withdrawal, _created = withdrawal_request(
        merchant=merchant, actor=actor, member=challenge.member, amount=payload["amount"], bank_card=card,
        order_no=payload["order_no"])
    return withdrawal.pk


def _members(merchant, pairs):
    members = Member.objects.in_bulk([pk for pk, _value in pairs])
    return [(members[pk], value) for pk, value in pairs if pk in members and members[pk].merchant_id == merchant.pk]


def _book_payment(merchant, actor, challenge: Challenge) -> int:
    payload = challenge.payload
    payment, _created = payment_create(
        merchant=merchant, actor=actor, payer=challenge.member, amount=payload["amount"], order_no=payload["order_no"],
        mode=payload["mode"], splits=_members(merchant, payload["splits"]), platform_fee=payload["platform_fee"],
        description=payload["description"])
    return payment.pk


def _book_release(merchant, actor, challenge: Challenge) -> int:
    payload = challenge.payload
    payment = Payment.objects.get(merchant=merchant, pk=payload["payment_id"])
    splits = None if payload["splits"] is None else _members(merchant, payload["splits"])
    payment_release(payment=payment, actor=actor, amount=payload["amount"], splits=splits,
                    reason=payload["reason"], idempotency_ref=payload["idempotency_ref"])
    return payment.pk


BOOKERS = {Challenge.Purpose.WITHDRAWAL: _book_withdrawal, Challenge.Purpose.PAYMENT: _book_payment,
           Challenge.Purpose.RELEASE: _book_release}


@outflows.records_refusals  # a rule's refusal rolls the confirmation back; its trace is kept
def movement_confirm(*, merchant, token: str, code: str, actor):
    """Confirm a challenge with its code and book what it holds; answers (purpose, the booked
    withdrawal or payment)."""
    challenge = challenge_for(merchant, token)
    challenge = challenge_confirm(challenge=challenge, code=code, actor=actor,
                                  book=lambda c: BOOKERS[c.purpose](merchant, actor, c))
    if challenge.purpose == Challenge.Purpose.WITHDRAWAL:
        return challenge.purpose, Withdrawal.objects.select_related("member", "bank_card").get(pk=challenge.result_id)
    return challenge.purpose, Payment.objects.get(pk=challenge.result_id)
