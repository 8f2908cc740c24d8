"""Full releases booked by the release function under real concurrency (PostgreSQL, real
transactions, real threads): a release's booking in flight makes no other release of the merchant
wait, many at once lose nothing, a release racing a refund of the same payment never pays out more
than the payment holds, and a freeze of escrow still waits for those in flight and stops later ones."""
import threading
from decimal import Decimal

import pytest
from django.db import transaction

from core.actors import Actor
from core.audit import verify_chain
from core.errors import AccountFrozen
from ledger.booking import books_in_database
from ledger.models import Account, AccountKind, Payment, PaymentRelease
from ledger.release_booking import release_in_database
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services.accounts import account_freeze, platform_account
from ledger.services.payments import payment_create, payment_refund
from ledger.services.releases import payment_release
from tests import factories as f
from tests.faults.helpers import in_thread, wait_until_waiting_on_lock

from .test_payment_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


@pytest.fixture
def shop():
    """A merchant booking in the database; a buyer with 1,000.00; a busy (hot) seller and an ordinary one."""
    merchant = f.active_merchant()
    buyer, busy, ordinary = f.member(merchant), f.member(merchant), f.member(merchant)
    f.funded(buyer, "1000.00")
    f.funded(busy, "0.01", order_no="OPEN-BUSY")  # opens its accounts
    Account.objects.filter(member=busy, kind=AccountKind.MEMBER_AVAILABLE).update(is_hot=True)
    assert books_in_database(merchant)
    return merchant, buyer, busy, ordinary


def held(merchant, buyer, payees, n, *, amount="10.00", fee="1.00", prefix="G"):
    """n payments held, the i-th for payees[i % len(payees)] (the amount less the fee shared evenly)."""
    net = D(amount) - D(fee)
    made = []
    for i in range(n):
        these = payees[i % len(payees)]
        made.append(payment_create(merchant=merchant, actor=None, payer=buyer, amount=amount, order_no=f"{prefix}-{i}",
                                   mode="guaranteed", splits=[(payee, str(net / len(these))) for payee in these],
                                   platform_fee=fee)[0])
    return made


def in_flight(payment, merchant):
    """A thread whose release was booked by the function, its transaction left open until `done` is set."""
    booked, done = threading.Event(), threading.Event()

    def release(_outcome):
        with transaction.atomic():
            release_in_database(payment_id=payment.pk, merchant=merchant, actor=Actor.system("test"), reason="",
                                ref="", fingerprint="x")
            booked.set()
            done.wait(60)

    thread, out = in_thread(release)
    assert booked.wait(60), out
    return thread, out, done


def test_a_release_booked_and_in_flight_makes_no_other_release_of_the_merchant_wait(shop):
    # given a release of the busy seller booked by the function, its transaction still open
    merchant, buyer, busy, _ordinary = shop
    first, second = held(merchant, buyer, [[busy]], 2)
    thread, out, done = in_flight(first, merchant)
    try:
        # when another payment of the merchant to the same seller is released meanwhile
        other, other_out = in_thread(lambda _: payment_release(payment=second, actor=None))
        other.join(60)
        # then it was booked without waiting (escrow shared, the seller and fee income hot: deltas)
        assert not other.is_alive() and "error" not in other_out, other_out
    finally:
        done.set()
        thread.join(60)
    assert "error" not in out, out
    assert set(Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        Payment.Status.RELEASED}
    assert prove_merchant(merchant).ok


def test_many_releases_of_one_merchant_at_once_lose_nothing(shop):
    # given 24 payments held for the busy seller, the ordinary one, or both
    merchant, buyer, busy, ordinary = shop
    payments = held(merchant, buyer, [[busy], [ordinary], [busy, ordinary]], 24, amount="10.00", fee="1.00")
    # when six threads release four each, at once
    results = run_together(6, lambda i: [payment_release(payment=Payment(pk=p.pk), actor=None).status
                                         for p in payments[i::6]])
    # then every release was booked once, and every cent is where it belongs
    assert [e for _r, e in results if e is not None] == []
    assert set(Payment.objects.filter(merchant=merchant, order_no__startswith="G-")
               .values_list("status", flat=True)) == {Payment.Status.RELEASED}
    assert PaymentRelease.objects.filter(merchant_id=merchant.pk).count() == 24
    # 8 × 9.00 to the busy seller, 8 × 9.00 to the ordinary one, 8 × (4.50 + 4.50), the fee 24 × 1.00
    assert member_balance(busy)["available"] == D("108.01")
    assert member_balance(ordinary)["available"] == D("108.00")
    balances = account_balances(merchant)
    assert (balances["escrow"], balances["fee_income"]) == (0, D("24.00"))
    assert prove_merchant(merchant).ok and verify_chain(merchant.pk) is None


def test_a_release_racing_a_refund_of_the_same_payment_never_over_releases(shop):
    # given eight payments of 10.00 held for the ordinary seller
    merchant, buyer, _busy, ordinary = shop
    payments = held(merchant, buyer, [[ordinary]], 8, prefix="R")
    for n, payment in enumerate(payments):
        # when its full release and a refund of 4.00 race
        def step(i, payment=payment, n=n):
            if i == 0:
                return payment_release(payment=Payment(pk=payment.pk), actor=None)
            return payment_refund(payment=Payment(pk=payment.pk), actor=None, amount="4.00", reason="cancelled",
                                  idempotency_ref=f"RF-{n}")

        results = run_together(2, step)
        # then both went through, in either order, and between them took exactly the amount
        assert [e for _r, e in results if e is None] == [None, None], results
        payment = Payment.objects.get(pk=payment.pk)
        assert payment.status == Payment.Status.RELEASED
        assert (payment.refunded_amount, payment.released_amount) == (D("4.00"), D("6.00"))
        assert payment.held_amount == 0
    balances = account_balances(merchant)
    assert balances["escrow"] == 0
    assert member_balance(ordinary)["available"] + balances["fee_income"] == D("48.00")
    assert member_balance(buyer)["available"] == D("1000.00") - D("80.00") + D("32.00")
    assert prove_merchant(merchant).ok


def test_a_freeze_of_escrow_waits_for_a_release_in_flight_and_stops_later_ones(shop):
    # given a release booked by the function, its transaction still open
    merchant, buyer, busy, _ordinary = shop
    first, second = held(merchant, buyer, [[busy]], 2)
    thread, out, done = in_flight(first, merchant)
    escrow = platform_account(merchant, AccountKind.ESCROW)
    try:
        # when risk freezes escrow meanwhile, then the freeze waits for the release in flight
        officer = f.risk()
        freeze, freeze_out = in_thread(lambda _: account_freeze(account=escrow, actor=officer, reason="investigation"))
        wait_until_waiting_on_lock(_pid(freeze_out))
        assert freeze.is_alive()
    finally:
        done.set()
        thread.join(60)
    freeze.join(60)
    assert "error" not in out and "error" not in freeze_out, (out, freeze_out)
    # and a release after the freeze is refused, nothing of it booked
    with pytest.raises(AccountFrozen):
        payment_release(payment=second, actor=None)
    assert Payment.objects.get(pk=second.pk).status == Payment.Status.HELD
    assert Payment.objects.get(pk=first.pk).status == Payment.Status.RELEASED
    assert prove_merchant(merchant).ok


def _pid(outcome, timeout=60):
    import time

    deadline = time.monotonic() + timeout
    while "pid" not in outcome and time.monotonic() < deadline:
        time.sleep(0.01)
    return outcome["pid"]
