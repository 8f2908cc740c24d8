"""The platform API: POST /api/v1/reconciliation/order-files (JSON or CSV) and
GET /api/v1/reconciliation/runs/{business_date}, signed like every request (API.md)."""
import datetime

import pytest
from django.core.cache import cache

from reconciliation.models import OrderFile, OrderFileLine
from reconciliation.services.eod import eod_run
from tests.api.conftest import RawApi, error_of, make_platform

pytestmark = pytest.mark.django_db
FILES = "/api/v1/reconciliation/order-files"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def platform(db):
    return make_platform()


@pytest.fixture
def api():
    return RawApi()


def test_a_json_order_file_is_accepted(api, platform):
    body = {"business_date": "2026-11-24", "orders": [
        {"order_no": "P-1", "type": "payment", "amount": "300.00", "payer_user_id": "b", "payee_user_id": "s"},
        {"order_no": "D-1", "type": "deposit", "amount": "1000.00", "payee_user_id": "b"},
    ]}
    response = api.as_platform(platform, "POST", FILES, body=body)
    assert response.status_code == 202, response.content
    data = response.json()
    assert {"id", "status"} <= set(data) and data["status"] == "received" and data["orders"] == 2
    order_file = OrderFile.objects.get(pk=data["id"])
    assert order_file.merchant == platform.merchant and order_file.total_amount == 1300


def test_a_csv_order_file_as_the_body(api, platform):
    raw = b"order_no,type,amount,payer_user_id,payee_user_id\r\nP-1,payment,300.00,b,s\r\n"
    response = api.as_platform(platform, "POST", FILES + "?business_date=2026-11-24", raw=raw,
                               content_type="text/csv")
    assert response.status_code == 202, response.content
    assert OrderFileLine.objects.get().order_no == "P-1"


def test_bad_orders_are_refused_whole_with_every_problem(api, platform):
    body = {"business_date": "2026-11-24", "orders": [
        {"order_no": "P-1", "type": "payment", "amount": 300},
        {"order_no": "P-2", "type": "gift", "amount": "1.00"},
    ]}
    response = api.as_platform(platform, "POST", FILES, body=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_amount" and len(error["details"]["orders"]) == 2
    assert OrderFile.objects.count() == 0


def test_a_missing_business_date_is_a_bad_request(api, platform):
    response = api.as_platform(platform, "POST", FILES, body={"orders": []})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"


def test_an_unsigned_request_is_refused(api, platform):
    response = api.as_platform(platform, "POST", FILES, body={"business_date": "2026-11-24", "orders": []},
                               headers={"X-Signature": "0" * 64})
    assert response.status_code == 401


def test_the_run_of_a_day_pending_then_its_result(api, platform):
    response = api.as_platform(platform, "GET", "/api/v1/reconciliation/runs/2026-11-24")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    api.as_platform(platform, "POST", FILES, body={"business_date": "2026-11-24", "orders": [
        {"order_no": "P-9", "type": "payment", "amount": "5.00"}]})
    eod_run(merchant=platform.merchant, business_date=datetime.date(2026, 11, 24), actor=None)
    data = api.as_platform(platform, "GET", "/api/v1/reconciliation/runs/2026-11-24").json()
    assert data == {"status": "discrepancies", "matched": 0, "missing_in_ledger": 1, "missing_in_orders": 0,
                    "amount_mismatches": 0, "party_mismatches": 0, "supervision_balance": "0.00",
                    "virtual_total": "0.00"}
    # another platform never sees this merchant's run
    other = make_platform()
    assert api.as_platform(other, "GET", "/api/v1/reconciliation/runs/2026-11-24").json()["status"] == "pending"
    assert api.as_platform(platform, "GET", "/api/v1/reconciliation/runs/24-11-2026").status_code == 400
