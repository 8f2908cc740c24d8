"""Payments under real concurrency (PostgreSQL, real transactions, real threads)."""
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import ApplicationError, InsufficientFunds
from ledger import posting
from ledger.models import Account, EntryType, JournalEntry, Payment, PaymentSplit, Posting, Refund
from ledger.selectors import member_balance, prove_merchant
from ledger.services.payments import payment_create, payment_refund
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def run_together(n, fn):
    """Run fn(i) in n threads released at once; returns [(result, error)] in thread order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = (fn(i), None)
        except Exception as error:  # noqa: BLE001 - collected and asserted on by the test
            results[i] = (None, error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def _no_negative_balance(merchant):
    assert not Account.objects.filter(merchant=merchant, balance__lt=0).exists()
    assert not Posting.objects.filter(merchant=merchant, balance_after__lt=0).exists()


def test_fifty_payments_from_a_payer_funded_for_twenty_exactly_twenty_succeed():
    # given a payer with exactly 20 × 10.00
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "200.00")
    # when 50 payments of 10.00 (+ fee) race
    results = run_together(50, lambda i: payment_create(
        merchant=merchant, actor=None, payer=payer, amount="10.00", order_no=f"RACE-{i}", mode="direct",
        splits=[(payee, "9.50")], platform_fee="0.50"))
    # then exactly 20 went through and 30 were refused as insufficient funds, nothing else
    ok = [r for r, e in results if e is None]
    errors = [e for r, e in results if e is not None]
    assert len(ok) == 20 and len(errors) == 30
    assert all(isinstance(e, InsufficientFunds) for e in errors), errors
    assert Payment.objects.filter(merchant=merchant).count() == 20
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT).count() == 20
    assert member_balance(payer)["available"] == 0
    assert member_balance(payee)["available"] == D("190.00")
    _no_negative_balance(merchant)
    assert prove_merchant(merchant).ok


def test_twenty_identical_requests_for_one_order_book_exactly_once():
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "1000.00")
    results = run_together(20, lambda i: payment_create(
        merchant=merchant, actor=None, payer=payer, amount="100.00", order_no="ONE", mode="guaranteed",
        splits=[(payee, "98.00")], platform_fee="2.00"))
    assert all(e is None for _r, e in results), [e for _r, e in results if e]
    assert len({r[0].pk for r, _e in results}) == 1
    assert sum(1 for r, _e in results if r[1]) == 1  # created once, replayed 19 times
    assert Payment.objects.filter(merchant=merchant).count() == 1
    assert PaymentSplit.objects.filter(merchant=merchant).count() == 1
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT_HOLD).count() == 1
    assert member_balance(payer)["available"] == D("900.00")
    assert prove_merchant(merchant).ok


@pytest.mark.parametrize("mode", ["direct", "guaranteed"])
def test_concurrent_refunds_never_exceed_the_payment(mode):
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "100.00")
    payment, _ = payment_create(merchant=merchant, actor=None, payer=payer, amount="100.00", order_no="P",
                                mode=mode, splits=[(payee, "90.00")], platform_fee="10.00")
    results = run_together(12, lambda i: payment_refund(payment=payment, actor=None, amount="30.00",
                                                        reason="race", idempotency_ref=f"R{i}"))
    ok = [r for r, e in results if e is None]
    errors = [e for _r, e in results if e is not None]
    assert len(ok) == 3 and len(errors) == 9
    assert all(isinstance(e, ApplicationError) and "Over-refund" in str(e) for e in errors), errors
    payment.refresh_from_db()
    assert payment.refunded_amount == D("90.00") == sum(r.amount for r in Refund.objects.filter(payment=payment))
    assert member_balance(payer)["available"] == D("90.00")
    _no_negative_balance(merchant)
    assert prove_merchant(merchant).ok


def test_a_failure_between_two_balance_updates_leaves_nothing_behind(monkeypatch, settings):
    # given a funded payer, and payments booked by the Python posting engine (the booking function
    # is one statement: it can't break half-way)
    settings.JIANGUAN = {**settings.JIANGUAN, "BOOK_IN_DATABASE": False}
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "50.00")
    entries_before = JournalEntry.objects.filter(merchant=merchant).count()
    # when the posting engine breaks right after its first balance UPDATE
    original, calls = posting._move_balance, []

    def first_update_then_crash(*args, **kwargs):
        calls.append(original(*args, **kwargs))
        if len(calls) == 1:
            raise RuntimeError("connection lost between postings")
        return calls[-1]

    monkeypatch.setattr(posting, "_move_balance", first_update_then_crash)
    with pytest.raises(RuntimeError):
        payment_create(merchant=merchant, actor=None, payer=payer, amount="20.00", order_no="CRASH", mode="direct",
                       splits=[(payee, "20.00")])
    assert len(calls) == 1  # the first UPDATE did run
    # then no payment, no split, no entry, no posting, and both balances are as before
    assert not Payment.objects.filter(merchant=merchant).exists()
    assert not PaymentSplit.objects.filter(merchant=merchant).exists()
    assert JournalEntry.objects.filter(merchant=merchant).count() == entries_before
    assert member_balance(payer)["available"] == D("50.00") and member_balance(payee)["available"] == 0
    assert prove_merchant(merchant).ok
    # and the same order can be booked once the engine works again
    monkeypatch.undo()
    _payment, created = payment_create(merchant=merchant, actor=None, payer=payer, amount="20.00",
                                       order_no="CRASH", mode="direct", splits=[(payee, "20.00")])
    assert created and member_balance(payee)["available"] == D("20.00")
