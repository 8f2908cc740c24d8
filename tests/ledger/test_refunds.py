"""Refunds: from escrow while held, from the payees (pro rata, with the fee) after release."""
from decimal import Decimal

import pytest

from core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidState,
    MemberFrozen,
    MerchantFrozen,
    ValidationFailed,
)
from core.models import AuditEvent
from ledger.models import EntryType, Payment, Refund
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services.payments import (
    FEE,
    payment_create,
    payment_refund,
    payment_release,
    pro_rata_shares,
)
from merchants.services.lifecycle import merchant_freeze
from merchants.services.members import member_freeze, member_unfreeze
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def available(member):
    return member_balance(member)["available"]


@pytest.fixture
def shop():
    merchant = f.active_merchant()
    buyer, seller, other = f.member(merchant), f.member(merchant), f.member(merchant)
    f.funded(buyer, "1000.00")
    return merchant, buyer, seller, other


def pay(shop, *, mode, order_no="ORD-1"):
    """100.00: 60.00 to the seller, 30.00 to the other seller, 10.00 platform fee."""
    merchant, buyer, seller, other = shop
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no=order_no,
                                mode=mode, splits=[(seller, "60.00"), (other, "30.00")], platform_fee="10.00")
    return payment


def refund(payment, amount, ref="R1", reason="damaged in transit", actor=None):
    return payment_refund(payment=payment, actor=actor, amount=amount, reason=reason, idempotency_ref=ref)


def split_refunds(payment):
    return [s.refunded_amount for s in payment.splits.order_by("id")]


# --- the pro-rata rule -------------------------------------------------------------------

def test_shares_are_pro_rata_rounded_half_up_with_the_remainder_to_the_largest_split():
    # 100.00 = A 60.00 + B 30.00 + fee 10.00
    parts = [("A", D("60.00"), D("60.00")), ("B", D("30.00"), D("30.00")), (FEE, D("10.00"), D("10.00"))]
    # 33.33 → 19.998, 9.999, 3.333 → 20.00, 10.00, 3.33: no remainder
    assert pro_rata_shares(D("33.33"), parts, D("100.00")) == {"A": D("20.00"), "B": D("10.00"), FEE: D("3.33")}
    # 0.05 → 0.03, 0.015, 0.005 → 0.03, 0.02, 0.01 = 0.06: the largest split gives 0.01 less
    assert pro_rata_shares(D("0.05"), parts, D("100.00")) == {"A": D("0.02"), "B": D("0.02"), FEE: D("0.01")}
    # 0.01 → 0.006, 0.003, 0.001 → 0.01, 0, 0
    assert pro_rata_shares(D("0.01"), parts, D("100.00")) == {"A": D("0.01"), "B": D("0.00"), FEE: D("0.00")}


def test_equal_splits_give_the_remainder_to_the_first_largest():
    parts = [("A", D("10.00"), D("10.00")), ("B", D("10.00"), D("10.00")), ("C", D("10.00"), D("10.00"))]
    # 10.00 / 3 = 3.333… → 3.33 each = 9.99; the missing cent goes to A
    assert pro_rata_shares(D("10.00"), parts, D("30.00")) == {"A": D("3.34"), "B": D("3.33"), "C": D("3.33")}


def test_no_share_exceeds_what_is_left_and_the_last_refund_takes_exactly_the_rest():
    # A has 0.01 left, B 5.00: a 1.00 refund would be 0.50 each, A can give only 0.01
    parts = [("A", D("5.00"), D("0.01")), ("B", D("5.00"), D("5.00"))]
    assert pro_rata_shares(D("1.00"), parts, D("10.00")) == {"A": D("0.01"), "B": D("0.99")}
    # everything left: each gives exactly its remainder, whatever the proportions
    assert pro_rata_shares(D("5.01"), parts, D("10.00")) == {"A": D("0.01"), "B": D("5.00")}


# --- while held --------------------------------------------------------------------------

