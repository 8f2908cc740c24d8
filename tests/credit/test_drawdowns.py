"""Drawdowns: who pays the payee (nobody, a seller creditor, the platform), limits, refusals."""
from datetime import date
from decimal import Decimal

import pytest

from core.errors import (
    CreditLimitExceeded,
    CreditLineInactive,
    DuplicateOrder,
    InsufficientFunds,
    MemberFrozen,
    MerchantFrozen,
    NotFound,
    ValidationFailed,
)
from credit import services
from credit.models import CreditBill
from ledger.models import EntryType, JournalEntry
from ledger.selectors import account_balances, member_balance, prove_merchant
from merchants.services.lifecycle import merchant_freeze
from merchants.services.members import member_freeze, member_unfreeze
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


def _draw(world, amount="1000.00", order_no="PO-1", payee=None, member=None):
    return services.credit_drawdown(merchant=world.merchant, actor=None, member=member or world.buyer,
                                    payee=payee or world.core, amount=amount, order_no=order_no)


def test_a_core_enterprise_selling_on_account_moves_no_money(world, clock):
    # given a line whose creditor is the seller itself (赊销)
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="5000.00", term_days=30, grace_days=3)
    f.funded(world.buyer, "100.00")
    before = account_balances(world.merchant)
    # when the buyer draws 1,200.00 to pay that seller
    bill = _draw(world, "1200.00")
    # then a bill exists, due on the business date + term, and the limit used went up
    assert bill.status == CreditBill.Status.OPEN and bill.amount == Decimal("1200.00")
    assert (bill.business_date, bill.due_date, bill.grace_until) == (date(2026, 3, 2), date(2026, 4, 1),
                                                                       date(2026, 4, 4))
    assert bill.entry is None and bill.creditor_member == world.core and bill.penalty_rate == line.penalty_rate
    line.refresh_from_db()
    assert line.used == Decimal("1200.00") and line.available == Decimal("3800.00")
    # and no money moved: the bill is the seller's receivable, not a ledger balance
    assert account_balances(world.merchant) == before
    assert member_balance(world.buyer)["available"] == Decimal("100.00")
    assert not JournalEntry.objects.filter(entry_type=EntryType.CREDIT_DRAWDOWN).exists()
    assert prove_merchant(world.merchant).ok


def test_a_seller_creditor_pays_another_seller_through_the_ledger(world, clock):
    # given a line financed by the core enterprise, which has money
    open_line(world.merchant, world.buyer, creditor=world.core)
    f.funded(world.core, "3000.00")
    # when the buyer draws 1,000.00 to pay another seller
    bill = _draw(world, payee=world.seller)
    # then the creditor paid the payee; the buyer's balances never moved (never withdrawable)
    assert member_balance(world.core)["available"] == Decimal("2000.00")
    assert member_balance(world.seller)["available"] == Decimal("1000.00")
    assert member_balance(world.buyer) == {"available": Decimal("0.00"), "frozen": Decimal("0.00")}
    entry = bill.entry
    assert entry.entry_type == EntryType.CREDIT_DRAWDOWN and entry.order_no == "PO-1"
    assert (entry.payer_id, entry.payee_id, entry.order_amount) == (world.buyer.pk, world.seller.pk,
                                                                    Decimal("1000.00"))
    assert account_balances(world.merchant)["supervision"] == Decimal("3000.00")
    assert prove_merchant(world.merchant).ok


def test_a_creditor_without_the_money_refuses_the_drawdown_and_nothing_changes(world, clock):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    f.funded(world.core, "999.99")
    with pytest.raises(InsufficientFunds):
        _draw(world, payee=world.seller)
    line.refresh_from_db()
    assert line.used == 0 and not CreditBill.objects.exists()
    assert member_balance(world.core)["available"] == Decimal("999.99")


