"""Withdrawals (出金): requested → (pending_approval →) approved → processing → paid | failed;
pending_approval → rejected.

Money moves with the workflow:
- request: member available → member frozen at once (so it can't be spent twice);
- reject / fail: member frozen → member available (the money returns to the member);
- paid: member frozen → out of the supervision account (the money left the bank's books).

While the platform's risk reserve is short of its requirement, a request above
RESERVE_SHORTFALL_WITHDRAWAL_LIMIT is refused (reserve_shortfall) until the reserve is funded.

Freezes (merchant, member, account) stop money at the gate: a new request, an approval and
sending to the bank are refused. A withdrawal already sent to the bank records its outcome
as it happened (the bank can't recall a payment instruction), and rejecting or failing one
always returns the money to its owner, frozen or not (in only, nothing out).

Outflow rules (ledger.outflows, registered by risk) see every new request before its row goes in:
refused, nothing is booked (RuleRefused); in review, the request is booked as usual (its money
frozen) but waits `in_review` for a risk officer (ledger.services.reviews), then goes on as it
would have (approval above the threshold) or is rejected with the money back.

Maker-checker lives on the model: approve/reject refuse the staff user who requested it."""
import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.actors import Actor, as_actor
from core.audit import audit_record
from core.errors import (
    AccountFrozen,
    ApplicationError,
    CardNotVerified,
    DuplicateOrder,
    InvalidState,
    NotFound,
    ReserveShortfall,
    ValidationFailed,
)
from core.money import format_amount, parse_amount
from core.permissions import require
from core.workflow import transition
from merchants.models import BankCard, Member
from merchants.services import events
from merchants.services.members import member_close

from .. import guards, outflows
from ..calendar import value_date_for
from ..models import AccountKind, EntryType, Withdrawal
from ..posting import Leg, Order, post_entry
from ..selectors import member_balance, reserve_position
from .accounts import member_accounts, platform_account

FINAL_STATES = (Withdrawal.Status.PAID, Withdrawal.Status.FAILED, Withdrawal.Status.REJECTED)


