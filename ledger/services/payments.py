"""Payments (支付) and refunds; releases from escrow are in ledger.services.releases.

- Direct payments settle at once: payer available → each payee's available (split amounts)
  and the platform fee → fee income. Status `settled`.
- Guaranteed payments move the whole amount from the payer into escrow (status `held`) until
  the buyer confirms receipt (`payment_release`, in full or in parts) or `auto_release_at`
  (the merchant's delay, else the bank's) passes; a release moves escrow → payees and fee income.
- Refunds go back to the payer: from what escrow still holds first, then (after a release, or
  for a direct payment) from the payees and fee income, pro rata by split (see `pro_rata_shares`).

Idempotency: `order_no` is unique per merchant. A fingerprint of the request (payer, amount,
mode, splits, fee) tells a replay (the existing payment is returned, created=False) from a
reuse of the number for a different payment (DuplicateOrder). The same payee named twice in
the splits is merged into one split of the summed amount (the payee receives the same money
either way), so both spellings have the same fingerprint.

Outflow rules (ledger.outflows, registered by risk): every new payment is offered to them once its
row is in (a replay never is) and before its entry books. Refused: RuleRefused, nothing kept. Review:
the payment is created `in_review` with its splits, the payer's money moves available → frozen
(a hold entry), and risk queues it; ledger.services.reviews books it when a risk officer passes
it, or gives the money back when they refuse it (`refused`).

On PostgreSQL a payment is booked by one call of the database's booking function (ledger.booking,
ledger.sql.booking) once the request is parsed and checked here; the Python path below (SQLite, the
setting JIANGUAN_BOOK_IN_DATABASE off, merchants with outflow rules) books the same, step by step.

Frozen parties: a frozen payer pays nothing; frozen payees still receive (只进不出) but pay
nothing back; a closed member neither pays nor receives."""
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import (
    ApplicationError,
    DuplicateOrder,
    IdempotencyConflict,
    InvalidState,
    MemberFrozen,
    NotFound,
    ValidationFailed,
)
from core.money import CENT, ZERO, parse_amount
from core.workflow import transition
from merchants.models import Member, Merchant
from merchants.services import events

from .. import guards, outflows
from ..booking import book_payment_in_database, books_in_database
from ..calendar import auto_release_at
from ..models import AccountKind, EntryType, Payment, PaymentSplit, Refund
from ..posting import Leg, Order, post_entry
from .accounts import members_accounts, platform_account
from .releases import (
    FEE,
    fee_parts,
    locked_payment,
    payment_release,
    payment_splits,
    payments_auto_release_due,
)

# payment_release and payments_auto_release_due live in releases.py and stay importable from here.
__all__ = ["book_payment", "payment_create", "payment_refund", "payment_release", "payment_review_hold",
           "payments_auto_release_due", "pro_rata_shares"]
REF_MAX = 120  # Refund.idempotency_ref is 128 long, and the entry's reference adds "refund:"


# --- create ------------------------------------------------------------------------------

def _fingerprint(*, payer_id, amount, mode, splits: dict, fee) -> str:
    body = {"payer": payer_id, "amount": str(amount), "mode": mode, "fee": str(fee),
            "splits": sorted([pk, str(value)] for pk, value in splits.items())}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _validated_request(*, payer, amount, order_no, mode, splits, platform_fee, description):
    """Check the request alone (no database): returns (order_no, amount, fee, {payee pk: amount})."""
    if mode not in Payment.Mode.values:
        raise ValidationFailed(_("The mode must be “direct” or “guaranteed”."), field="mode")
    order_no = (order_no or "").strip()
    if not order_no or len(order_no) > 64:
        raise ValidationFailed(_("An order number of 1 to 64 characters is required."), field="order_no")
    if len(description or "") > 255:
        raise ValidationFailed(_("The description is at most 255 characters."), field="description")
    amount = parse_amount(amount)
    fee = parse_amount(platform_fee if platform_fee not in (None, "") else "0.00", field="platform_fee",
                       allow_zero=True)
    if fee >= amount:
        raise ValidationFailed(_("The platform fee must be less than the amount."), field="platform_fee")
    if not splits:
        raise ValidationFailed(_("At least one payee is required."), field="splits")
    merged: dict[int, Decimal] = {}
    for payee, value in splits:
        value = parse_amount(value, field="splits")
        if payee.pk == payer.pk:
            raise ValidationFailed(_("The payer can't be one of the payees."), field="splits")
        merged[payee.pk] = merged.get(payee.pk, ZERO) + value
    total = sum(merged.values()) + fee
    if total != amount:
        raise ValidationFailed(
            _("The payee amounts plus the platform fee (%(total)s) must equal the amount (%(amount)s).")
            % {"total": total, "amount": amount},
            details={"splits": [str(_("The payee amounts plus the platform fee must equal the amount."))],
                     "amount": [str(amount)], "splits_plus_fee": [str(total)]},
        )
    return order_no, amount, fee, merged


