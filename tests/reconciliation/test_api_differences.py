"""GET /api/v1/reconciliation/runs/{business_date}/differences: the day's differing orders, by
category, cursor-paginated, through the raw contract and the Python client."""
import datetime

import pytest

from jianguan_client import JianguanError
from reconciliation.services.eod import eod_run
from reconciliation.services.orders import order_file_create
from tests import factories as f
from tests.api.conftest import RawApi, error_of, make_platform

from .builders import funded, payment

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 24)
DIFFERENCES = "/api/v1/reconciliation/runs/2026-11-24/differences"


@pytest.fixture
def api():
    return RawApi()


@pytest.fixture
def day(db):
    """A run of a day with one difference of each order category."""
    platform = make_platform()
    merchant = platform.merchant
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    f.member(merchant, user_id="other")
    funded(merchant, buyer, "1000.00")  # on another business date than DAY
    for order_no, amount in (("P-1", "300.00"), ("P-2", "200.00"), ("P-3", "50.00"), ("P-5", "10.00")):
        payment(merchant, buyer, seller, amount, order_no, DAY)
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[
        {"order_no": "P-1", "type": "payment", "amount": "300.00", "payer_user_id": "buyer", "payee_user_id": "seller"},
        {"order_no": "P-2", "type": "payment", "amount": "250.00", "payer_user_id": "buyer", "payee_user_id": "seller"},
        {"order_no": "P-4", "type": "payment", "amount": "70.00", "payer_user_id": "buyer", "payee_user_id": "seller"},
        {"order_no": "P-5", "type": "payment", "amount": "10.00", "payer_user_id": "buyer", "payee_user_id": "other"},
    ])  # P-3 is booked but not in the file
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    return platform


def test_every_differing_order_with_both_sides_amounts(api, day):
    # when the platform asks for the day's differences
    response = api.as_platform(day, "GET", DIFFERENCES)
    # then each differing order comes with its category and both amounts (null where a side has none)
    assert response.status_code == 200, response.content
    page = response.json()
    assert page["next"] is None
    rows = {r["order_no"]: r for r in page["results"]}
    assert {n: (r["type"], r["category"], r["platform_amount"], r["ledger_amount"]) for n, r in rows.items()} == {
        "P-2": ("payment", "amount_mismatch", "250.00", "200.00"),
        "P-3": ("payment", "missing_in_orders", None, "50.00"),
        "P-4": ("payment", "missing_in_ledger", "70.00", None),
        "P-5": ("payment", "party_mismatch", "10.00", "10.00"),
    }
    # and a party mismatch says who each side names; the other categories carry no parties
    assert rows["P-5"]["parties"] == {"platform": {"payer_user_id": "buyer", "payee_user_id": "other"},
                                      "ledger": {"payer_user_id": "buyer", "payee_user_id": "seller"}}
    assert all(rows[n]["parties"] is None for n in ("P-2", "P-3", "P-4"))


def test_one_category(api, day):
    response = api.as_platform(day, "GET", DIFFERENCES + "?category=party_mismatch")
    assert [(r["order_no"], r["category"]) for r in response.json()["results"]] == [("P-5", "party_mismatch")]
    assert api.as_platform(day, "GET", DIFFERENCES + "?category=missing_in_ledger").json()["results"][0][
        "order_no"] == "P-4"


def test_the_client_follows_the_cursors_one_page_at_a_time(day):
    # when the client iterates with pages of one
    first = day.client.list_reconciliation_differences(DAY, limit=1)
    everything = list(day.client.iter_reconciliation_differences(DAY, limit=1))
    # then it gets every difference once, newest first, and the first page points at the next
    assert len(first["results"]) == 1 and first["next"]
    assert everything[0] == first["results"][0]
    assert sorted(r["order_no"] for r in everything) == ["P-2", "P-3", "P-4", "P-5"]
    assert [r["category"] for r in day.client.iter_reconciliation_differences(
        DAY, category="amount_mismatch")] == ["amount_mismatch"]


def test_an_unknown_category_or_date_is_a_bad_request(api, day):
    for path in (DIFFERENCES + "?category=bank_balance_mismatch", DIFFERENCES + "?category=nonsense",
                 DIFFERENCES + "?cursor=not-a-cursor", "/api/v1/reconciliation/runs/24-11-2026/differences"):
        response = api.as_platform(day, "GET", path)
        assert response.status_code == 400, path
        assert error_of(response)["code"] == "invalid_request"


def test_a_day_not_run_is_not_found_and_another_platform_sees_none_of_it(api, day):
    response = api.as_platform(day, "GET", "/api/v1/reconciliation/runs/2026-11-25/differences")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    other = make_platform()
    assert api.as_platform(other, "GET", DIFFERENCES).status_code == 404
    with pytest.raises(JianguanError) as raised:
        other.client.list_reconciliation_differences(DAY)
    assert raised.value.status == 404


def test_the_run_counts_party_mismatches(api, day):
    data = api.as_platform(day, "GET", "/api/v1/reconciliation/runs/2026-11-24").json()
    assert (data["matched"], data["missing_in_ledger"], data["missing_in_orders"], data["amount_mismatches"],
            data["party_mismatches"]) == (1, 1, 1, 1, 1)


def test_the_schema_describes_the_differences_and_their_categories():
    import yaml
    from django.test import Client

    schema = yaml.safe_load(Client().get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/reconciliation/runs/{business_date}/differences"]["get"]
    category = next(p for p in operation["parameters"] if p["name"] == "category")
    assert category["schema"]["enum"] == ["missing_in_ledger", "missing_in_orders", "amount_mismatch",
                                          "party_mismatch"]
    assert {"200", "400", "404"} <= set(operation["responses"])
    assert {"party_mismatches"} <= set(schema["components"]["schemas"]["RunOutput"]["properties"])
