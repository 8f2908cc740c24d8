"""Staged releases over the API: `POST /payments/{id}/release` with no body (everything held, the
black-box contract), `{"amount"}` (pro rata) and `{"splits"}` (per payee); the refusals; the
new output fields; one request books once; the schema describes the body."""
from decimal import Decimal

import pytest
import yaml
from django.test import Client

from jianguan_client import JianguanError
from ledger.models import PaymentRelease
from ledger.selectors import account_balances, prove_merchant

from .conftest import add_member, fund

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def shop(platform):
    for user_id in ("buyer", "seller", "seller-2"):
        add_member(platform, user_id)
    fund(platform, "buyer", "1000.00")
    return platform


def held(shop, order_no="G-1"):
    return shop.client.create_payment(
        payer_user_id="buyer", amount="100.00", order_no=order_no, mode="guaranteed", platform_fee="10.00",
        splits=[{"user_id": "seller", "amount": "70.00"}, {"user_id": "seller-2", "amount": "20.00"}])


def balance(shop, user_id):
    return D(shop.client.get_balance(user_id)["available"])


def refused(call):
    with pytest.raises(JianguanError) as err:
        call()
    return err.value.status, err.value.code


def test_a_held_payment_is_released_in_parts_then_in_full(shop):
    # given 100.00 held (70 / 20 / fee 10): nothing released, everything refundable
    payment = held(shop)
    assert (payment["released_amount"], payment["held_amount"], payment["refundable_amount"]) == (
        "0.00", "100.00", "100.00")
    # when 30.00 is released
    part = shop.client.release_payment(payment["id"], amount="30.00", reason="first lot delivered")
    # then the payees got their pro rata shares and the payment says what is left
    assert part["status"] == "partially_released"
    assert (part["released_amount"], part["held_amount"]) == ("30.00", "70.00")
    assert [(s["user_id"], s["released_amount"], s["held_amount"]) for s in part["splits"]] == [
        ("seller", "21.00", "49.00"), ("seller-2", "6.00", "14.00")]
    assert (balance(shop, "seller"), balance(shop, "seller-2")) == (D("21.00"), D("6.00"))
    # when the second seller's remaining 14.00 is released per payee, then the rest with no body
    part = shop.client.release_payment(payment["id"], splits=[{"user_id": "seller-2", "amount": "14.00"}])
    assert part["status"] == "partially_released" and part["splits"][1]["held_amount"] == "0.00"
    done = shop.client.release_payment(payment["id"])
    # then everything is released and nothing is held
    assert (done["status"], done["released_amount"], done["held_amount"]) == ("released", "100.00", "0.00")
    assert (balance(shop, "seller"), balance(shop, "seller-2")) == (D("70.00"), D("20.00"))
    assert account_balances(shop.merchant)["fee_income"] == D("10.00")
    assert PaymentRelease.objects.filter(payment_id=payment["id"]).count() == 3
    assert shop.client.get_payment(payment["id"]) == done
    assert prove_merchant(shop.merchant).ok


def test_the_refusals(shop):
    payment = held(shop)
    shop.client.release_payment(payment["id"], amount="60.00")
    # more than is held, in all or for one payee
    assert refused(lambda: shop.client.release_payment(payment["id"], amount="40.01")) == (400, "invalid_request")
    assert refused(lambda: shop.client.release_payment(
        payment["id"], splits=[{"user_id": "seller", "amount": "28.01"}])) == (400, "invalid_request")
    # an amount and splits together; an empty list; a bad amount; a member who is no payee; nobody at all
    assert refused(lambda: shop.client.release_payment(
        payment["id"], amount="1.00", splits=[{"user_id": "seller", "amount": "1.00"}]))[0] == 400
    assert refused(lambda: shop.client.release_payment(payment["id"], splits=[]))[0] == 400
    assert refused(lambda: shop.client.release_payment(payment["id"], amount="-1.00"))[0] == 400
    assert refused(lambda: shop.client.release_payment(
        payment["id"], splits=[{"user_id": "buyer", "amount": "1.00"}])) == (400, "invalid_request")
    assert refused(lambda: shop.client.release_payment(
        payment["id"], splits=[{"user_id": "nobody", "amount": "1.00"}]))[0] in (400, 404)
    assert shop.client.get_payment(payment["id"])["held_amount"] == "40.00"
    # a payment released or refunded in full, or a direct one: 409 invalid_state
    shop.client.release_payment(payment["id"])
    assert refused(lambda: shop.client.release_payment(payment["id"], amount="1.00")) == (409, "invalid_state")
    other = held(shop, "G-2")
    shop.client.refund_payment(other["id"], amount="100.00", reason="cancelled")
    assert refused(lambda: shop.client.release_payment(other["id"])) == (409, "invalid_state")
    direct = shop.client.create_payment(payer_user_id="buyer", payee_user_id="seller", amount="5.00",
                                        order_no="D-1", mode="direct")
    assert refused(lambda: shop.client.release_payment(direct["id"], amount="1.00")) == (409, "invalid_state")
    assert (direct["released_amount"], direct["held_amount"]) == ("0.00", "0.00")
    assert direct["splits"][0]["held_amount"] == "0.00"
    assert prove_merchant(shop.merchant).ok


def test_one_request_books_once(shop):
    # given a part released under an idempotency key
    payment = held(shop)
    first = shop.client.release_payment(payment["id"], amount="10.00", idempotency_key="rel-1")
    # when the same request is sent again, then it answers as the first time and books nothing more
    again = shop.client.release_payment(payment["id"], amount="10.00", idempotency_key="rel-1")
    assert again == first and PaymentRelease.objects.filter(payment_id=payment["id"]).count() == 1
    assert balance(shop, "seller") == D("7.00")


def test_a_refund_of_a_partially_released_payment_takes_what_is_held_first(shop):
    payment = held(shop)
    shop.client.release_payment(payment["id"], amount="60.00")
    refund = shop.client.refund_payment(payment["id"], amount="50.00", reason="half returned")
    # 40.00 from escrow, 10.00 from the payees and fee pro rata: escrow empty, so released
    assert refund["payment"]["status"] == "released"
    assert (refund["payment"]["held_amount"], refund["payment"]["released_amount"],
            refund["payment"]["refundable_amount"]) == ("0.00", "50.00", "50.00")
    assert (balance(shop, "seller"), balance(shop, "seller-2"), balance(shop, "buyer")) == (
        D("35.00"), D("10.00"), D("950.00"))
    assert prove_merchant(shop.merchant).ok


def test_the_schema_describes_the_release_body_and_the_new_fields():
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    release = schema["paths"]["/api/v1/payments/{id}/release"]["post"]
    body = release["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"amount", "splits", "reason"}
    assert not release["requestBody"].get("required")
    assert {"400", "409"} <= set(release["responses"])
    output = schema["components"]["schemas"]["PaymentOutput"]["properties"]
    assert {"released_amount", "held_amount", "refundable_amount"} <= set(output)
    split = schema["components"]["schemas"]["SplitOutput"]["properties"]
    assert {"released_amount", "held_amount"} <= set(split)
    assert "partially_released" in str(schema["components"]["schemas"])
