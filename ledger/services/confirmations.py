"""Outflows a member confirms with a one-time code (merchants.services.challenges).

When the merchant asks for codes (`Merchant.otp_for_withdrawals`), a withdrawal request is
checked as far as it can be without booking (order number, amount, card, freezes) and answered
with a challenge; the code texted to the member confirms it, and the confirmation books the
withdrawal in the same transaction. A request whose order is already booked is not challenged
again: it replays (or is refused as a duplicate) like any withdrawal request.

The outflow rules (ledger.outflows) are asked before the code is sent too: one that would refuse
the withdrawal refuses it then (rule_refused, its hit recorded), so no member types a code for a
withdrawal the bank will not make. Reviews and allowed hits are decided and recorded once, when
the confirmation books it (the books may have moved meanwhile)."""
from django.db import transaction

from merchants.models import BankCard, Challenge
from merchants.services.challenges import (
    challenge_confirm,
    challenge_for,
    challenge_issue,
)

from .. import outflows
from ..models import Withdrawal
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


@outflows.records_refusals  # a rule's refusal rolls the confirmation back; its trace is kept
def movement_confirm(*, merchant, token: str, code: str, actor):
    """Confirm a challenge with its code and book what it holds; answers the booked withdrawal."""
    challenge = challenge_for(merchant, token)

    def book(challenge: Challenge) -> int:
        payload = challenge.payload
        card = BankCard.objects.filter(pk=payload["bank_card_id"], member_id=challenge.member_id).first()
        withdrawal, _created = withdrawal_request(
            merchant=merchant, actor=actor, member=challenge.member, amount=payload["amount"], bank_card=card,
            order_no=payload["order_no"])
        return withdrawal.pk

    challenge = challenge_confirm(challenge=challenge, code=code, actor=actor, book=book)
    return Withdrawal.objects.select_related("member", "bank_card").get(pk=challenge.result_id)
