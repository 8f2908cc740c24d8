"""Payments (direct, guaranteed, splits), release, refunds and withdrawals over the API."""
from decimal import Decimal

import pytest

from jianguan_client import JianguanError
from ledger.selectors import account_balances, prove_merchant
from merchants.models import Member
from merchants.services.members import member_freeze
from tests import factories as f

from .conftest import add_member, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(platform):
    for user_id in ("buyer", "seller", "seller-2"):
        add_member(platform, user_id)
    fund(platform, "buyer", "1000.00")
    return platform


def balance(platform, user_id):
    return Decimal(platform.client.get_balance(user_id)["available"])


def refused(call):
    with pytest.raises(JianguanError) as err:
        call()
    return err.value.status, err.value.code


def test_a_direct_payment_settles_at_once(shop):
    payment = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="100.00",
                                         order_no="P-1", mode="direct", platform_fee="3.00", description="tea")
    assert payment["status"] == "settled"
    assert payment["splits"] == [{"user_id": "seller", "amount": "97.00", "refunded_amount": "0.00",
                                  "released_amount": "0.00", "held_amount": "0.00"}]
    assert (balance(shop, "buyer"), balance(shop, "seller")) == (Decimal("900.00"), Decimal("97.00"))
    assert account_balances(shop.merchant)["fee_income"] == Decimal("3.00")
    assert shop.client.get_payment(payment["id"]) == payment
    assert shop.client.find_payments(order_no="P-1")["results"] == [payment]
    assert shop.client.find_payments(order_no="nope")["results"] == []


def test_a_guaranteed_split_payment_is_held_then_released(shop):
    payment = shop.client.create_payment(
        payer_user_id="buyer", amount="100.00", order_no="P-2", mode="guaranteed", platform_fee="1.00",
        splits=[{"user_id": "seller", "amount": "60.00"}, {"user_id": "seller-2", "amount": "39.00"}])
    assert payment["status"] == "held"
    assert balance(shop, "seller") == 0
    released = shop.client.release_payment(payment["id"])
    assert released["status"] == "released"
    assert (balance(shop, "seller"), balance(shop, "seller-2")) == (Decimal("60.00"), Decimal("39.00"))
    assert refused(lambda: shop.client.release_payment(payment["id"])) == (409, "invalid_state")
    assert prove_merchant(shop.merchant).ok


def test_refunds_are_partial_until_all_is_back(shop):
    payment = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="50.00",
                                         order_no="P-3", mode="guaranteed")
    refund = shop.client.refund_payment(payment["id"], amount="20.00", reason="one item missing")
    assert refund["amount"] == "20.00" and refund["payment"]["status"] == "held"
    assert refund["payment"]["refunded_amount"] == "20.00"
    assert refused(lambda: shop.client.refund_payment(payment["id"], amount="31.00", reason="x"))[0] == 400
    last = shop.client.refund_payment(payment["id"], amount="30.00", reason="cancelled")
    assert last["payment"]["status"] == "refunded"
    assert balance(shop, "buyer") == Decimal("1000.00")
    assert refused(lambda: shop.client.refund_payment(payment["id"], amount="1.00", reason="x")) \
        == (409, "invalid_state")


def test_a_refund_after_release_needs_the_payee_to_have_the_money(shop):
    payment = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="50.00",
                                         order_no="P-4", mode="direct")
    add_member(shop, "elsewhere")
    shop.client.create_payment(payer_user_id="seller", payee_user_id="elsewhere", amount="45.00",
                               order_no="P-5", mode="direct")
    assert refused(lambda: shop.client.refund_payment(payment["id"], amount="50.00", reason="x")) \
        == (422, "insufficient_funds")


