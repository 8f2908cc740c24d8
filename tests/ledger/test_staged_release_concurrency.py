"""Staged releases under real concurrency (PostgreSQL, real transactions, real threads): parts of
one payment racing each other, and a part racing a refund, never pay out more than was held."""
from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from ledger.models import Payment, PaymentRelease
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services.payments import payment_create, payment_refund
from ledger.services.releases import payment_release
from tests import factories as f

from .test_payment_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


@pytest.fixture
def held():
    """100.00 held for one seller (95.00) and the platform fee (5.00)."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "100.00")
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="G-1",
                                mode="guaranteed", splits=[(seller, "95.00")], platform_fee="5.00")
    return merchant, buyer, seller, payment


def test_parts_racing_on_one_payment_never_release_more_than_it_holds(held):
    # given 100.00 held
    merchant, _buyer, seller, payment = held
    # when eight requests of 30.00 each race (each its own idempotency reference)
    results = run_together(8, lambda i: payment_release(payment=Payment(pk=payment.pk), actor=None, amount="30.00",
                                                        idempotency_ref=f"api:K{i}"))
    # then exactly three went through, the others were refused as over-release, nothing else failed
    booked = [r for r, e in results if e is None]
    errors = [e for r, e in results if e is not None]
    assert len(booked) == 3 and all(isinstance(e, ValidationFailed) for e in errors), errors
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.released_amount, payment.held_amount) == (
        Payment.Status.PARTIALLY_RELEASED, D("90.00"), D("10.00"))
    assert sorted(PaymentRelease.objects.filter(payment=payment).values_list("sequence", flat=True)) == [1, 2, 3]
    assert member_balance(seller)["available"] == D("85.50")
    assert account_balances(merchant)["escrow"] == D("10.00")
    assert prove_merchant(merchant).ok


def test_a_release_and_a_refund_racing_take_no_more_than_the_amount_between_them(held):
    # given 100.00 held
    merchant, buyer, seller, payment = held

    # when a release of 40.00 and a refund of 60.00 race
    def step(i):
        if i == 0:
            return payment_release(payment=Payment(pk=payment.pk), actor=None, amount="40.00")
        return payment_refund(payment=Payment(pk=payment.pk), actor=None, amount="60.00", reason="cancelled",
                              idempotency_ref="R-1")

    results = run_together(2, step)
    # then both went through in either order (the payment's row lock queues them), the refund
    # taking from escrow only, and the payment ends released with nothing held
    assert all(e is None for _r, e in results), results
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.released_amount + payment.refunded_amount <= payment.amount
    assert payment.refunded_amount == D("60.00") and payment.held_amount == 0
    assert payment.status == Payment.Status.RELEASED
    paid_out = member_balance(seller)["available"] + account_balances(merchant)["fee_income"]
    assert paid_out == payment.released_amount == D("40.00")
    assert member_balance(buyer)["available"] == D("60.00")
    assert account_balances(merchant)["escrow"] == 0
    assert prove_merchant(merchant).ok
