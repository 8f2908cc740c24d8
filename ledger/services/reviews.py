"""Movements an outflow rule put in review (ledger.outflows), decided by a risk officer in the
risk queue (risk.services.reviews says who may and writes the decision; these book its outcome).

- A payment in review has its row and splits but no payment entry; the payer's money sits in
  their frozen balance (a hold entry). Passed: the hold is undone and the payment books exactly
  as payment_create would have (settled, or held in escrow with its auto-release from now).
  Refused: the hold is undone, the payment ends `refused` (its order number stays used).
- A withdrawal in review is booked (its money frozen by the request) and waits `in_review`.
  Passed: it goes on as it would have (pending approval above the threshold, else approved).
  Refused: rejected, and the money returns to available.
- A release in review booked nothing (the money is still in escrow): passed, the request is
  booked as the platform made it (payment_release, `reviewed`); refused, nothing moves.
Each runs in the caller's transaction under the movement's row lock."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.actors import Actor
from core.errors import InvalidState
from core.permissions import require
from core.workflow import transition
from merchants.models import Member

from .. import guards
from ..calendar import auto_release_at
from ..models import EntryType, Payment, Withdrawal
from ..posting import Leg, Order, post_entry
from .accounts import member_accounts
from .payments import _check_parties, book_payment
from .releases import locked_payment, payment_release
from .withdrawals import _locked, _return_funds


def _in_review(obj):
    if obj.status != obj.Status.IN_REVIEW:
        raise InvalidState(_("Only a movement in risk review can be decided (this one is “%(status)s”).")
                           % {"status": obj.get_status_display()})


def _undo_hold(payment: Payment, actor):
    available, frozen = member_accounts(payment.payer)
    return post_entry(
        merchant=payment.merchant, entry_type=EntryType.HOLD_RELEASE,
        idempotency_ref=f"payment:{payment.pk}:review-release",
        legs=[Leg(frozen, -payment.amount, allow_frozen=True), Leg(available, payment.amount, allow_frozen=True)],
        actor=actor, order=Order(order_no=payment.order_no, payee_id=payment.payer_id, amount=payment.amount,
                                 description="risk review decided"))


@transaction.atomic
def payment_review_pass(*, payment: Payment, actor, reason: str = "") -> Payment:
    actor = require(actor)
    payment = locked_payment(payment)
    _in_review(payment)
    guards.ensure_merchant_can_move_money(payment.merchant)
    merged = dict(payment.splits.values_list("payee_id", "amount"))
    parties = _check_parties(payment.merchant, Member(pk=payment.payer_id), list(merged))
    _undo_hold(payment, actor)
    book_payment(payment, parties, merged, actor=actor)
    guaranteed = payment.mode == Payment.Mode.GUARANTEED
    if guaranteed:
        payment.auto_release_at = auto_release_at(payment.merchant)
    return transition(payment, "pass_review_hold" if guaranteed else "pass_review_settle", actor=actor,
                      reason=reason, data={"entry": payment.entry_id})


@transaction.atomic
def payment_review_refuse(*, payment: Payment, actor, reason: str) -> Payment:
    actor = require(actor)
    payment = locked_payment(payment)
    _in_review(payment)
    transition(payment, "refuse_review", actor=actor, reason=reason, reason_required=True)
    _undo_hold(payment, actor)  # the money goes back whatever the freezes (in only, nothing out)
    return payment


@transaction.atomic
def withdrawal_review_pass(*, withdrawal: Withdrawal, actor, reason: str = "") -> Withdrawal:
    actor = require(actor)
    w = _locked(withdrawal)
    _in_review(w)
    guards.ensure_merchant_can_move_money(w.merchant)
    guards.ensure_member_can_pay(w.member)
    over_threshold = w.closes_member or w.amount > w.merchant.withdrawal_approval_threshold
    return transition(w, "pass_review_to_approval" if over_threshold else "pass_review", actor=actor,
                      reason=reason, data={"threshold": str(w.merchant.withdrawal_approval_threshold)})


@transaction.atomic
def withdrawal_review_refuse(*, withdrawal: Withdrawal, actor, reason: str) -> Withdrawal:
    actor = require(actor)
    w = _locked(withdrawal)
    _in_review(w)
    w.decided_by = actor.user
    w.reason = (reason or "").strip()
    transition(w, "refuse_review", actor=actor, reason=reason, reason_required=True)
    return _return_funds(w, actor)


@transaction.atomic
def release_review_pass(*, payment: Payment, actor, request: dict, reason: str = "") -> Payment:
    """Book the release request risk held (its amount or splits, reason and reference). It books as
    the platform's request passed by risk: a system actor naming the officer (who may not hold the
    staff permission to release payments; the decision is theirs, on the review's timeline)."""
    actor = require(actor)
    booker = Actor.system(f"risk-review:{actor.label}")
    splits = None
    if request.get("splits"):
        members = Member.objects.in_bulk([pk for pk, _value in request["splits"]])
        splits = [(members[pk], value) for pk, value in request["splits"]]
    payment = payment_release(payment=payment, actor=booker, amount=request.get("amount"), splits=splits,
                              reason=request.get("reason") or reason,
                              idempotency_ref=request.get("idempotency_ref") or None, reviewed=True)
    return payment