def payment_input(*, merchant, payer, amount, order_no, mode, splits, platform_fee="0.00", description=""):
    """What payment_create would refuse before it books (the request, the merchant, the parties),
    checked without booking: (order_no, amount, fee, {payee pk: amount}). The one-time-code
    challenge calls it so that no member confirms a payment the bank would refuse anyway."""
    checked = _validated_request(payer=payer, amount=amount, order_no=order_no, mode=mode, splits=splits,
                                 platform_fee=platform_fee, description=description)
    guards.ensure_merchant_can_move_money(merchant)
    _check_parties(merchant, payer, list(checked[3]))
    return checked


def _existing_replay(merchant, order_no, fingerprint):
    existing = Payment.objects.filter(merchant=merchant, order_no=order_no).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise DuplicateOrder(_("Order %(order_no)s was already used for a different payment.")
                             % {"order_no": order_no})
    return existing


def _check_parties(merchant, payer, payee_ids):
    """The parties' current status in one query (the objects passed in may be stale)."""
    fresh = Member.objects.only("id", "merchant_id", "status", "user_id", "created_at").in_bulk([payer.pk, *payee_ids])
    for pk in [payer.pk, *payee_ids]:
        if pk not in fresh:
            raise NotFound(_("No such member."))
        guards.ensure_member_of(merchant, fresh[pk])
    guards.ensure_member_can_pay(fresh[payer.pk])
    for pk in payee_ids:
        guards.ensure_member_can_receive(fresh[pk])
    return fresh


