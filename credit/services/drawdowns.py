"""Drawdowns (用信): a buyer pays a seller of the same platform on credit, and owes a bill.

Where the money comes from (the ledger stays balanced in every case; supervision never moves,
because no money enters or leaves the bank):

1. The creditor is the payee itself — a core enterprise selling on account (赊销). Nothing
   moves: the seller delivers now and is paid at repayment. The bill is the seller's
   receivable against the buyer and lives only in the credit tables. No journal entry is
   booked: the ledger records money held at the bank, and a receivable is not money (booking
   it would need an asset the supervision account does not hold, breaking 总分平衡). An
   audit record of the drawdown (bill, amount, order, creditor) is its trace instead.
2. The creditor is another seller member — it finances the purchase from its own money:
   creditor available → payee available (CREDIT_DRAWDOWN). If the creditor lacks the money
   the drawdown is refused (insufficient_funds) and no bill exists.
3. The creditor is the platform — it lends its own earned money: platform fee income →
   payee available (CREDIT_DRAWDOWN, with an overdraft check on fee income). Not the risk
   reserve: that is the platform's security deposit for the bank (Merchant.risk_reserve_required)
   and must stay whole.

Credit money is never withdrawable by the buyer and never leaves the platform: the buyer's
accounts are never credited by a drawdown, and the payee must be another member of the same
merchant who is a seller. The payee receives the sale's proceeds like any payment.

Concurrency: the buyer's line is locked (SELECT … FOR UPDATE) before the limit is checked and
`used` raised, so parallel drawdowns never exceed the limit; the database's CHECK
(used ≤ limit) is the last guard. Lock order everywhere in credit: line → bill → accounts."""
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import (CreditLimitExceeded, CreditLineInactive, DuplicateOrder, MemberFrozen, NotFound,
                         ValidationFailed)
from core.money import parse_amount
from ledger import guards
from ledger.calendar import business_date_for
from ledger.models import AccountKind, EntryType
from ledger.posting import Leg, Order, post_entry
from ledger.services.accounts import members_accounts, platform_account
from merchants.models import Member

from ..models import CreditBill, CreditLine
from .common import parse_order_no


def _fresh_members(merchant, ids) -> dict:
    fresh = Member.objects.only("id", "merchant_id", "status", "user_id", "is_seller", "is_buyer").in_bulk(ids)
    for pk in ids:
        if pk not in fresh:
            raise NotFound(_("No such member."))
        guards.ensure_member_of(merchant, fresh[pk])
    return fresh


def _replay(merchant, order_no, *, member, payee, amount):
    """The same drawdown sent twice returns the first bill; the order number reused for a
    different drawdown is refused."""
    bill = CreditBill.objects.filter(merchant=merchant, order_no=order_no).first()
    if bill is None:
        return None
    if (bill.member_id, bill.payee_id, bill.amount) != (member.pk, payee.pk, amount):
        raise DuplicateOrder(_("Order %(order_no)s was already used for a different drawdown.")
                             % {"order_no": order_no})
    return bill


@transaction.atomic
def credit_drawdown(*, merchant, actor, member, payee, amount, order_no: str) -> CreditBill:
    amount = parse_amount(amount)
    order_no = parse_order_no(order_no)
    actor = as_actor(actor)
    guards.ensure_merchant_can_move_money(merchant)
    if payee.pk == member.pk:
        raise ValidationFailed(_("A buyer can't pay themselves on credit."), field="payee_user_id")
    fresh = _fresh_members(merchant, [member.pk, payee.pk])
    if not fresh[payee.pk].is_seller:
        raise ValidationFailed(_("Credit pays sellers of the platform only."), field="payee_user_id")

    line = (CreditLine.objects.select_for_update(of=("self",), no_key=True).select_related("creditor_member")
            .filter(merchant=merchant, member_id=member.pk).exclude(status=CreditLine.Status.CLOSED).first())
    existing = _replay(merchant, order_no, member=member, payee=payee, amount=amount)
    if existing is not None:
        existing.replayed = True  # the API answers 200 instead of 201
        return existing
    if line is None:
        raise CreditLineInactive(_("The member has no credit line."))
    if line.status != CreditLine.Status.ACTIVE:
        raise CreditLineInactive(_("The credit line is %(status)s.") % {"status": line.get_status_display()})
    guards.ensure_member_can_pay(fresh[member.pk])
    guards.ensure_member_can_receive(fresh[payee.pk])
    if line.used + amount > line.limit:
        raise CreditLimitExceeded(
            _("The credit limit would be exceeded: %(available)s available.") % {"available": line.available},
            details={"available": [str(line.available)], "amount": [str(amount)]})

    entry = None
    business_date = business_date_for()
    if line.creditor_is_platform or line.creditor_member_id != payee.pk:
        entry = _pay_payee(merchant, actor, line, fresh, payee, member, amount, order_no, business_date)
    bill = CreditBill(
        merchant=merchant, line=line, member_id=member.pk, payee_id=payee.pk,
        creditor_is_platform=line.creditor_is_platform, creditor_member_id=line.creditor_member_id,
        order_no=order_no, amount=amount, penalty_rate=line.penalty_rate, business_date=business_date,
        due_date=business_date + timedelta(days=line.term_days),
        grace_until=business_date + timedelta(days=line.term_days + line.grace_days),
        entry=entry, created_by=actor.label[:150],
    )
    try:
        with transaction.atomic():
            bill.save(force_insert=True)
    except IntegrityError:
        # The same order number on another member's line, committed meanwhile.
        raise DuplicateOrder(_("Order %(order_no)s was already used.") % {"order_no": order_no}) from None
    CreditLine.objects.filter(pk=line.pk).update(used=line.used + amount)
    if entry is None:
        # Case 1 moves no money, so no journal entry records it: the audit record is the
        # drawdown's trace (core.audit: every decision leaves one).
        audit_record(actor=actor, obj=bill, action="drawdown", to_state=bill.status,
                     data={"bill": bill.pk, "order_no": order_no, "amount": amount, "line": line.pk,
                           "creditor": line.creditor_member.user_id, "buyer": fresh[member.pk].user_id,
                           "due_date": bill.due_date})
    return bill


def _pay_payee(merchant, actor, line, fresh, payee, member, amount, order_no, business_date):
    """Cases 2 and 3 of the module docstring: the creditor's money pays the payee."""
    if line.creditor_is_platform:
        source = Leg(platform_account(merchant, AccountKind.FEE_INCOME), -amount, check=True)
        accounts = members_accounts([fresh[payee.pk]])
    else:
        creditor = line.creditor_member
        if creditor.status == Member.Status.FROZEN:
            raise MemberFrozen(_("The creditor is frozen: it can't finance drawdowns now."))
        guards.ensure_member_can_pay(creditor)
        accounts = members_accounts([creditor, fresh[payee.pk]])
        source = Leg(accounts[creditor.pk][0], -amount)
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.CREDIT_DRAWDOWN, idempotency_ref=f"credit-drawdown:{order_no}",
        legs=[source, Leg(accounts[payee.pk][0], amount)], actor=actor,
        order=Order(order_no=order_no, payer_id=member.pk, payee_id=payee.pk, amount=amount,
                    description=f"credit drawdown, creditor {line.creditor_label}"[:255]),
        business_date=business_date,
    )
    if not booked.created:
        # Only a concurrent drawdown with the same order number (on another line) gets here.
        raise DuplicateOrder(_("Order %(order_no)s was already used.") % {"order_no": order_no})
    return booked.entry
