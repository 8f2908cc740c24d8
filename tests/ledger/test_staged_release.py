"""Staged release of guaranteed payments (分批支付 / 分期放款): parts by amount (pro rata, largest
remainder) or per payee, every transition allowed and refused, refunds taking escrow first,
auto-release of the remainder, the per-merchant delay, idempotency and the CHECK constraints."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from core.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidState,
    PermissionRefused,
    ValidationFailed,
)
from ledger.calendar import auto_release_at, auto_release_days
from ledger.models import EntryType, Payment, PaymentRelease, PaymentSplit
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services.payment_batch import BatchItem, payment_create_batch
from ledger.services.payments import payment_create, payment_refund
from ledger.services.releases import (
    FEE,
    largest_remainder_shares,
    payment_release,
    payment_release_part,
    payments_auto_release_due,
)
from merchants.models import Merchant
from tests import factories as f
from tests.reconciliation.builders import funded

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def shop():
    """An active merchant, a buyer with 1,000.00 and two sellers."""
    merchant = f.active_merchant()
    buyer, seller, other = f.member(merchant), f.member(merchant), f.member(merchant)
    funded(merchant, buyer, "1000.00")
    return merchant, buyer, seller, other


def held(shop, *, order_no="G-1"):
    """100.00 held: 70.00 to the seller, 20.00 to the other seller, 10.00 platform fee."""
    merchant, buyer, seller, other = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no=order_no,
                                mode="guaranteed", splits=[(seller, "70.00"), (other, "20.00")], platform_fee="10.00")
    return payment


def available(member):
    return member_balance(member)["available"]


def fresh(payment) -> Payment:
    return Payment.objects.get(pk=payment.pk)


def split_of(payment, member) -> PaymentSplit:
    return PaymentSplit.objects.get(payment=payment, payee=member)


def refund(payment, amount, ref):
    return payment_refund(payment=payment, actor=None, amount=amount, reason="returned goods", idempotency_ref=ref)


# --- allocation to the cent ------------------------------------------------------------------

def test_largest_remainder_gives_the_left_over_cents_to_the_largest_remainders():
    # given three equal weights, and weights whose exact quotas have different fractions
    # when 10.00 and 0.05 are shared, then every cent is placed, the first of equals first
    assert largest_remainder_shares(D("10.00"), [("a", D("1.00")), ("b", D("1.00")), ("c", D("1.00"))]) == {
        "a": D("3.34"), "b": D("3.33"), "c": D("3.33")}
    # 0.05 × 70/100 = 0.035, × 20/100 = 0.01, × 10/100 = 0.005: floors 3, 1, 0 cents; the 4th cent's
    # remainders are 0.5, 0, 0.5 → the larger weight (70) wins the tie
    assert largest_remainder_shares(D("0.05"), [("a", D("70")), ("b", D("20")), (FEE, D("10"))]) == {
        "a": D("0.04"), "b": D("0.01"), FEE: D("0.00")}
    assert largest_remainder_shares(D("5.00"), [("a", D("0.00")), ("b", D("7.00"))]) == {"a": 0, "b": D("5.00")}


@given(weights=st.lists(st.integers(0, 10**8), min_size=1, max_size=6).filter(any), data=st.data())
def test_largest_remainder_is_exact_capped_and_proportional(weights, data):
    # given any weights (in cents) and any amount up to their total
    ws = [(i, D(w) / 100) for i, w in enumerate(weights)]
    total = sum(w for _i, w in ws)
    amount = D(data.draw(st.integers(1, int(total * 100)))) / 100
    # when the amount is shared
    shares = largest_remainder_shares(amount, ws)
    # then the shares add up to it exactly, none exceeds its weight, none is off its quota by a cent or more
    assert sum(shares.values()) == amount
    for i, w in ws:
        assert D(0) <= shares[i] <= w
        assert abs(shares[i] - amount * w / total) < D("0.01")
    assert largest_remainder_shares(amount, ws) == shares  # deterministic


# --- held → partially_released → released ----------------------------------------------------

def test_parts_by_amount_are_spread_pro_rata_with_the_fee_until_nothing_is_held(shop):
    # given 100.00 held (70 / 20 / fee 10) and a platform listening
    merchant, _buyer, seller, other = shop
    sent = f.listening(merchant)
    payment = held(shop)
    # when 30.00 is released
    payment = payment_release(payment=payment, actor=None, amount="30.00")
    # then 21.00 / 6.00 / fee 3.00 are paid, 70.00 is still held and the status says partially released
    assert payment.status == Payment.Status.PARTIALLY_RELEASED
    assert (payment.released_amount, payment.held_amount) == (D("30.00"), D("70.00"))
    assert (available(seller), available(other), account_balances(merchant)["fee_income"]) == (
        D("21.00"), D("6.00"), D("3.00"))
    assert account_balances(merchant)["escrow"] == D("70.00")
    assert payment.release_entry is None and payment.released_at is None
    # when 0.01 is released (one cent: largest remainder sends it to the seller), then the rest
    payment = payment_release(payment=payment, actor=None, amount="0.01")
    assert available(seller) == D("21.01")
    payment = payment_release(payment=payment, actor=None)
    # then everything is paid exactly, nothing is held, and the status says released
    assert payment.status == Payment.Status.RELEASED and payment.released_at and payment.held_amount == 0
    assert (available(seller), available(other)) == (D("70.00"), D("20.00"))
    assert (account_balances(merchant)["escrow"], account_balances(merchant)["fee_income"]) == (0, D("10.00"))
    # and each part is its own release entry, numbered, the last one the payment's release entry
    parts = list(PaymentRelease.objects.filter(payment=payment).order_by("sequence"))
    assert [(r.sequence, r.amount, r.platform_fee) for r in parts] == [
        (1, D("30.00"), D("3.00")), (2, D("0.01"), D("0.00")), (3, D("69.99"), D("7.00"))]
    assert all(r.entry.entry_type == EntryType.PAYMENT_RELEASE for r in parts)
    assert payment.release_entry_id == parts[-1].entry_id
    # and the platform heard of each part, the last one as payment.released
    assert [t for t, _d in sent()] == ["payment.partially_released", "payment.partially_released",
                                       "payment.released"]
    first = sent()[0][1]
    assert (first["amount"], first["platform_fee"], first["released_amount"], first["held_amount"], first["part"]) == (
        "30.00", "3.00", "30.00", "70.00", 1)
    assert first["payees"] == [{"user_id": seller.user_id, "amount": "21.00"},
                               {"user_id": other.user_id, "amount": "6.00"}]
    assert sent()[2][1]["amount"] == "69.99"
    assert prove_merchant(merchant).ok


def test_parts_per_payee_carry_the_fee_in_step_and_the_last_payee_part_takes_the_fee_left(shop):
    # given 100.00 held (70 / 20 / fee 10)
    merchant, _buyer, seller, other = shop
    payment = held(shop)
    # when the seller's 35.00 is released (half of the payees' 90.00 held × 35/90 of the fee)
    payment = payment_release(payment=payment, actor=None, splits=[(seller, "35.00")])
    # then the seller has 35.00, the fee account 10 × 35/90 = 3.89, the other seller nothing yet
    assert (available(seller), available(other), account_balances(merchant)["fee_income"]) == (
        D("35.00"), 0, D("3.89"))
    assert payment.status == Payment.Status.PARTIALLY_RELEASED and payment.held_amount == D("61.11")
    assert (split_of(payment, seller).released_amount, split_of(payment, other).released_amount) == (D("35.00"), 0)
    # when both payees' remainders are released per payee
    payment = payment_release(payment=payment, actor=None, splits=[(seller, "35.00"), (other, "20.00")])
    # then the fee left (6.11) went with them and nothing is held
    assert payment.status == Payment.Status.RELEASED and payment.held_amount == 0
    assert account_balances(merchant)["fee_income"] == D("10.00")
    assert PaymentRelease.objects.get(payment=payment, sequence=2).platform_fee == D("6.11")
    assert prove_merchant(merchant).ok


def test_a_release_in_full_of_a_held_payment_is_one_part_as_before(shop):
    _merchant, _buyer, seller, other = shop
    payment = payment_release(payment=held(shop), actor=f.ops())
    assert payment.status == Payment.Status.RELEASED and payment.released_amount == D("100.00")
    assert (available(seller), available(other)) == (D("70.00"), D("20.00"))
    release = PaymentRelease.objects.get(payment=payment)
    assert (release.sequence, release.amount, release.platform_fee) == (1, D("100.00"), D("10.00"))
    assert release.entry.idempotency_ref == f"payment-release:{payment.pk}:1"


# --- refusals ---------------------------------------------------------------------------------

def test_releasing_more_than_is_held_is_refused_and_books_nothing(shop):
    merchant, _buyer, seller, other = shop
    payment = payment_release(payment=held(shop), actor=None, amount="60.00")
    entries = PaymentRelease.objects.count()
    with pytest.raises(ValidationFailed):  # 40.00 is held
        payment_release(payment=payment, actor=None, amount="40.01")
    with pytest.raises(ValidationFailed):  # the seller has 70 − 42 = 28.00 held
        payment_release(payment=payment, actor=None, splits=[(seller, "28.01")])
    assert PaymentRelease.objects.count() == entries and fresh(payment).held_amount == D("40.00")
    assert available(other) == D("12.00")
    assert prove_merchant(merchant).ok


def test_a_release_names_only_the_payment_s_payees_and_an_amount_or_splits_not_both(shop):
    merchant, _buyer, seller, _other = shop
    payment = held(shop)
    stranger = f.member(merchant)
    with pytest.raises(ValidationFailed):
        payment_release(payment=payment, actor=None, splits=[(stranger, "1.00")])
    with pytest.raises(ValidationFailed):
        payment_release(payment=payment, actor=None, amount="1.00", splits=[(seller, "1.00")])
    with pytest.raises(ValidationFailed):
        payment_release(payment=payment, actor=None, splits=[])
    with pytest.raises(InvalidAmount):  # the amount grammar: a positive amount with two decimals
        payment_release(payment=payment, actor=None, amount="0")
    assert fresh(payment).status == Payment.Status.HELD and available(seller) == 0


@pytest.mark.parametrize("how", ["released", "refunded", "settled"])
def test_a_release_of_a_payment_neither_held_nor_partially_released_is_invalid_state(shop, how):
    merchant, buyer, seller, _other = shop
    if how == "settled":
        payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="D-1",
                                    mode="direct", splits=[(seller, "10.00")])
    else:
        payment = held(shop)
        payment_release(payment=payment, actor=None, amount="50.00")
        if how == "released":
            payment_release(payment=payment, actor=None)
        else:
            refund(payment, "50.00", "R-esc")
            refund(payment, "50.00", "R-payees")
    assert fresh(payment).status == how
    with pytest.raises(InvalidState):
        payment_release(payment=payment, actor=None, amount="1.00")
    with pytest.raises(InvalidState):
        payment_release(payment=payment, actor=None)


def test_staff_without_the_release_permission_are_refused(shop):
    payment = held(shop)
    with pytest.raises(PermissionRefused):
        payment_release(payment=payment, actor=f.auditor(), amount="10.00")
    with pytest.raises(PermissionRefused):
        payment_release_part(payment=payment, actor=f.risk(), amount="10.00", reason="delivered")
    with pytest.raises(ValidationFailed):  # the admin's part needs a reason
        payment_release_part(payment=payment, actor=f.ops(), amount="10.00", reason=" ")
    payment = payment_release_part(payment=payment, actor=f.ops(), amount="10.00", reason="first lot delivered")
    assert payment.status == Payment.Status.PARTIALLY_RELEASED
    assert PaymentRelease.objects.get(payment=payment).reason == "first lot delivered"


# --- idempotency ------------------------------------------------------------------------------

def test_one_request_books_once_and_its_reference_can_t_be_reused_for_another(shop):
    merchant, _buyer, seller, _other = shop
    payment = held(shop)
    payment_release(payment=payment, actor=None, amount="10.00", idempotency_ref="api:K1")
    again = payment_release(payment=payment, actor=None, amount="10.00", idempotency_ref="api:K1")
    assert again.released_amount == D("10.00") and PaymentRelease.objects.filter(payment=payment).count() == 1
    with pytest.raises(IdempotencyConflict):
        payment_release(payment=payment, actor=None, amount="20.00", idempotency_ref="api:K1")
    with pytest.raises(IdempotencyConflict):
        payment_release(payment=held(shop, order_no="G-2"), actor=None, amount="10.00", idempotency_ref="api:K1")
    assert available(seller) == D("7.00")
    assert prove_merchant(merchant).ok


# --- refunds while partially released ----------------------------------------------------------

def test_a_refund_takes_what_is_held_first_and_the_rest_from_the_payees(shop):
    # given 100.00 (70 / 20 / fee 10) of which 60.00 was released (42 / 12 / 6)
    merchant, buyer, seller, other = shop
    payment = payment_release(payment=held(shop), actor=None, amount="60.00")
    # when 30.00 is refunded: all of it from escrow (40.00 held)
    refund(payment, "30.00", "R-1")
    payment = fresh(payment)
    # then the payees keep what they were released and 10.00 is still held
    assert (available(seller), available(other)) == (D("42.00"), D("12.00"))
    assert (payment.status, payment.held_amount, payment.released_amount) == (
        Payment.Status.PARTIALLY_RELEASED, D("10.00"), D("60.00"))
    # when 25.00 more is refunded: the last 10.00 of escrow, then 15.00 from the payees and fee pro rata
    refund(payment, "25.00", "R-2")
    payment = fresh(payment)
    # then escrow is empty, the status is released (all that is left is with the payees)
    assert payment.status == Payment.Status.RELEASED and payment.held_amount == 0
    assert (payment.released_amount, payment.refunded_amount) == (D("45.00"), D("55.00"))
    assert (available(seller), available(other), account_balances(merchant)["fee_income"]) == (
        D("31.50"), D("9.00"), D("4.50"))
    assert account_balances(merchant)["escrow"] == 0
    assert available(buyer) == D("955.00")
    # and a release is no longer possible; the rest can still be refunded, ending refunded
    with pytest.raises(InvalidState):
        payment_release(payment=payment, actor=None)
    refund(payment, "45.00", "R-3")
    assert fresh(payment).status == Payment.Status.REFUNDED and fresh(payment).released_amount == 0
    assert (available(seller), available(other), available(buyer)) == (0, 0, D("1000.00"))
    assert prove_merchant(merchant).ok


def test_a_refund_that_empties_escrow_of_a_partially_released_payment_makes_it_released(shop):
    merchant, _buyer, _seller, _other = shop
    payment = payment_release(payment=held(shop), actor=None, amount="60.00")
    refund(payment, "40.00", "R-all-held")
    payment = fresh(payment)
    assert payment.status == Payment.Status.RELEASED and payment.released_at
    assert payment.release_entry_id == PaymentRelease.objects.get(payment=payment).entry_id
    assert prove_merchant(merchant).ok


def test_a_refund_in_full_from_partially_released_ends_refunded(shop):
    merchant, buyer, seller, _other = shop
    payment = payment_release(payment=held(shop), actor=None, splits=[(seller, "70.00")])
    refund(payment, "100.00", "R-everything")
    payment = fresh(payment)
    assert payment.status == Payment.Status.REFUNDED and (payment.released_amount, payment.held_amount) == (0, 0)
    assert (available(seller), available(buyer)) == (0, D("1000.00"))
    assert account_balances(merchant)["escrow"] == 0 and account_balances(merchant)["fee_income"] == 0
    assert prove_merchant(merchant).ok


# --- the database's own check -----------------------------------------------------------------

def test_the_database_refuses_released_plus_refunded_above_the_amount(shop):
    payment = payment_release(payment=held(shop), actor=None, amount="60.00")
    refund(payment, "30.00", "R-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(released_amount=D("70.01"))
    split = PaymentSplit.objects.filter(payment=payment).order_by("id").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentSplit.objects.filter(pk=split.pk).update(released_amount=split.amount - split.refunded_amount
                                                        + D("0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentSplit.objects.filter(pk=split.pk).update(released_amount=D("-0.01"))


# --- auto-release and the per-merchant delay ----------------------------------------------------

def test_auto_release_takes_the_remainder_of_a_partially_released_payment(shop):
    merchant, _buyer, seller, other = shop
    payment = payment_release(payment=held(shop), actor=None, amount="30.00")
    later = timezone.now() + timedelta(days=400)
    assert payments_auto_release_due(now=later) == 1
    assert payments_auto_release_due(now=later) == 0  # a second delivery of the task
    payment = fresh(payment)
    assert payment.status == Payment.Status.RELEASED and payment.held_amount == 0
    assert (available(seller), available(other)) == (D("70.00"), D("20.00"))
    assert PaymentRelease.objects.filter(payment=payment).count() == 2
    assert prove_merchant(merchant).ok


def test_the_merchant_s_own_delay_is_used_else_the_bank_s_default(shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "GUARANTEE_AUTO_RELEASE_DAYS": 7}
    merchant, buyer, seller, _other = shop
    # given the bank's default of 7 days, and the merchant's own 3 days
    assert auto_release_days(merchant) == 7
    Merchant.objects.filter(pk=merchant.pk).update(guarantee_auto_release_days=3)
    merchant.refresh_from_db()
    assert auto_release_days(merchant) == 3
    now = timezone.now()
    assert auto_release_at(merchant, now) == now + timedelta(days=3)
    # when a guaranteed payment is made singly and in a batch
    single, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="S-1",
                               mode="guaranteed", splits=[(seller, "10.00")])
    [outcome] = payment_create_batch(merchant=merchant, actor=None, atomic=True, items=[BatchItem(
        payer_user_id=buyer.user_id, amount=D("10.00"), order_no="B-1", mode="guaranteed",
        payee_user_id=seller.user_id)])
    # then both are released automatically after the merchant's 3 days
    for payment in (single, outcome.payment):
        delay = fresh(payment).auto_release_at - fresh(payment).created_at
        assert timedelta(days=3) - timedelta(seconds=5) < delay <= timedelta(days=3) + timedelta(seconds=5)
    assert payments_auto_release_due(now=timezone.now() + timedelta(days=2)) == 0
    assert payments_auto_release_due(now=timezone.now() + timedelta(days=3, minutes=1)) == 2
