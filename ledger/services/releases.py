"""Releases of guaranteed payments (确认收货放款), in full or in parts (分批支付 / 分期放款).

A guaranteed payment's money waits in escrow; `held_amount` = amount − released − refunded is
what is still there. A release pays part or all of it to the payees and the platform's fee
income, each release its own journal entry and PaymentRelease row (numbered per payment):
- no amount and no splits: everything still held;
- an amount: spread over the payees and the fee in proportion to what each still has in
  escrow, to the cent by largest remainder (`largest_remainder_shares`);
- splits [(payee, amount)]: exactly those amounts to those payees, and the fee's share in
  proportion to the payee money released (fee held × released now / payees' money held,
  rounded half up); the part that empties the payees' escrow takes all the fee left.
Either way the platform fee is released in step with the payees' money — the platform earns
its commission as the sellers are paid, never ahead of them — and the last part takes the rest.
While anything is still held the status is `partially_released`; when nothing is, `released`.
More than is held (in all or for one payee) is refused (400); a payment neither held nor
partially released is refused (409 invalid_state).

Refunds (payments.payment_refund) take from escrow first and only then from the payees; a
refund that empties escrow of a partially released payment makes it `released`. Auto-release
releases whatever is still held once auto_release_at has passed (ledger.calendar: the
merchant's own delay, else the bank's default).

Outflow rules (ledger.outflows, registered by risk) see every release before it books (not one
a risk officer passes: `reviewed`). Refused: RuleRefused. Review: nothing moves — the money
stays in escrow — and risk queues the request (its amount, splits, reason and reference); the
payment is returned with `pending_review` (a ReviewTicket) and books when the review passes.

Concurrency and idempotency: the payment's row lock serialises its releases and refunds; the
CHECK constraints released + refunded ≤ amount (payment and split) back the arithmetic up.
`idempotency_ref` (the API's Idempotency-Key) books a request once: the same request again
returns the payment, another request under the same reference is an IdempotencyConflict.

On PostgreSQL a full release (no amount, no splits: the buyer's confirmation, the auto-release) that
no risk officer passed is booked by one call of the database's release function (ledger.release_booking,
ledger.sql.release), the audit record and the event written here after it; the Python path below
(SQLite, JIANGUAN_BOOK_IN_DATABASE off, merchants with outflow rules, partial releases) books the same."""
import hashlib
import json
import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import Actor, as_actor
from core.audit import audit_record
from core.errors import (
    ApplicationError,
    IdempotencyConflict,
    InvalidState,
    PermissionRefused,
    ValidationFailed,
)
from core.money import CENT, ZERO, parse_amount
from core.workflow import transition
from merchants.models import Member, Merchant
from merchants.services import events

from .. import guards, outflows
from ..booking import books_in_database
from ..models import AccountKind, EntryType, Payment, PaymentRelease, PaymentSplit
from ..models.payments import RELEASE_PERMISSION
from ..posting import Leg, Order, post_entry
from ..release_booking import release_in_database
from .accounts import members_accounts, platform_account

logger = logging.getLogger(__name__)

FEE = "fee"  # the fee's key among a payment's components (its splits, then the fee)
RELEASABLE = (Payment.Status.HELD, Payment.Status.PARTIALLY_RELEASED)
NOTHING_HELD = _("Nothing of this payment is held in escrow any more.")


# --- shared with refunds -----------------------------------------------------------------

def locked_payment(payment) -> Payment:
    # of=self: lock the payment only, not its merchant's row (every payment of a merchant joins it).
    return Payment.objects.select_for_update(of=("self",), no_key=True).select_related("merchant").get(pk=payment.pk)


def payment_splits(payment) -> list[PaymentSplit]:
    # Splits change only under the payment's row lock, which the caller holds.
    return list(payment.splits.select_related("payee").only(
        "id", "payment_id", "payee_id", "amount", "refunded_amount", "released_amount",
        "payee__id", "payee__merchant_id", "payee__status", "payee__user_id").order_by("id"))


def fee_parts(payment, splits) -> tuple[Decimal, Decimal, Decimal]:
    """The platform fee's (refunded, released, held): the payment's totals less its splits'."""
    refunded = payment.refunded_amount - sum((s.refunded_amount for s in splits), ZERO)
    released = payment.released_amount - sum((s.released_amount for s in splits), ZERO)
    return refunded, released, payment.platform_fee - refunded - released