def test_a_refund_while_held_comes_from_escrow_and_the_release_pays_the_rest(shop):
    merchant, buyer, seller, other = shop
    payment = pay(shop, mode="guaranteed")
    # when 25.00 is refunded while held
    r = refund(payment, "25.00")
    # then it came from escrow, back to the buyer; the payment stays held
    assert r.entry.entry_type == EntryType.REFUND and r.amount == D("25.00")
    assert available(buyer) == D("925.00")
    assert account_balances(merchant)["escrow"] == D("75.00")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.HELD and payment.refunded_amount == D("25.00")
    assert split_refunds(payment) == [D("15.00"), D("7.50")]  # and the fee 2.50
    assert prove_merchant(merchant).ok
    # when it is released, each payee gets its split less its share, the fee likewise
    payment_release(payment=payment, actor=None)
    assert (available(seller), available(other)) == (D("45.00"), D("22.50"))
    balances = account_balances(merchant)
    assert (balances["escrow"], balances["fee_income"]) == (0, D("7.50"))
    assert prove_merchant(merchant).ok


def test_a_full_refund_while_held_ends_the_payment_and_the_platform_is_told(shop):
    merchant, buyer, _seller, _other = shop
    events = f.listening(merchant)
    payment = pay(shop, mode="guaranteed")
    refund(payment, "40.00", ref="R-part")
    refund(payment, "60.00")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refundable == 0
    assert available(buyer) == D("1000.00") and account_balances(merchant)["escrow"] == 0
    with pytest.raises(InvalidState):
        payment_release(payment=payment, actor=None)
    assert AuditEvent.objects.filter(object_id=str(payment.pk), action="refund_fully").exists()
    assert prove_merchant(merchant).ok
    sent = events("payment.refunded")
    assert [(data["amount"], data["refunded_amount"], data["status"]) for _, data in sent] == [
        ("40.00", "40.00", "held"), ("60.00", "100.00", "refunded")]
    assert {data["payer_user_id"] for _, data in sent} == {buyer.user_id}


# --- after release / direct --------------------------------------------------------------

@pytest.mark.parametrize("mode", ["direct", "guaranteed"])
def test_a_refund_after_settlement_comes_from_the_payees_and_the_fee_pro_rata(shop, mode):
    merchant, buyer, seller, other = shop
    payment = pay(shop, mode=mode)
    if mode == "guaranteed":
        payment_release(payment=payment, actor=None)
    refund(payment, "33.33")
    # 60% / 30% / 10% of 33.33 → 20.00, 10.00, 3.33
    assert (available(buyer), available(seller), available(other)) == (D("933.33"), D("40.00"), D("20.00"))
    assert account_balances(merchant)["fee_income"] == D("6.67")
    payment.refresh_from_db()
    assert payment.refunded_amount == D("33.33") and split_refunds(payment) == [D("20.00"), D("10.00")]
    assert payment.status == (Payment.Status.SETTLED if mode == "direct" else Payment.Status.RELEASED)
    assert prove_merchant(merchant).ok


def test_partial_refunds_up_to_the_amount_give_everything_back_exactly(shop):
    merchant, buyer, seller, other = shop
    payment = pay(shop, mode="direct")
    for n, amount in enumerate(["0.05", "33.33", "0.01", "21.07", "45.54"]):
        refund(payment, amount, ref=f"R{n}")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert split_refunds(payment) == [D("60.00"), D("30.00")]
    assert (available(buyer), available(seller), available(other)) == (D("1000.00"), 0, 0)
    assert account_balances(merchant)["fee_income"] == 0
    assert Refund.objects.filter(payment=payment).count() == 5
    assert prove_merchant(merchant).ok


def test_a_payee_lacking_the_money_stops_the_whole_refund(shop):
    merchant, buyer, seller, other = shop
    payment = pay(shop, mode="direct")
    # the seller spent 50.00 of its 60.00 meanwhile
    payment_create(merchant=merchant, actor=None, payer=seller, amount="50.00", order_no="SPEND", mode="direct",
                   splits=[(other, "50.00")])
    with pytest.raises(InsufficientFunds):
        refund(payment, "100.00")
    # nothing booked: no refund, no movement, the payment unchanged
    assert not Refund.objects.filter(payment=payment).exists()
    payment.refresh_from_db()
    assert payment.refunded_amount == 0 and split_refunds(payment) == [0, 0]
    assert (available(buyer), available(seller), available(other)) == (D("900.00"), D("10.00"), D("80.00"))
    assert account_balances(merchant)["fee_income"] == D("10.00")
    assert prove_merchant(merchant).ok
    # a refund the seller can cover still goes through
    refund(payment, "10.00", ref="R2")
    assert available(seller) == D("4.00")


