"""The booking function under real concurrency (PostgreSQL, real transactions, real threads):
hot accounts credited and debited by payments booked in one call, and both paths racing."""
import threading
from decimal import Decimal

import pytest

from core.errors import InsufficientFunds
from ledger.models import Account, AccountKind, HotBalanceDelta, Payment
from ledger.posting import roll_up_hot_balances
from ledger.selectors import member_balance, prove_merchant
from ledger.services import payments
from ledger.services.payments import payment_create
from tests import factories as f

from .test_payment_concurrency import _no_negative_balance, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def _hot(member):
    Account.objects.filter(member=member, kind=AccountKind.MEMBER_AVAILABLE).update(is_hot=True)


# Each thread chooses its path (settings are process-wide: overriding them in racing threads would
# leave them changed after the test).
_path = threading.local()


@pytest.fixture(autouse=True)
def path_per_thread(monkeypatch):
    real = payments.books_in_database
    monkeypatch.setattr(payments, "books_in_database",
                        lambda merchant: real(merchant) and getattr(_path, "in_database", True))


def _pay(merchant, payer, payee, order_no, *, in_database=True):
    _path.in_database = in_database
    return payment_create(merchant=merchant, actor=None, payer=payer, amount="10.00", order_no=order_no,
                          mode="direct", splits=[(payee, "9.00")], platform_fee="1.00")


def test_forty_payments_to_one_hot_seller_lose_no_credit():
    # given a seller whose account takes credits as deltas, and eight funded buyers
    merchant = f.active_merchant()
    seller, buyers = f.member(merchant), [f.member(merchant) for _ in range(8)]
    _hot(seller)
    for buyer in buyers:
        f.funded(buyer, "50.00")
    # when 40 payments to the seller race, half through each path
    results = run_together(40, lambda i: _pay(merchant, buyers[i % 8], seller, f"HOT-{i}", in_database=i % 2 == 0))
    # then every one booked, and the seller holds all 40 × 9.00, pending deltas included
    assert [e for _r, e in results if e is not None] == []
    assert member_balance(seller)["available"] == D("360.00")
    assert HotBalanceDelta.objects.filter(account__member=seller).count() == 40
    # and after the roll-up the materialised balance is the same, and the books prove
    roll_up_hot_balances()
    assert Account.objects.get(member=seller, kind=AccountKind.MEMBER_AVAILABLE).balance == D("360.00")
    assert prove_merchant(merchant).ok


def test_a_hot_payer_funded_for_twenty_pays_exactly_twenty_of_fifty():
    # given a busy payer's hot account holding exactly 20 × 10.00, part of it still as pending deltas
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "100.00")
    _hot(payer)
    f.funded(payer, "100.00")  # credited as a delta now
    # when 50 payments of 10.00 race, through both paths
    results = run_together(50, lambda i: _pay(merchant, payer, payee, f"DEBIT-{i}", in_database=i % 3 != 0))
    # then exactly 20 went through and the other 30 were refused as insufficient funds
    errors = [e for _r, e in results if e is not None]
    assert len(errors) == 30 and all(isinstance(e, InsufficientFunds) for e in errors), errors
    assert Payment.objects.filter(merchant=merchant).count() == 20
    assert member_balance(payer)["available"] == 0 and member_balance(payee)["available"] == D("180.00")
    roll_up_hot_balances()
    _no_negative_balance(merchant)
    assert prove_merchant(merchant).ok


def test_the_two_paths_racing_for_one_order_book_it_once():
    # given a funded payer, when 20 identical requests for one order race through both paths
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "100.00")
    results = run_together(20, lambda i: _pay(merchant, payer, payee, "ONCE", in_database=i % 2 == 0))
    # then one booked it and the others answered the same payment as a replay
    assert [e for _r, e in results if e is not None] == []
    assert sorted(created for (_p, created), _e in results) == [False] * 19 + [True]
    assert len({payment.pk for (payment, _c), _e in results}) == 1
    assert member_balance(payer)["available"] == D("90.00")
    assert prove_merchant(merchant).ok