@outflows.records_refusals
@transaction.atomic
def payment_create(*, merchant: Merchant, actor, payer: Member, amount, order_no: str, mode: str,
                   splits: list, platform_fee="0.00", description: str = "") -> tuple[Payment, bool]:
    """Book a payment; returns (payment, created). See the module docstring."""
    order_no, amount, fee, merged = _validated_request(
        payer=payer, amount=amount, order_no=order_no, mode=mode, splits=splits, platform_fee=platform_fee,
        description=description)
    fingerprint = _fingerprint(payer_id=payer.pk, amount=amount, mode=mode, splits=merged, fee=fee)
    in_database = books_in_database(merchant)
    try:
        guards.ensure_merchant_can_move_money(merchant)
        fresh = None if in_database else _check_parties(merchant, payer, list(merged))
    except ApplicationError:
        # A replay of a payment booked before the party was frozen answers as the first time did.
        existing = _existing_replay(merchant, order_no, fingerprint)
        if existing is not None:
            return existing, False
        raise
    if in_database:  # the parties, the payment, its entry and balances in one call (ledger.sql.booking)
        return book_payment_in_database(
            merchant=merchant, actor=actor, payer=payer, order_no=order_no, mode=mode, amount=amount, fee=fee,
            merged=merged, description=description, fingerprint=fingerprint,
            payees={payee.pk: payee for payee, _value in splits})

    guaranteed = mode == Payment.Mode.GUARANTEED
    payment = Payment(
        merchant=merchant, order_no=order_no, payer_id=payer.pk, mode=mode, amount=amount, platform_fee=fee,
        description=description or "", fingerprint=fingerprint,
        status=Payment.Status.HELD if guaranteed else Payment.Status.SETTLED,
        auto_release_at=auto_release_at(merchant) if guaranteed else None,
    )
    # The row goes in first: on PostgreSQL a concurrent insert of the same order number waits
    # for this transaction and then fails, so exactly one request books the entry (and a replay
    # is never judged by the outflow rules again).
    try:
        with transaction.atomic():
            payment.save(force_insert=True)
    except IntegrityError:
        existing = _existing_replay(merchant, order_no, fingerprint)
        if existing is None:
            raise
        return existing, False
    PaymentSplit.objects.bulk_create([
        PaymentSplit(merchant=merchant, payment=payment, payee_id=pk, amount=value) for pk, value in merged.items()
    ])
    outflow = decision = None
    if outflows.applies(merchant):  # refused: RuleRefused rolls the row back with everything else
        outflow = outflows.Outflow(kind=outflows.PAYMENT, merchant=merchant, member=fresh[payer.pk], amount=amount,
                                   payees=tuple(fresh[pk] for pk in merged), mode=mode, order_no=order_no,
                                   payment=payment)
        decision = outflows.check(outflow)
    if decision is not None and decision.outcome == outflows.REVIEW:
        payment.status, payment.auto_release_at = Payment.Status.IN_REVIEW, None
        payment.save(update_fields=["status", "auto_release_at"])
        payment_review_hold(payment=payment, payer=fresh[payer.pk], actor=actor)
        outflows.booked(outflow, outflows.review(outflow, decision))
        return payment, True
    book_payment(payment, fresh, merged, actor=actor)
    if outflow is not None:
        outflows.booked(outflow)
    return payment, True


def book_payment(payment: Payment, parties: dict, merged: dict, *, actor) -> Payment:
    """The payment's own entry (payer → payees and fee income, or → escrow); a step of
    payment_create and of passing a payment's review."""
    merchant, amount = payment.merchant, payment.amount
    accounts = members_accounts([parties[pk] for pk in [payment.payer_id, *merged]])
    legs = [Leg(accounts[payment.payer_id][0], -amount)]
    if payment.mode == Payment.Mode.GUARANTEED:
        legs.append(Leg(platform_account(merchant, AccountKind.ESCROW), amount))
    else:
        legs += [Leg(accounts[pk][0], value) for pk, value in merged.items()]
        if payment.platform_fee:
            legs.append(Leg(platform_account(merchant, AccountKind.FEE_INCOME), payment.platform_fee))
    booked = post_entry(
        merchant=merchant,
        entry_type=EntryType.PAYMENT_HOLD if payment.mode == Payment.Mode.GUARANTEED else EntryType.PAYMENT,
        idempotency_ref=f"payment:{payment.pk}", legs=legs, actor=actor,
        order=Order(order_no=payment.order_no, payer_id=payment.payer_id,
                    payee_id=next(iter(merged)) if len(merged) == 1 else None,
                    amount=amount, description=payment.description or ""),
    )
    payment.entry = booked.entry
    payment.save(update_fields=["entry"])
    return payment


def payment_review_hold(*, payment: Payment, payer: Member, actor):
    """A payment in review: the payer's money moves available → frozen until risk decides (a step
    of payment_create; ledger.services.reviews moves it back)."""
    available, frozen = members_accounts([payer])[payer.pk]
    return post_entry(
        merchant=payment.merchant, entry_type=EntryType.HOLD, idempotency_ref=f"payment:{payment.pk}:review-hold",
        legs=[Leg(available, -payment.amount), Leg(frozen, payment.amount)], actor=actor,
        order=Order(order_no=payment.order_no, payer_id=payer.pk, amount=payment.amount,
                    description="payment in risk review"),
    )


# --- refunds -----------------------------------------------------------------------------

