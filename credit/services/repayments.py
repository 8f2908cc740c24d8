"""Repayments (还款): from the buyer's available balance to the creditor, through the ledger.

- Money: buyer available → the creditor's available balance (a seller creditor, including a
  seller who sold on account) or platform fee income (the platform as creditor), one
  CREDIT_REPAYMENT entry. Supervision does not move.
- Allocation: penalty interest first, then principal. The line's `used` goes down by the
  principal part only (penalty never used the limit), which restores the limit.
- More than the bill's outstanding amount (principal + penalty) is refused; nothing moves.
- Idempotency: `idempotency_ref` is unique per merchant. The same reference for the same
  bill and amount returns the first repayment; for anything else it is a conflict.
- The bill: open → partially_repaid → repaid; an overdue bill stays overdue until repaid in
  full. The line stays suspended after an overdue bill is repaid: risk reactivates it."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import IdempotencyConflict, InvalidAmount, InvalidState, ValidationFailed
from core.money import parse_amount
from core.workflow import transition
from ledger import guards
from ledger.models import AccountKind, EntryType
from ledger.posting import Leg, Order, post_entry
from ledger.services.accounts import members_accounts, platform_account
from merchants.models import Member

from ..models import CreditBill, CreditLine, Repayment


def _parse_ref(ref) -> str:
    ref = (ref or "").strip() if isinstance(ref, str) or ref is None else ""
    if not ref or len(ref) > 64:
        raise ValidationFailed(_("An idempotency reference of 1 to 64 characters is required."),
                               field="idempotency_ref")
    return ref


def _replay(merchant_id, ref, bill, amount):
    existing = Repayment.objects.filter(merchant_id=merchant_id, idempotency_ref=ref).first()
    if existing is None:
        return None
    if existing.bill_id != bill.pk or existing.amount != amount:
        raise IdempotencyConflict()
    return existing


@transaction.atomic
def credit_repay(*, bill, actor, amount, idempotency_ref: str) -> Repayment:
    amount = parse_amount(amount)
    ref = _parse_ref(idempotency_ref)
    actor = as_actor(actor)
    line_id = CreditBill.objects.filter(pk=bill.pk).values_list("line_id", flat=True).get()
    line = CreditLine.objects.select_for_update(no_key=True).get(pk=line_id)
    bill = CreditBill.objects.select_for_update(of=("self",), no_key=True).select_related("merchant").get(pk=bill.pk)
    existing = _replay(bill.merchant_id, ref, bill, amount)
    if existing is not None:
        return existing
    if bill.status == CreditBill.Status.REPAID:
        raise InvalidState(_("The bill is repaid."))
    if amount > bill.outstanding:
        raise InvalidAmount(_("More than the bill's outstanding amount (%(outstanding)s).")
                            % {"outstanding": bill.outstanding},
                            details={"amount": [str(amount)], "outstanding": [str(bill.outstanding)]})
    guards.ensure_merchant_can_move_money(bill.merchant)
    ids = [bill.member_id] + ([bill.creditor_member_id] if bill.creditor_member_id else [])
    parties = Member.objects.only("id", "merchant_id", "status", "user_id").in_bulk(ids)
    guards.ensure_member_can_pay(parties[bill.member_id])
    accounts = members_accounts(list(parties.values()))
    if bill.creditor_is_platform:
        creditor_leg = Leg(platform_account(bill.merchant, AccountKind.FEE_INCOME), amount)
    else:
        guards.ensure_member_can_receive(parties[bill.creditor_member_id])
        creditor_leg = Leg(accounts[bill.creditor_member_id][0], amount)

    penalty_part = min(amount, bill.penalty_outstanding)
    principal_part = amount - penalty_part
    booked = post_entry(
        merchant=bill.merchant, entry_type=EntryType.CREDIT_REPAYMENT, idempotency_ref=f"credit-repayment:{ref}",
        legs=[Leg(accounts[bill.member_id][0], -amount), creditor_leg], actor=actor,
        order=Order(order_no=bill.order_no, payer_id=bill.member_id, payee_id=bill.creditor_member_id,
                    amount=amount, description=f"credit repayment, bill {bill.pk}"),
    )
    try:
        with transaction.atomic():
            repayment = Repayment.objects.create(
                merchant_id=bill.merchant_id, bill=bill, amount=amount, penalty_part=penalty_part,
                principal_part=principal_part, idempotency_ref=ref, entry=booked.entry,
                business_date=booked.entry.business_date, actor_label=actor.label[:150])
    except IntegrityError:
        raise IdempotencyConflict() from None  # the reference was taken by another bill meanwhile
    if not booked.created:
        raise IdempotencyConflict()

    before = bill.status
    bill.penalty_repaid += penalty_part
    bill.principal_repaid += principal_part
    data = {"repayment": repayment.pk, "amount": amount, "penalty": penalty_part, "principal": principal_part}
    if bill.outstanding == 0:
        bill.repaid_on = repayment.business_date
        transition(bill, "settle", actor=actor, action="repayment", data=data)
    elif before == CreditBill.Status.OVERDUE:
        bill.save()
        audit_record(actor=actor, obj=bill, action="repayment", from_state=before, to_state=before, data=data)
    else:
        transition(bill, "repay_partly", actor=actor, action="repayment", data=data)
    if principal_part:
        CreditLine.objects.filter(pk=line.pk).update(used=line.used - principal_part)
    return repayment