def test_the_platform_lends_from_its_fee_income(world, clock):
    # given a platform-funded line and fee income earned on a direct payment
    from ledger.services.payments import payment_create

    open_line(world.merchant, world.buyer, platform=True)
    payer = f.member(world.merchant)
    f.funded(payer, "10000.00")
    payment_create(merchant=world.merchant, actor=None, payer=payer, amount="10000.00", order_no="SO-1",
                   mode="direct", splits=[(world.seller, "8000.00")], platform_fee="2000.00")
    # when the buyer draws 1,500.00 to pay the core enterprise
    bill = _draw(world, "1500.00")
    # then fee income paid the seller
    balances = account_balances(world.merchant)
    assert balances["fee_income"] == Decimal("500.00")
    assert member_balance(world.core)["available"] == Decimal("1500.00")
    assert bill.creditor_is_platform and bill.creditor_member is None
    assert prove_merchant(world.merchant).ok
    # and the platform can't lend more than it has
    with pytest.raises(InsufficientFunds):
        _draw(world, "500.01", order_no="PO-2")


def test_the_limit_is_never_exceeded(world, clock):
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="1000.00")
    _draw(world, "600.00", order_no="A")
    with pytest.raises(CreditLimitExceeded) as caught:
        _draw(world, "400.01", order_no="B")
    assert caught.value.details["available"] == ["400.00"]
    _draw(world, "400.00", order_no="C")
    line.refresh_from_db()
    assert line.used == line.limit == Decimal("1000.00")


def test_a_suspended_closed_or_missing_line_draws_nothing(world, clock):
    with pytest.raises(CreditLineInactive):
        _draw(world)
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    services.credit_line_suspend(line=line, actor=f.risk(), reason="Review")
    with pytest.raises(CreditLineInactive):
        _draw(world)
    officer = f.risk()
    services.credit_line_reactivate(line=line, actor=officer, reason="OK")
    services.credit_line_close(line=line, actor=officer, reason="Ended")
    with pytest.raises(CreditLineInactive):
        _draw(world)


def test_credit_pays_only_other_sellers_of_the_same_platform(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    plain_buyer = f.member(world.merchant, roles=("buyer",))
    with pytest.raises(ValidationFailed):
        _draw(world, payee=plain_buyer)  # not a seller
    with pytest.raises(ValidationFailed):
        _draw(world, payee=world.buyer)  # themselves
    with pytest.raises(NotFound):
        _draw(world, payee=f.member(f.active_merchant(), roles=("seller",)))  # another platform
    assert not CreditBill.objects.exists()


def test_frozen_parties_draw_nothing(world, clock):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    member_freeze(member=world.buyer, actor=f.risk(), reason="Court order")
    with pytest.raises(MemberFrozen):
        _draw(world)
    member_unfreeze(member=world.buyer, actor=f.risk(), reason="Lifted")
    merchant_freeze(merchant=world.merchant, actor=f.risk(), reason="Investigation")
    world.merchant.refresh_from_db()
    with pytest.raises(MerchantFrozen):
        _draw(world)
    line.refresh_from_db()
    assert line.used == 0


def test_bad_input_is_refused_and_changes_nothing(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    for amount in ("0", "-1.00", "1.001", 100, "NaN"):
        with pytest.raises(Exception) as caught:
            _draw(world, amount=amount)
        assert caught.value.code == "invalid_amount"
    with pytest.raises(ValidationFailed):
        _draw(world, order_no=" ")
    with pytest.raises(ValidationFailed):
        _draw(world, order_no="x" * 65)
    assert not CreditBill.objects.exists()


def test_the_same_drawdown_twice_books_once_and_a_reused_order_number_is_refused(world, clock):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    first = _draw(world, "300.00", order_no="PO-9")
    again = _draw(world, "300.00", order_no="PO-9")
    assert again.pk == first.pk
    with pytest.raises(DuplicateOrder):
        _draw(world, "300.01", order_no="PO-9")
    line.refresh_from_db()
    assert line.used == Decimal("300.00")


def test_a_frozen_creditor_finances_nothing(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    f.funded(world.core, "1000.00")
    member_freeze(member=world.core, actor=f.risk(), reason="Court order")
    with pytest.raises(MemberFrozen) as caught:
        _draw(world, payee=world.seller)
    assert "creditor" in str(caught.value.message)
    assert member_balance(world.core)["available"] == Decimal("1000.00")