def test_a_frozen_payee_gives_nothing_back_but_a_frozen_payer_still_receives(shop):
    merchant, buyer, seller, _other = shop
    payment = pay(shop, mode="direct")
    member_freeze(member=seller, actor=f.risk(), reason="court order")
    with pytest.raises(MemberFrozen):
        refund(payment, "10.00")
    member_unfreeze(member=seller, actor=f.risk(), reason="lifted")
    member_freeze(member=buyer, actor=f.risk(), reason="suspected fraud")
    refund(payment, "10.00")
    assert available(buyer) == D("910.00")
    assert prove_merchant(merchant).ok


# --- refusals and idempotency ------------------------------------------------------------

def test_over_refunds_are_refused(shop):
    merchant, buyer, _seller, _other = shop
    payment = pay(shop, mode="direct")
    refund(payment, "60.00")
    with pytest.raises(ValidationFailed, match="Over-refund") as error:
        refund(payment, "40.01", ref="R2")
    assert "amount" in error.value.details
    refund(payment, "40.00", ref="R3")
    with pytest.raises(InvalidState, match="Over-refund"):
        refund(payment, "0.01", ref="R4")
    assert available(buyer) == D("1000.00")
    assert prove_merchant(merchant).ok


def test_the_same_reference_twice_returns_the_first_refund(shop):
    merchant, buyer, _seller, _other = shop
    payment = pay(shop, mode="guaranteed")
    first = refund(payment, "10.00", ref="api:key-1")
    again = refund(payment, "10.00", ref="api:key-1")
    assert again.pk == first.pk and available(buyer) == D("910.00")
    with pytest.raises(IdempotencyConflict):  # the same reference for another refund
        refund(payment, "11.00", ref="api:key-1")
    with pytest.raises(IdempotencyConflict):
        refund(pay(shop, mode="direct", order_no="ORD-2"), "10.00", ref="api:key-1")
    assert Refund.objects.filter(merchant=merchant).count() == 1


@pytest.mark.parametrize("kwargs, error", [
    ({"amount": "0"}, InvalidAmount),
    ({"amount": "-1.00"}, InvalidAmount),
    ({"reason": " "}, ValidationFailed),
    ({"ref": ""}, ValidationFailed),
    ({"ref": "x" * 121}, ValidationFailed),
])
def test_malformed_refunds_are_refused(shop, kwargs, error):
    payment = pay(shop, mode="direct")
    args = {"amount": "1.00", "ref": "R", "reason": "why"}
    args.update(kwargs)
    with pytest.raises(error):
        refund(payment, args["amount"], ref=args["ref"], reason=args["reason"])
    assert not Refund.objects.exists()


def test_a_frozen_merchant_refunds_nothing(shop):
    merchant, _buyer, _seller, _other = shop
    payment = pay(shop, mode="guaranteed")
    merchant_freeze(merchant=merchant, actor=f.risk(), reason="investigation")
    with pytest.raises(MerchantFrozen):
        refund(payment, "1.00")
    assert not Refund.objects.exists()


def test_a_staff_refund_is_audited_with_its_reason(shop):
    payment = pay(shop, mode="direct")
    ops = f.ops()
    r = refund(payment, "5.00", actor=ops, reason="customer complaint #42")
    event = AuditEvent.objects.get(object_id=str(payment.pk), action="refund")
    assert event.actor_id == ops.pk and event.reason == "customer complaint #42"
    assert event.data["refund"] == r.pk and event.data["amount"] == "5.00"
    assert r.entry.actor_user_id == ops.pk