# --- arithmetic --------------------------------------------------------------------------

def largest_remainder_shares(amount: Decimal, weights: list[tuple]) -> dict:
    """Share `amount` between keys in proportion to their weights [(key, weight)], to the cent
    (Hamilton's largest remainder): each key gets its exact quota rounded down to the cent, then
    the cents left over go one each to the largest remainders (ties: the larger weight, then the
    first listed). Exact in integers; no key gets more than its weight when amount ≤ Σ weights."""
    cents = int(amount / CENT)
    w = [(key, int(weight / CENT)) for key, weight in weights]
    total = sum(c for _key, c in w)
    if not total:
        return {key: ZERO for key, _c in w}
    floors = {key: cents * c // total for key, c in w}
    rest = {key: cents * c % total for key, c in w}
    left = cents - sum(floors.values())
    order = sorted(range(len(w)), key=lambda i: (-rest[w[i][0]], -w[i][1], i))
    for i in order[:left]:
        floors[w[i][0]] += 1
    return {key: Decimal(c) * CENT for key, c in floors.items()}


def _fee_share(fee_held: Decimal, released_now: Decimal, payees_held: Decimal) -> Decimal:
    if released_now >= payees_held:
        return fee_held
    return min(fee_held, (fee_held * released_now / payees_held).quantize(CENT, rounding=ROUND_HALF_UP))


def _fingerprint(amount, splits) -> str:
    body = {"amount": None if amount is None else str(amount),
            "splits": None if splits is None else sorted([pk, str(v)] for pk, v in splits.items())}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def ensure_releasable(payment) -> None:
    if payment.status not in RELEASABLE:
        raise InvalidState(_("Only a payment held in escrow can be released (this one is “%(status)s”).")
                           % {"status": payment.get_status_display()})


def _parsed(amount, splits) -> tuple[Decimal | None, dict | None]:
    if amount not in (None, "") and splits:
        raise ValidationFailed(_("Give an amount or the payees' amounts (splits), not both."), field="amount")
    if splits:
        merged: dict[int, Decimal] = {}
        for payee, value in splits:
            merged[payee.pk] = merged.get(payee.pk, ZERO) + parse_amount(value, field="splits")
        return None, merged
    if splits is not None and not splits:
        raise ValidationFailed(_("At least one payee is required."), field="splits")
    return (None if amount in (None, "") else parse_amount(amount)), None


def _shares(payment, splits, amount, requested) -> dict:
    """{split pk or FEE: amount} of this release (see the module docstring), or a refusal."""
    _fee_refunded, _fee_released, fee_held = fee_parts(payment, splits)
    held = payment.held_amount
    if requested is not None:
        by_payee = {s.payee_id: s for s in splits}
        shares = {}
        for payee_id, value in requested.items():
            split = by_payee.get(payee_id)
            if split is None:
                raise ValidationFailed(_("Only the payment's own payees can receive a release."), field="splits")
            if value > split.held_amount:
                raise ValidationFailed(
                    _("Over-release: at most %(left)s is held for payee %(user_id)s.")
                    % {"left": split.held_amount, "user_id": split.payee.user_id}, field="splits")
            shares[split.pk] = value
        payees_held = sum((s.held_amount for s in splits), ZERO)
        shares[FEE] = _fee_share(fee_held, sum(shares.values(), ZERO), payees_held)
        return shares
    if amount is None or amount == held:
        return {**{s.pk: s.held_amount for s in splits}, FEE: fee_held}
    if amount > held:
        raise ValidationFailed(_("Over-release: at most %(left)s of this payment is still held.") % {"left": held},
                               field="amount")
    return largest_remainder_shares(amount, [(s.pk, s.held_amount) for s in splits] + [(FEE, fee_held)])


# --- release -----------------------------------------------------------------------------

@outflows.records_refusals
@transaction.atomic
def payment_release(*, payment: Payment, actor, amount=None, splits=None, reason: str = "",
                    idempotency_ref: str | None = None, reviewed: bool = False) -> Payment:
    """Release part or all of what a guaranteed payment still holds in escrow (see the module
    docstring); returns the payment. Without amount and splits: all of it, as the buyer's
    confirmation of receipt or the auto-release does."""
    actor = as_actor(actor)
    amount, requested = _parsed(amount, splits)
    reason = (reason or "").strip()[:255]
    ref = (idempotency_ref or "").strip()
    if len(ref) > 128:
        raise ValidationFailed(_("An idempotency reference is at most 128 characters."), field="idempotency_ref")
    # reviewed: a risk officer passed the platform's request (risk.services.reviews decided who may).
    if not reviewed and actor.user is not None and not (actor.user.is_active
                                                        and actor.user.has_perm(RELEASE_PERMISSION)):
        raise PermissionRefused(_("You may not release payments."))
    fingerprint = _fingerprint(amount, requested)
    if amount is None and requested is None and not reviewed:
        merchant = _merchant_of(payment)
        if books_in_database(merchant):
            return _release_all_in_database(payment.pk, merchant, actor=actor, reason=reason, ref=ref,
                                            fingerprint=fingerprint)
    payment = locked_payment(payment)
    if ref:
        existing = PaymentRelease.objects.filter(merchant_id=payment.merchant_id, idempotency_ref=ref).first()
        if existing is not None:
            if existing.payment_id != payment.pk or existing.fingerprint != fingerprint:
                raise IdempotencyConflict()
            return payment
    ensure_releasable(payment)
    guards.ensure_merchant_can_move_money(payment.merchant)
    splits = payment_splits(payment)
    shares = _shares(payment, splits, amount, requested)
    total = sum(shares.values(), ZERO)
    if not total:
        raise InvalidState(NOTHING_HELD)
    paid = [s for s in splits if shares.get(s.pk)]
    for split in paid:
        guards.ensure_member_can_receive(split.payee)
    if not reviewed and outflows.applies(payment.merchant):
        payer = Member.objects.only("id", "merchant_id", "status", "user_id", "created_at").get(pk=payment.payer_id)
        outflow = outflows.Outflow(
            kind=outflows.RELEASE, merchant=payment.merchant, member=payer, amount=total,
            payees=tuple(s.payee for s in paid), payment=payment, order_no=payment.order_no,
            request={"amount": None if amount is None else str(amount), "reason": reason, "idempotency_ref": ref,
                     "splits": None if requested is None else [[pk, str(v)] for pk, v in requested.items()]})
        decision = outflows.check(outflow)
        if decision is not None and decision.outcome == outflows.REVIEW:
            payment.pending_review = outflows.booked(outflow, outflows.review(outflow, decision))
            return payment
        outflows.booked(outflow)
    sequence = payment.releases.count() + 1

    accounts = members_accounts([s.payee for s in paid])
    # check=False: this payment's remainder has been in escrow since it was held, and every
    # debit of escrow (release, refund) runs under this payment's row lock against its own
    # remainder, so escrow covers it without the hot account's overdraft lock.
    legs = [Leg(platform_account(payment.merchant, AccountKind.ESCROW), -total, check=False)]
    legs += [Leg(accounts[s.payee_id][0], shares[s.pk]) for s in paid]
    if shares[FEE]:
        legs.append(Leg(platform_account(payment.merchant, AccountKind.FEE_INCOME), shares[FEE]))
    booked = post_entry(
        merchant=payment.merchant, entry_type=EntryType.PAYMENT_RELEASE,
        idempotency_ref=f"payment-release:{payment.pk}:{sequence}", legs=legs, actor=actor,
        order=Order(order_no=payment.order_no, payer_id=payment.payer_id,
                    payee_id=paid[0].payee_id if len(paid) == 1 else None, amount=total,
                    description=reason or payment.description),
    )
    payees = [{"user_id": s.payee.user_id, "amount": str(shares[s.pk])} for s in paid]
    release = PaymentRelease.objects.create(
        merchant_id=payment.merchant_id, payment=payment, sequence=sequence, amount=total,
        platform_fee=shares[FEE], shares=payees, reason=reason, fingerprint=fingerprint,
        idempotency_ref=ref or f"payment:{payment.pk}:{sequence}", entry=booked.entry)
    for split in paid:
        split.released_amount += shares[split.pk]
    PaymentSplit.objects.bulk_update(paid, ["released_amount"])
    payment.released_amount += total
    finished = not payment.held_amount
    if finished:
        payment.release_entry = booked.entry
        payment.released_at = timezone.now()
    transition(payment, "release" if finished else "release_partially", actor=actor, reason=reason,
               data=_audit_data(payment, booked.entry.pk, release.pk, sequence, total, shares[FEE]))
    _announce(payment, finished, release.pk, sequence, total, shares[FEE], payees)
    return payment


def _merchant_of(payment) -> Merchant:
    """The payment's merchant, read at most once (a caller may pass Payment(pk=...) or an id-only row)."""
    if Payment.merchant.is_cached(payment):
        return payment.merchant
    merchant_id = payment.__dict__.get("merchant_id")
    if merchant_id is None:
        merchant = Merchant.objects.filter(pk=Payment.objects.filter(pk=payment.pk).values("merchant_id")[:1]).first()
        if merchant is None:
            raise Payment.DoesNotExist("Payment matching query does not exist.")
        return merchant
    return Merchant.objects.get(pk=merchant_id)


def _release_all_in_database(payment_id, merchant, *, actor, reason, ref, fingerprint) -> Payment:
    """The full release booked by one call of ledger_release_payment (ledger.release_booking); the
    audit record the `release` transition writes and the event, as the Python path writes them."""
    payment, released = release_in_database(payment_id=payment_id, merchant=merchant, actor=actor, reason=reason,
                                            ref=ref, fingerprint=fingerprint)
    if released is None:  # a replay of the reference
        return payment
    audit_record(actor=actor, obj=payment, action="release", from_state=released.from_status,
                 to_state=payment.status, reason=reason,
                 data=_audit_data(payment, released.entry_id, released.release_id, released.sequence,
                                  released.total, released.fee))
    _announce(payment, True, released.release_id, released.sequence, released.total, released.fee,
              released.payees)
    return payment


def _audit_data(payment, entry_id, release_id, sequence, total, fee) -> dict:
    return {"entry": entry_id, "release": release_id, "part": sequence, "amount": str(total),
            "platform_fee": str(fee), "released_amount": str(payment.released_amount),
            "held_amount": str(payment.held_amount)}


def _announce(payment, finished, release_id, sequence, total, fee, payees) -> None:
    data = {"id": payment.pk, "order_no": payment.order_no, "amount": str(total), "payees": payees,
            "platform_fee": str(fee)}
    if finished:
        events.emit(payment.merchant, "payment.released", data)
    else:
        events.emit(payment.merchant, "payment.partially_released", {
            **data, "release": release_id, "part": sequence, "released_amount": str(payment.released_amount),
            "held_amount": str(payment.held_amount)})


def payment_release_part(*, payment: Payment, actor, amount, reason: str) -> Payment:
    """The admin's partial release: an amount spread pro rata, with a reason, booked once per submission."""
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    return payment_release(payment=payment, actor=actor, amount=amount, reason=reason,
                           idempotency_ref=f"admin:{uuid.uuid4().hex}")


def payments_auto_release_due(*, now=None) -> int:
    """Release what the guaranteed payments whose auto-release time has passed still hold
    (held or partially released); returns how many. Each release is its own transaction: one
    that can't go (a frozen merchant, a closed payee) is logged and left as it is, and a payment
    released or refunded meanwhile is skipped, so a second run books nothing twice."""
    now = now or timezone.now()
    due = (Payment.objects.filter(status__in=RELEASABLE, auto_release_at__lte=now,
                                  merchant__status=Merchant.Status.ACTIVE)
           .order_by("auto_release_at", "id").select_related("merchant"))
    actor = Actor.system("auto-release")
    released = 0
    for payment in due:
        try:
            result = payment_release(payment=payment, actor=actor)
        except ApplicationError as error:  # released or refunded meanwhile, a closed payee, a release in review...
            logger.warning("auto-release of payment %s refused (%s): %s", payment.pk, error.code, error)
            continue
        if getattr(result, "pending_review", None) is None:  # an outflow rule may hold it for risk instead
            released += 1
    return released
