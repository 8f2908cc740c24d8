"""Repayments: buyer available → creditor, penalty first, limit restored, refusals."""
from datetime import timedelta
from decimal import Decimal

import pytest

from core.errors import IdempotencyConflict, InsufficientFunds, InvalidAmount, InvalidState, ValidationFailed
from credit import services
from credit.models import CreditBill, Repayment
from ledger.models import EntryType
from ledger.selectors import account_balances, member_balance, prove_merchant
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


def _repay(bill, amount, ref):
    return services.credit_repay(bill=bill, actor=None, amount=amount, idempotency_ref=ref)


@pytest.fixture
def on_account(world, clock):
    """A 1,000.00 bill owed to the core enterprise that sold on account; the buyer has 5,000.00."""
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="5000.00", term_days=30, grace_days=0,
                     penalty_rate="0.0005")
    f.funded(world.buyer, "5000.00")
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="1000.00", order_no="PO-1")
    return line, bill


def test_partial_then_full_repayment_pays_the_creditor_and_restores_the_limit(world, on_account):
    line, bill = on_account
    # when the buyer repays 400.00
    first = _repay(bill, "400.00", "R-1")
    bill.refresh_from_db()
    line.refresh_from_db()
    # then the seller has it, the bill is partially repaid and 400.00 of the limit is back
    assert (first.penalty_part, first.principal_part) == (Decimal("0.00"), Decimal("400.00"))
    assert bill.status == CreditBill.Status.PARTIALLY_REPAID and bill.outstanding == Decimal("600.00")
    assert line.used == Decimal("600.00")
    assert member_balance(world.core)["available"] == Decimal("400.00")
    assert member_balance(world.buyer)["available"] == Decimal("4600.00")
    assert first.entry.entry_type == EntryType.CREDIT_REPAYMENT and first.entry.order_no == "PO-1"
    # when the rest is repaid
    second = _repay(bill, "600.00", "R-2")
    bill.refresh_from_db()
    line.refresh_from_db()
    assert bill.status == CreditBill.Status.REPAID and bill.repaid_on == second.business_date
    assert line.used == 0 and member_balance(world.core)["available"] == Decimal("1000.00")
    assert prove_merchant(world.merchant).ok
    # and a repaid bill takes nothing more
    with pytest.raises(InvalidState):
        _repay(bill, "0.01", "R-3")


def test_penalty_is_paid_before_principal(world, clock, on_account):
    line, bill = on_account
    # given the bill overdue for 4 days: 1,000.00 × 0.0005 = 0.50 a day → 2.00 penalty
    services.credit_sweep_overdue(as_of=bill.grace_until + timedelta(days=4))
    bill.refresh_from_db()
    assert bill.penalty_accrued == Decimal("2.00") and bill.outstanding == Decimal("1002.00")
    # when the buyer repays 1.50, then 100.00
    small = _repay(bill, "1.50", "R-1")
    assert (small.penalty_part, small.principal_part) == (Decimal("1.50"), Decimal("0.00"))
    line.refresh_from_db()
    assert line.used == Decimal("1000.00")  # penalty never used the limit, so none comes back
    mixed = _repay(bill, "100.00", "R-2")
    assert (mixed.penalty_part, mixed.principal_part) == (Decimal("0.50"), Decimal("99.50"))
    bill.refresh_from_db()
    line.refresh_from_db()
    assert bill.penalty_repaid == Decimal("2.00") and bill.principal_repaid == Decimal("99.50")
    assert bill.status == CreditBill.Status.OVERDUE  # overdue until repaid in full
    assert line.used == Decimal("900.50")
    # when the rest is repaid, the bill is repaid but the line stays suspended for risk to decide
    _repay(bill, "900.50", "R-3")
    bill.refresh_from_db()
    line.refresh_from_db()
    assert bill.status == CreditBill.Status.REPAID and line.used == 0 and line.status == "suspended"
    assert member_balance(world.core)["available"] == Decimal("1002.00")
    assert prove_merchant(world.merchant).ok


def test_more_than_outstanding_is_refused_and_nothing_moves(world, on_account):
    _line, bill = on_account
    with pytest.raises(InvalidAmount) as caught:
        _repay(bill, "1000.01", "R-1")
    assert caught.value.details["outstanding"] == ["1000.00"]
    assert member_balance(world.buyer)["available"] == Decimal("5000.00")
    assert not Repayment.objects.exists()


def test_a_buyer_without_the_money_repays_nothing(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="1000.00", order_no="PO-1")
    f.funded(world.buyer, "99.99")
    with pytest.raises(InsufficientFunds):
        _repay(bill, "100.00", "R-1")
    bill.refresh_from_db()
    assert bill.principal_repaid == 0 and not Repayment.objects.exists()


def test_the_same_reference_repays_once(world, on_account):
    _line, bill = on_account
    first = _repay(bill, "100.00", "R-1")
    assert _repay(bill, "100.00", "R-1").pk == first.pk
    with pytest.raises(IdempotencyConflict):
        _repay(bill, "100.01", "R-1")
    bill.refresh_from_db()
    assert bill.principal_repaid == Decimal("100.00")
    with pytest.raises(ValidationFailed):
        _repay(bill, "1.00", "")
    with pytest.raises(ValidationFailed):
        _repay(bill, "1.00", "r" * 65)


def test_repaying_the_platform_goes_to_fee_income(world, clock):
    from ledger.services.payments import payment_create

    open_line(world.merchant, world.buyer, platform=True)
    f.funded(world.seller, "1000.00")
    payment_create(merchant=world.merchant, actor=None, payer=world.seller, amount="1000.00", order_no="SO-1",
                   mode="direct", splits=[(world.core, "900.00")], platform_fee="100.00")
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="100.00", order_no="PO-1")
    assert account_balances(world.merchant)["fee_income"] == 0
    f.funded(world.buyer, "100.00")
    _repay(bill, "100.00", "R-1")
    assert account_balances(world.merchant)["fee_income"] == Decimal("100.00")
    assert prove_merchant(world.merchant).ok