def pro_rata_shares(amount: Decimal, components: list[tuple], total: Decimal) -> dict:
    """Share a refund between a payment's components — (key, amount, still refundable) for
    each split, then (FEE, fee, ...) — pro rata by original amount: each share rounded
    ROUND_HALF_UP to 0.01, the rounding remainder to the largest split (the first on a tie).
    No share exceeds what its component still has: any excess (possible only after earlier
    rounding) moves to the largest split, then to the others by size. When the refund takes
    back everything that is left, each component gives exactly what it has left."""
    if amount == sum(c[2] for c in components):
        return {key: left for key, _value, left in components}
    shares = {key: min(left, (amount * value / total).quantize(CENT, rounding=ROUND_HALF_UP))
              for key, value, left in components}
    splits = [c for c in components if c[0] != FEE]
    largest = max(splits, key=lambda c: c[1])  # max() keeps the first of equals
    order = [largest] + sorted((c for c in components if c is not largest), key=lambda c: -c[1])
    diff = amount - sum(shares.values())
    for key, _value, left in order:
        if not diff:
            break
        step = min(diff, left - shares[key]) if diff > 0 else max(diff, -shares[key])
        shares[key] += step
        diff -= step
    return shares


def _refund_shares(payment, splits, amount) -> tuple[dict, dict]:
    """A refund's shares ({split pk or FEE: amount}) from escrow and from the payees. A guaranteed
    payment gives back what escrow still holds first, pro rata between its components' money held;
    only the rest comes from the payees and fee income, pro rata to what each was released (what
    is left of it). A direct payment's refund comes from the payees and fee income."""
    fee_refunded, fee_released, fee_held = fee_parts(payment, splits)
    if payment.mode != Payment.Mode.GUARANTEED:
        parts = [(s.pk, s.amount, s.amount - s.refunded_amount) for s in splits]
        if payment.platform_fee:
            parts.append((FEE, payment.platform_fee, payment.platform_fee - fee_refunded))
        return {}, pro_rata_shares(amount, parts, payment.amount)
    in_escrow = min(amount, payment.held_amount)
    from_escrow = {}
    if in_escrow:
        parts = [(s.pk, s.amount, s.held_amount) for s in splits]
        if payment.platform_fee:
            parts.append((FEE, payment.platform_fee, fee_held))
        from_escrow = pro_rata_shares(in_escrow, parts, payment.amount)
    from_payees = {}
    if amount - in_escrow:
        parts = [(s.pk, s.amount, s.released_amount) for s in splits]
        if payment.platform_fee:
            parts.append((FEE, payment.platform_fee, fee_released))
        from_payees = pro_rata_shares(amount - in_escrow, parts, payment.amount)
    return from_escrow, from_payees


def _validated_refund_request(amount, reason, idempotency_ref):
    amount = parse_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field="reason")
    ref = (idempotency_ref or "").strip()
    if not ref or len(ref) > REF_MAX:
        raise ValidationFailed(_("An idempotency reference of 1 to %(max)s characters is required.")
                               % {"max": REF_MAX}, field="idempotency_ref")
    return amount, reason[:255], ref


