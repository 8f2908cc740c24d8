"""POST /api/v1/payments/batch: many payments under one Idempotency-Key, in one transaction;
items fail independently unless the batch is atomic."""
import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api.parsers import max_bytes
from jianguan_client import JianguanError
from ledger.models import JournalEntry, Payment
from ledger.selectors import prove_merchant
from merchants.models import Member
from merchants.services.members import member_freeze
from tests import factories as f

from .conftest import add_member, error_of, fund
from .strategies import books

pytestmark = pytest.mark.django_db
D = Decimal
PATH = "/api/v1/payments/batch"


@pytest.fixture
def shop(platform):
    for user_id in ("buyer", "buyer-2", "seller", "seller-2"):
        add_member(platform, user_id)
    fund(platform, "buyer", "1000.00")
    fund(platform, "buyer-2", "50.00")
    return platform


def balance(platform, user_id) -> Decimal:
    return D(platform.client.get_balance(user_id)["available"])


def pay(order_no, amount="1.00", payer="buyer", payee="seller", **extra):
    return {"payer_user_id": payer, "payee_user_id": payee, "amount": amount, "order_no": order_no,
            "mode": "direct", **extra}


def test_a_batch_of_a_hundred_books_every_payment_in_order(shop):
    # given a buyer with 1000.00 and a hundred payments of 1.00 to two sellers, a fee on some
    items = [pay(f"B-{i}", "1.00", payee="seller" if i % 2 else "seller-2",
                 platform_fee="0.10" if i % 10 == 0 else None) for i in range(100)]
    # when they are sent as one batch
    answer = shop.client.create_payments_batch(items)
    # then every item is booked, in order, with the payment a single request would have answered
    assert shop.client.last_response.status_code == 200
    assert (answer["atomic"], answer["booked"], answer["replayed"], answer["failed"]) == (False, 100, 0, 0)
    assert [r["index"] for r in answer["results"]] == list(range(100))
    assert all(r["status"] == 201 and r["error"] is None for r in answer["results"])
    assert [r["payment"]["order_no"] for r in answer["results"]] == [f"B-{i}" for i in range(100)]
    first = answer["results"][0]["payment"]
    assert first["status"] == "settled" and first["platform_fee"] == "0.10"
    assert first == shop.client.get_payment(first["id"])
    assert balance(shop, "buyer") == D("900.00")
    assert balance(shop, "seller") + balance(shop, "seller-2") == D("99.00")
    assert Payment.objects.filter(merchant=shop.merchant).count() == 100
    assert prove_merchant(shop.merchant).ok


def test_items_fail_independently(shop):
    # given a frozen payer, an order already used, a body error and an overdraft among good items
    shop.client.create_payment(**pay("USED", "2.00"))
    frozen = add_member(shop, "frozen")
    fund(shop, "frozen", "10.00")
    member_freeze(member=Member.objects.get(merchant=shop.merchant, user_id=frozen["user_id"]),
                                    actor=f.risk(), reason="fraud check")
    items = [
        pay("OK-0"),
        pay("OK-1", "60.00", payer="buyer-2"),  # buyer-2 has 50.00
        pay("USED", "3.00"),  # a different payment under a used order number
        pay("USED", "2.00"),  # the same payment again: a replay
        pay("OK-4", "1.5"),
        pay("OK-5", "1.005"),  # three decimals
        pay("OK-6", payer="frozen"),
        pay("OK-7", payer="nobody"),
        {"payer_user_id": "buyer", "amount": "1.00", "order_no": "OK-8", "mode": "direct"},  # no payee
        pay("OK-9", "50.00", payer="buyer-2"),  # all of buyer-2's money: books, OK-1 booked nothing
        pay("OK-0"),  # the batch's own first item again: a replay
        pay("OK-0", "9.00"),  # and again with other content: duplicate order
    ]
    answer = shop.client.create_payments_batch(items)
    statuses = [(r["status"], r["error"]["code"] if r["error"] else None) for r in answer["results"]]
    assert statuses == [
        (201, None), (422, "insufficient_funds"), (409, "duplicate_order"), (200, None), (201, None),
        (400, "invalid_amount"), (403, "member_frozen"), (404, "not_found"), (400, "invalid_request"),
        (201, None), (200, None), (409, "duplicate_order")]
    assert (answer["booked"], answer["replayed"], answer["failed"]) == (3, 2, 7)
    assert answer["results"][5]["error"]["details"] == {"amount": [answer["results"][5]["error"]["details"]
                                                                   ["amount"][0]]}
    assert "payer_user_id" in answer["results"][7]["error"]["details"]
    assert answer["results"][10]["payment"] == answer["results"][0]["payment"]
    assert answer["results"][3]["payment"]["order_no"] == "USED"
    assert balance(shop, "buyer-2") == 0 and balance(shop, "frozen") == D("10.00")
    assert balance(shop, "buyer") == D("1000.00") - D("2.00") - D("1.00") - D("1.50")
    assert set(Payment.objects.filter(merchant=shop.merchant).values_list("order_no", flat=True)) == {
        "USED", "OK-0", "OK-4", "OK-9"}
    assert prove_merchant(shop.merchant).ok


