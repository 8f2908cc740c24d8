from decimal import Decimal

import pytest

from core.errors import DuplicateOrder, InvalidState, MerchantInactive, OrderMismatch
from ledger.models import Deposit
from ledger.selectors import account_balances, prove_merchant
from ledger.services import deposits
from ledger.services.accounts import member_accounts
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_announced_deposit_is_credited_only_on_proof():
    # given an announced deposit
    merchant = f.active_merchant()
    buyer = f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="1250.00",
                                        order_no="D-1", method="offline_transfer")
    assert deposit.status == Deposit.Status.AWAITING_FUNDS
    assert len(deposit.payment_code) == 10 and not set(deposit.payment_code) & set("01OI")
    available, _ = member_accounts(buyer)
    available.refresh_from_db()
    assert available.balance == 0
    # when the bank statement proves it
    deposits.deposit_credit(deposit=deposit, actor=None, amount="1250.00", proof_kind="statement_line",
                            proof_reference="SR1")
    # then the member and the supervision account are up by the same amount, and the books balance
    available.refresh_from_db()
    assert available.balance == Decimal("1250.00")
    assert account_balances(merchant)["supervision"] == Decimal("1250.00")
    assert prove_merchant(merchant).ok


def test_the_same_proof_twice_books_once_and_a_second_proof_is_refused():
    merchant = f.active_merchant()
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="10.00",
                                        order_no="D-2", method="offline_transfer")
    deposits.deposit_credit(deposit=deposit, actor=None, amount="10.00", proof_kind="statement_line", proof_reference="A")
    deposits.deposit_credit(deposit=deposit, actor=None, amount="10.00", proof_kind="statement_line", proof_reference="A")
    assert account_balances(merchant)["supervision"] == Decimal("10.00")
    with pytest.raises(InvalidState):
        deposits.deposit_credit(deposit=deposit, actor=None, amount="10.00", proof_kind="statement_line",
                                proof_reference="B")


def test_an_amount_mismatch_credits_nothing():
    merchant = f.active_merchant()
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="10.00",
                                        order_no="D-3", method="offline_transfer")
    with pytest.raises(OrderMismatch):
        deposits.deposit_credit(deposit=deposit, actor=None, amount="9.99", proof_kind="statement_line",
                                proof_reference="A")
    assert account_balances(merchant)["supervision"] == 0


def test_order_numbers_are_unique_per_merchant():
    merchant = f.active_merchant()
    m = f.member(merchant)
    deposits.deposit_announce(merchant=merchant, actor=None, member=m, amount="1.00", order_no="X",
                              method="offline_transfer")
    with pytest.raises(DuplicateOrder):
        deposits.deposit_announce(merchant=merchant, actor=None, member=m, amount="1.00", order_no="X",
                                  method="offline_transfer")


def test_a_draft_merchant_takes_no_deposit():
    merchant = f.active_merchant()
    m = f.member(merchant)
    draft = f.draft_merchant()
    with pytest.raises(MerchantInactive):
        deposits.deposit_announce(merchant=draft, actor=None, member=m, amount="1.00", order_no="Y",
                                  method="offline_transfer")


def test_unidentified_money_waits_in_suspense_and_can_be_matched_or_returned():
    merchant = f.active_merchant()
    buyer = f.member(merchant)
    deposits.suspense_receive(merchant=merchant, actor=None, amount="300.00", reference="SR9")
    balances = account_balances(merchant)
    assert balances["supervision"] == balances["suspense"] == Decimal("300.00")
    assert prove_merchant(merchant).ok
    deposits.suspense_match_to_member(merchant=merchant, actor=None, member=buyer, amount="200.00",
                                      reference="SR9", reason="Payer phoned in")
    deposits.suspense_return(merchant=merchant, actor=None, amount="100.00", reference="SR9", reason="Unknown payer")
    balances = account_balances(merchant)
    assert balances["suspense"] == 0 and balances["supervision"] == Decimal("200.00")
    assert prove_merchant(merchant).ok