def test_payment_refusals(shop):
    def pay(**kw):
        body = dict(payer_user_id="buyer", payee_user_id="seller", amount="10.00", order_no="P-x", mode="direct")
        body.update(kw)
        return lambda: shop.client.create_payment(**body)

    assert refused(pay(amount="5000.00")) == (422, "insufficient_funds")
    assert refused(pay(payer_user_id="ghost")) == (404, "not_found")
    assert refused(pay(mode="later")) == (400, "invalid_request")
    assert refused(pay(payee_user_id=None, splits=[{"user_id": "seller", "amount": "9.00"}])) \
        == (400, "invalid_request")
    assert refused(pay(platform_fee="10.00")) == (400, "invalid_request")
    assert refused(pay(payee_user_id=None)) == (400, "invalid_request")
    assert refused(pay(splits=[{"user_id": "seller", "amount": "10.00"}])) == (400, "invalid_request")
    # the same order twice: the same content replays (200), other content is a duplicate
    first = pay(order_no="P-dup")()
    again = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="10.00",
                                       order_no="P-dup", mode="direct")
    assert again["id"] == first["id"] and shop.client.last_response.status_code == 200
    assert refused(pay(order_no="P-dup", amount="11.00")) == (409, "duplicate_order")
    assert balance(shop, "buyer") == Decimal("990.00")


def test_a_frozen_payer_pays_nothing(shop):
    buyer = Member.objects.get(merchant=shop.merchant, user_id="buyer")
    member_freeze(member=buyer, actor=f.risk(), reason="fraud check")
    assert refused(lambda: shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller",
                                                      amount="1.00", order_no="P-f", mode="direct")) \
        == (403, "member_frozen")


def test_another_merchants_payments_are_not_found(shop, other_platform):
    payment = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="1.00",
                                         order_no="P-t", mode="guaranteed")
    for call in (lambda: other_platform.client.get_payment(payment["id"]),
                 lambda: other_platform.client.release_payment(payment["id"]),
                 lambda: other_platform.client.refund_payment(payment["id"], amount="1.00", reason="x")):
        assert refused(call) == (404, "not_found")
    assert other_platform.client.find_payments(order_no="P-t")["results"] == []


# --- withdrawals -----------------------------------------------------------------------------

def test_a_withdrawal_freezes_the_amount_and_waits_for_approval_above_the_threshold(shop):
    card = shop.client.add_bank_card("seller", account_number="6222020200112233445",
                                     account_name="Member seller", bank_name="ICBC")
    fund(shop, "seller", "80000.00")
    small = shop.client.create_withdrawal(user_id="seller", amount="100.00", bank_card_id=card["id"],
                                          order_no="W-1")
    assert small["status"] == "approved" and small["value_date"]
    big = shop.client.create_withdrawal(user_id="seller", amount="60000.00", bank_card_id=card["id"],
                                        order_no="W-2")
    assert big["status"] == "pending_approval"
    assert shop.client.get_balance("seller")["frozen"] == "60100.00"
    assert shop.client.get_withdrawal(big["id"]) == big


def test_withdrawal_refusals(shop, other_platform):
    # a card in another name is not verified: no withdrawal to it
    card = shop.client.add_bank_card("buyer", account_number="6222020200112233445", account_name="Someone Else",
                                     bank_name="ICBC")
    assert card["verified"] is False
    assert refused(lambda: shop.client.create_withdrawal(user_id="buyer", amount="1.00", bank_card_id=card["id"],
                                                         order_no="W-3")) == (422, "card_not_verified")
    seller_card = shop.client.add_bank_card("seller", account_number="6222020200112233446",
                                            account_name="Member seller", bank_name="ICBC")
    assert refused(lambda: shop.client.create_withdrawal(user_id="seller", amount="1.00",
                                                         bank_card_id=seller_card["id"], order_no="W-4")) \
        == (422, "insufficient_funds")
    assert refused(lambda: shop.client.create_withdrawal(user_id="buyer", amount="1.00",
                                                         bank_card_id=seller_card["id"], order_no="W-5")) \
        == (404, "not_found")
    assert refused(lambda: other_platform.client.get_withdrawal(1)) == (404, "not_found")