def test_an_atomic_batch_books_all_or_nothing(shop, raw_api):
    # given an atomic batch whose third item overdraws
    items = [pay("A-0"), pay("A-1", "10.00", payer="buyer-2"), pay("A-2", "45.00", payer="buyer-2")]
    before = books()
    # when it is sent
    response = raw_api.as_platform(shop, "POST", PATH, body={"payments": items, "atomic": True})
    # then the refused item's status and code answer for the batch, naming the item, and nothing is written
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "insufficient_funds" and error["details"]["index"] == 2
    assert "2" in error["message"]
    assert books() == before
    # an invalid item is refused before anything runs, with its field under payments.<index>
    response = raw_api.as_platform(shop, "POST", PATH, body={"payments": [pay("A-0"), pay("A-1", "1e2")],
                                                              "atomic": True})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_amount" and error["details"]["index"] == 1
    assert "payments.1.amount" in error["details"]
    assert books() == before
    # and without the overdraft the same batch books every item: 201
    answer = shop.client.create_payments_batch(items[:2] + [pay("A-2", "40.00", payer="buyer-2")], atomic=True)
    assert shop.client.last_response.status_code == 201
    assert (answer["atomic"], answer["booked"], answer["failed"]) == (True, 3, 0)
    assert balance(shop, "buyer-2") == 0
    # the client raises for a refused atomic batch
    with pytest.raises(JianguanError) as err:
        shop.client.create_payments_batch([pay("A-3", payer="buyer-2")], atomic=True)
    assert (err.value.status, err.value.code, err.value.details["index"]) == (422, "insufficient_funds", 0)


def test_the_same_key_replays_the_same_answer_and_books_once(shop, raw_api):
    items = [pay("R-0"), pay("R-1", "99999.00")]
    key = str(uuid.uuid4())
    first = raw_api.as_platform(shop, "POST", PATH, body={"payments": items}, idempotency_key=key)
    entries = JournalEntry.objects.filter(merchant=shop.merchant).count()
    again = raw_api.as_platform(shop, "POST", PATH, body={"payments": items}, idempotency_key=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert JournalEntry.objects.filter(merchant=shop.merchant).count() == entries
    # the same key with another batch is a conflict
    other = raw_api.as_platform(shop, "POST", PATH, body={"payments": items[:1]}, idempotency_key=key)
    assert other.status_code == 409 and error_of(other)["code"] == "idempotency_conflict"
    # without a key: refused
    missing = raw_api.as_platform(shop, "POST", PATH, body={"payments": items}, idempotency_key=None)
    assert missing.status_code == 400


@pytest.mark.parametrize("body", [
    {"payments": []},
    {"payments": [pay(f"L-{i}") for i in range(1001)]},
    [pay("L-0")],
    {"payments": pay("L-0")},
    {"payments": [pay("L-0"), "L-1"]},
    {"payments": [pay("L-0")], "atomic": "true"},
    {},
], ids=["empty", "1001 items", "a list body", "an object for the list", "an item not an object",
        "atomic not a boolean", "no payments"])
def test_a_body_that_is_not_a_list_of_1_to_1000_payments_is_refused_whole(shop, raw_api, body):
    before = books()
    response = raw_api.as_platform(shop, "POST", PATH, body=body)
    assert response.status_code == 400, response.content[:300]
    assert error_of(response)["code"] == "invalid_request"
    assert books() == before


def test_a_batch_of_1000_fits_the_body_limit_and_is_answered_item_by_item(shop, raw_api):
    # 1,000 payments of realistic size (long order numbers, a description) fit well under the limit
    items = [pay(f"ORDER-2026-12-03-{i:012d}", "1234567.89", payer=f"no-such-member-{i:06d}",
                 payee=f"seller-with-a-long-id-{i:06d}", platform_fee="0.01", description="x" * 40)
             for i in range(1000)]
    raw = json.dumps({"payments": items}).encode()
    assert len(raw) < max_bytes() / 5, len(raw)
    response = raw_api.as_platform(shop, "POST", PATH, raw=raw)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1000 and {r["error"]["code"] for r in results} == {"not_found"}


@pytest.mark.postgres
def test_a_batch_takes_the_same_few_queries_whatever_its_size(shop, raw_api):
    """On PostgreSQL a batch is booked set-based: its statements do not grow with its items."""
    # given the queries of one single signed payment
    with CaptureQueriesContext(connection) as single:
        assert raw_api.as_platform(shop, "POST", "/api/v1/payments", body=pay("Q-single")).status_code == 201
    # when a batch of 10 and one of 100 payments (a fee and a guaranteed one among them) are sent
    counts = []
    for n in (10, 100):
        items = [pay(f"Q-{n}-{i}", platform_fee="0.10") for i in range(n - 1)]
        items.append({**pay(f"Q-{n}-g"), "mode": "guaranteed"})
        with CaptureQueriesContext(connection) as batch:
            response = raw_api.as_platform(shop, "POST", PATH, body={"payments": items})
            assert response.status_code == 200 and response.json()["booked"] == n
        counts.append(len(batch))
    # then both take the same number of statements: a few more than one single payment (booked by the
    # database's booking function in one call), a few dozen at most
    assert counts[0] == counts[1], counts
    assert counts[1] <= max(len(single) + 20, 30), (counts, len(single))