def _fingerprint(*, member, amount, bank_card, order_no) -> str:
    payload = json.dumps({"user_id": member.user_id, "amount": str(amount), "bank_card": bank_card.pk,
                          "order_no": order_no}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _replay(merchant, order_no, fingerprint):
    existing = Withdrawal.objects.filter(merchant=merchant, order_no=order_no).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise DuplicateOrder()
    return existing


def _locked(withdrawal) -> Withdrawal:
    return (Withdrawal.objects.select_for_update(of=("self",), no_key=True)
            .select_related("merchant", "member").get(pk=withdrawal.pk))


# Approvals are people's decisions: a platform or a system job can't take them.
PEOPLE_DECIDE = _("Only bank staff may approve or reject a withdrawal.")


def _payload(w: Withdrawal) -> dict:
    return {"id": w.pk, "user_id": w.member.user_id, "order_no": w.order_no, "amount": str(w.amount),
            "status": w.status, "value_date": w.value_date.isoformat(), "bank_reference": w.bank_reference,
            "reason": w.reason}


def withdrawal_input(*, merchant, member, amount, bank_card, order_no):
    """The request's amount and order number, parsed; the member and card checked to be the merchant's."""
    amount = parse_amount(amount)
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        raise ValidationFailed(_("An order number of 1 to 64 characters is required."), field="order_no")
    guards.ensure_member_of(merchant, member)
    if bank_card is None or bank_card.member_id != member.pk:
        raise NotFound(_("No such bank card for this member."), field="bank_card_id")
    return amount, order_no


def reserve_shortfall_limit() -> Decimal:
    """The largest withdrawal a member may still request while the platform's risk reserve is short."""
    return parse_amount(str(settings.JIANGUAN.get("RESERVE_SHORTFALL_WITHDRAWAL_LIMIT", "10000.00")))


def ensure_reserve_allows(merchant, amount: Decimal) -> None:
    """While the merchant's risk reserve is short of its requirement, no withdrawal above
    RESERVE_SHORTFALL_WITHDRAWAL_LIMIT leaves (ReserveShortfall), until the platform funds it."""
    if amount <= reserve_shortfall_limit() or not merchant.risk_reserve_required:
        return
    position = reserve_position(merchant)
    if position.shortfall > 0:
        raise ReserveShortfall(details={"required": format_amount(position.required),
                                        "reserve": format_amount(position.balance),
                                        "shortfall": format_amount(position.shortfall),
                                        "limit": format_amount(reserve_shortfall_limit())})


def ensure_can_withdraw(*, merchant, member, bank_card, amount: Decimal | None = None,
                        closes_member: bool = False) -> BankCard:
    """Neither merchant nor member frozen, the card verified (read afresh), and (for `amount`) the
    platform's risk reserve not short for a withdrawal above the limit; the card. A member's closing
    payout (bank staff's decision, approved by a second person) is not held back by the reserve."""
    guards.ensure_merchant_can_move_money(merchant)
    guards.ensure_member_can_pay(member)
    bank_card = BankCard.objects.get(pk=bank_card.pk)
    if not bank_card.verified:
        raise CardNotVerified()
    if amount is not None and not closes_member:
        ensure_reserve_allows(merchant, amount)
    return bank_card


@outflows.records_refusals
@transaction.atomic
def withdrawal_request(*, merchant, actor, member, amount, bank_card, order_no,
                       closes_member: bool = False) -> tuple[Withdrawal, bool]:
    """Freeze the amount and open the withdrawal. The same order twice (same content) returns
    the first one with created=False; the same order number with other content is refused.
    A closing payout (closes_member) always waits for a second person's approval."""
    actor = as_actor(actor)
    amount, order_no = withdrawal_input(merchant=merchant, member=member, amount=amount, bank_card=bank_card,
                                        order_no=order_no)
    fingerprint = _fingerprint(member=member, amount=amount, bank_card=bank_card, order_no=order_no)
    # The member row lock serialises this member's requests (and a freeze racing them).
    member = Member.objects.select_for_update(no_key=True).get(pk=member.pk)
    existing = _replay(merchant, order_no, fingerprint)
    if existing is not None:
        return existing, False
    bank_card = ensure_can_withdraw(merchant=merchant, member=member, bank_card=bank_card, amount=amount,
                                    closes_member=closes_member)

    outflow = decision = None
    if outflows.applies(merchant) and not closes_member:  # a closing payout is the bank's own, approved twice
        outflow = outflows.Outflow(kind=outflows.WITHDRAWAL, merchant=merchant, member=member, amount=amount,
                                   bank_card=bank_card, order_no=order_no)
        decision = outflows.check(outflow)
    withdrawal = Withdrawal(merchant=merchant, member=member, bank_card=bank_card, amount=amount, order_no=order_no,
                            value_date=value_date_for(), fingerprint=fingerprint, requested_by=actor.user,
                            closes_member=closes_member)
    try:
        with transaction.atomic():
            withdrawal.save(force_insert=True)
    except IntegrityError:
        existing = _replay(merchant, order_no, fingerprint)  # a concurrent request with the same order
        if existing is None:
            raise
        return existing, False
    available, frozen = member_accounts(member)
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.WITHDRAWAL_REQUEST, idempotency_ref=f"withdrawal:{withdrawal.pk}",
        legs=[Leg(available, -amount), Leg(frozen, amount)], actor=actor,
        order=Order(order_no=order_no, payer_id=member.pk, amount=amount,
                    description=f"withdrawal to {bank_card.masked_number}"),
    )
    withdrawal.request_entry = booked.entry
    in_review = decision is not None and decision.outcome == outflows.REVIEW
    over_threshold = closes_member or amount > merchant.withdrawal_approval_threshold
    step = "require_review" if in_review else "require_approval" if over_threshold else "auto_approve"
    transition(withdrawal, step, actor=actor, action="request",
               data={"amount": str(amount), "order_no": order_no,
                     "threshold": str(merchant.withdrawal_approval_threshold)})
    if outflow is not None:
        outflow.withdrawal = withdrawal
        outflows.booked(outflow, outflows.review(outflow, decision) if in_review else None)
    return withdrawal, True


@transaction.atomic
def withdrawal_approve(*, withdrawal, actor, reason: str = "") -> Withdrawal:
    actor = require(actor, message=PEOPLE_DECIDE)
    w = _locked(withdrawal)
    guards.ensure_merchant_can_move_money(w.merchant)
    guards.ensure_member_can_pay(w.member)
    w.decided_by = actor.user
    return transition(w, "approve", actor=actor, reason=reason)


@transaction.atomic
def withdrawal_reject(*, withdrawal, actor, reason: str) -> Withdrawal:
    actor = require(actor, message=PEOPLE_DECIDE)
    w = _locked(withdrawal)
    w.decided_by = actor.user
    w.reason = (reason or "").strip()
    transition(w, "reject", actor=actor, reason=reason, reason_required=True)
    _return_funds(w, actor)
    events.emit(w.merchant, "withdrawal.rejected", _payload(w))
    return w


@transaction.atomic
def withdrawal_process(*, withdrawal, actor, reason: str = "") -> Withdrawal:
    """Sent to the bank: the last moment a freeze can stop the money."""
    w = _locked(withdrawal)
    guards.ensure_merchant_can_move_money(w.merchant)
    guards.ensure_member_can_pay(w.member)
    _available, frozen = member_accounts(w.member)
    # The money will leave the member's frozen balance and the supervision account.
    if frozen.frozen or platform_account(w.merchant, AccountKind.SUPERVISION).frozen:
        raise AccountFrozen()
    return transition(w, "process", actor=actor, reason=reason)