@transaction.atomic
def payment_refund(*, payment: Payment, actor, amount, reason: str, idempotency_ref: str) -> Refund:
    """Give part or all of a payment back to the payer. The payment row is locked, so
    concurrent refunds can never add up to more than the amount."""
    amount, reason, ref = _validated_refund_request(amount, reason, idempotency_ref)
    payment = locked_payment(payment)
    existing = Refund.objects.filter(merchant_id=payment.merchant_id, idempotency_ref=ref).first()
    if existing is not None:
        if existing.payment_id != payment.pk or existing.amount != amount:
            raise IdempotencyConflict()
        return existing
    guards.ensure_merchant_can_move_money(payment.merchant)
    if payment.status in (Payment.Status.IN_REVIEW, Payment.Status.REFUSED):
        raise InvalidState(_("A payment in risk review or refused by risk has nothing booked to refund."))
    if payment.status == Payment.Status.REFUNDED or not payment.refundable:
        raise InvalidState(_("Over-refund: the payment has been refunded in full already."))
    if amount > payment.refundable:
        raise ValidationFailed(_("Over-refund: at most %(left)s of this payment can still be refunded.")
                               % {"left": payment.refundable}, field="amount")
    payer = Member.objects.only("id", "merchant_id", "status", "user_id").get(pk=payment.payer_id)
    guards.ensure_member_can_receive(payer)  # a frozen payer still receives: 只进不出
    splits = payment_splits(payment)
    from_escrow, from_payees = _refund_shares(payment, splits, amount)
    shares = {key: from_escrow.get(key, ZERO) + from_payees.get(key, ZERO) for key in [*(s.pk for s in splits), FEE]}
    escrow_total = sum(from_escrow.values(), ZERO)

    accounts = members_accounts([payer] + [s.payee for s in splits if from_payees.get(s.pk)])
    legs = [Leg(accounts[payer.pk][0], amount)]
    if escrow_total:
        # check=False: the money is this payment's own remainder in escrow (see releases.payment_release).
        legs.append(Leg(platform_account(payment.merchant, AccountKind.ESCROW), -escrow_total, check=False))
    for split in splits:
        if not from_payees.get(split.pk):
            continue
        if split.payee.status == Member.Status.FROZEN:
            raise MemberFrozen(_("Payee %(user_id)s is frozen: nothing may leave their accounts.")
                               % {"user_id": split.payee.user_id})
        legs.append(Leg(accounts[split.payee_id][0], -from_payees[split.pk]))  # a payee lacking it: refused
    if from_payees.get(FEE):
        # check=True: fee income is hot and is spent by the platform; only this debit locks it.
        legs.append(Leg(platform_account(payment.merchant, AccountKind.FEE_INCOME), -from_payees[FEE], check=True))
    booked = post_entry(
        merchant=payment.merchant, entry_type=EntryType.REFUND, idempotency_ref=f"refund:{ref}", legs=legs,
        actor=actor, order=Order(order_no=payment.order_no, payee_id=payment.payer_id, amount=amount,
                                 payer_id=splits[0].payee_id if len(splits) == 1 and from_payees else None,
                                 description=reason),
    )
    if not booked.created:  # the reference was taken by another refund meanwhile
        raise IdempotencyConflict()
    refund = Refund.objects.create(merchant_id=payment.merchant_id, payment=payment, amount=amount, reason=reason,
                                   idempotency_ref=ref, entry=booked.entry)
    changed = [s for s in splits if shares.get(s.pk)]
    guaranteed = payment.mode == Payment.Mode.GUARANTEED
    for split in changed:
        split.refunded_amount += shares[split.pk]
        if guaranteed:  # what a payee gives back of a guaranteed payment comes out of what was released
            split.released_amount -= from_payees.get(split.pk, ZERO)
    PaymentSplit.objects.bulk_update(changed, ["refunded_amount", "released_amount"])
    payment.refunded_amount += amount
    if guaranteed:
        payment.released_amount -= amount - escrow_total
    data = {"refund": refund.pk, "amount": str(amount), "entry": booked.entry.pk,
            "shares": {str(k): str(v) for k, v in shares.items() if v},
            "from_escrow": str(escrow_total), "from_payees": str(amount - escrow_total)}
    if not payment.refundable:
        transition(payment, "refund_fully", actor=actor, reason=reason, data=data)
    elif payment.status == Payment.Status.PARTIALLY_RELEASED and not payment.held_amount:
        payment.released_at = timezone.now()
        payment.release_entry_id = payment.releases.order_by("-sequence").values_list("entry_id", flat=True)[0]
        transition(payment, "close_escrow", actor=actor, reason=reason, data=data)
    else:
        payment.save(update_fields=["refunded_amount", "released_amount"])
        audit_record(actor=actor, obj=payment, action="refund", from_state=payment.status,
                     to_state=payment.status, reason=reason, data=data)
    events.emit(payment.merchant, "payment.refunded", {
        "id": payment.pk, "order_no": payment.order_no, "refund": refund.pk, "amount": str(amount),
        "refunded_amount": str(payment.refunded_amount), "status": payment.status, "reason": reason,
        "payer_user_id": payer.user_id,
    })
    return refund