@transaction.atomic
def withdrawal_mark_paid(*, withdrawal, actor, bank_reference: str = "", reason: str = "") -> Withdrawal:
    """The bank paid it: the money leaves the member's frozen balance and the supervision account."""
    w = _locked(withdrawal)
    w.bank_reference = (bank_reference or "").strip()[:64]
    transition(w, "mark_paid", actor=actor, reason=reason, data={"bank_reference": w.bank_reference})
    _available, frozen = member_accounts(w.member)
    supervision = platform_account(w.merchant, AccountKind.SUPERVISION)
    # Recorded as it happened: the instruction left the bank, freezes can no longer stop it.
    booked = post_entry(
        merchant=w.merchant, entry_type=EntryType.WITHDRAWAL_PAID, idempotency_ref=f"withdrawal:{w.pk}:paid",
        legs=[Leg(frozen, -w.amount, allow_frozen=True), Leg(supervision, -w.amount, check=False, allow_frozen=True)],
        actor=actor, order=Order(order_no=w.order_no, payer_id=w.member_id, amount=w.amount,
                                 description=w.bank_reference),
    )
    w.final_entry = booked.entry
    w.save(update_fields=["final_entry", "updated_at"])
    events.emit(w.merchant, "withdrawal.paid", _payload(w))
    if w.closes_member:
        _close_after_payout(w)
    return w


@transaction.atomic
def member_closing_payout(*, member, actor, reason: str, card_ending: str = "") -> Withdrawal:
    """Close a member whose money is still with us: their whole available balance is paid out to
    their verified card as a withdrawal that waits for a second person's approval (maker-checker);
    when the bank has paid it, the member is closed — unless something else still holds them (a
    credit bill, an announced deposit), which the refusal to close names on their record."""
    actor = require(actor, "merchants.freeze_member")
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    member = Member.objects.select_for_update(no_key=True).select_related("merchant").get(pk=member.pk)
    guards.ensure_member_can_pay(member)
    member_accounts(member)  # opened if the member predates the ledger
    # The balances now: a hot available account's credits not yet rolled up are the member's money too.
    balance = member_balance(member)
    if balance["frozen"]:
        raise InvalidState(_("%(amount)s is frozen (a withdrawal in flight or a hold): settle it first.")
                           % {"amount": balance["frozen"]})
    if not balance["available"]:
        raise InvalidState(_("There is nothing to pay out: close the member instead."))
    cards = [c for c in BankCard.objects.filter(member=member, verified=True).order_by("pk")
             if not card_ending or c.masked_number.endswith(card_ending.strip())]
    if len(cards) != 1:
        raise ValidationFailed(_("Choose exactly one verified card by its last digits (found: %(cards)s).")
                               % {"cards": ", ".join(c.masked_number for c in cards) or "—"}, field="card_ending")
    sequence = Withdrawal.objects.filter(merchant=member.merchant, member=member, closes_member=True).count() + 1
    withdrawal, _created = withdrawal_request(
        merchant=member.merchant, actor=actor, member=member, amount=balance["available"], bank_card=cards[0],
        order_no=f"CLOSE-{member.pk}-{sequence}", closes_member=True)
    audit_record(actor=actor, obj=member, action="closing_payout", reason=reason,
                 data={"withdrawal": withdrawal.pk, "amount": str(withdrawal.amount)})
    return withdrawal


def _close_after_payout(w: Withdrawal) -> None:
    actor = Actor.system("closing-payout")
    try:
        with transaction.atomic():
            member_close(member=w.member, actor=actor,
                         reason=_("Closed when its balance was paid out (withdrawal %(order_no)s).")
                         % {"order_no": w.order_no})
    except ApplicationError as err:  # something else still holds the member: on their record
        audit_record(actor=actor, obj=w.member, action="close_after_payout_refused", reason=str(err.message),
                     data={"withdrawal": w.pk})


@transaction.atomic
def withdrawal_mark_failed(*, withdrawal, actor, reason: str) -> Withdrawal:
    """The bank could not pay it (closed account, wrong name): the money returns to available."""
    w = _locked(withdrawal)
    w.reason = (reason or "").strip()
    transition(w, "fail", actor=actor, reason=reason, reason_required=True)
    _return_funds(w, actor)
    events.emit(w.merchant, "withdrawal.failed", _payload(w))
    return w


def _return_funds(w: Withdrawal, actor) -> Withdrawal:
    available, frozen = member_accounts(w.member)
    booked = post_entry(
        merchant=w.merchant, entry_type=EntryType.WITHDRAWAL_RETURN, idempotency_ref=f"withdrawal:{w.pk}:return",
        legs=[Leg(frozen, -w.amount, allow_frozen=True), Leg(available, w.amount)],
        actor=actor, order=Order(order_no=w.order_no, payee_id=w.member_id, amount=w.amount, description=w.reason),
    )
    w.final_entry = booked.entry
    w.save(update_fields=["final_entry", "updated_at"])
    return w
