"""No 500 for any JSON body: hypothesis throws arbitrary JSON (and near-miss bodies built from
the real field names) at every POST endpoint, signed and with a fresh Idempotency-Key."""
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import add_member, error_of, fund

pytestmark = pytest.mark.django_db

FIELDS = ["user_id", "name", "kind", "id_number", "phone", "roles", "amount", "order_no", "method", "channel",
          "payer_user_id", "payee_user_id", "splits", "platform_fee", "description", "mode", "reason",
          "bank_card_id", "account_number", "account_name", "bank_name", "transaction_id", "payment_code",
          "deposit_id", "business_date", "orders", "currency"]
GOOD_VALUES = ["u-1", "u-2", "10.00", "0.01", "individual", "business", "direct", "guaranteed",
               "offline_transfer", "channel", "buyer", ["buyer", "seller"], 1, "Li Lei", "6222020200112233445",
               [{"user_id": "u-2", "amount": "10.00"}], "2024-01-01"]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=80)
           | st.sampled_from(["1e3", "NaN", "-1.00", "0", "1.001", "999999999999999.99", "\u0000", " ", "0.37"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
near_miss = st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(GOOD_VALUES) | json_values, max_size=10)
bodies = near_miss | json_values

POST_PATHS = ["/api/v1/members", "/api/v1/members/u-1/bank-cards", "/api/v1/members/u-1/bank-cards/1/verify",
              "/api/v1/deposits", "/api/v1/payments", "/api/v1/payments/1/release", "/api/v1/payments/1/refunds",
              "/api/v1/withdrawals", "/api/v1/credit/drawdowns", "/api/v1/credit/bills/1/repayments",
              "/api/v1/reconciliation/order-files"]


@pytest.fixture
def funded(platform):
    add_member(platform, "u-1", name="Li Lei")
    add_member(platform, "u-2")
    fund(platform, "u-1", "1000.00")
    return platform


@pytest.mark.parametrize("path", POST_PATHS)
def test_no_json_body_makes_a_500(funded, raw_api, path):
    @given(body=bodies)
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def post(body):
        response = raw_api.as_platform(funded, "POST", path, raw=json.dumps(body).encode(),
                                       idempotency_key=str(uuid.uuid4()))
        assert response.status_code < 500, (body, response.content)
        if response.status_code >= 400:
            error_of(response)

    post()


@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/payments", "/api/v1/deposits"])
def test_no_byte_string_makes_a_500(funded, raw_api, path):
    @given(raw=st.binary(max_size=200))
    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def post(raw):
        response = raw_api.as_platform(funded, "POST", path, raw=raw, idempotency_key=str(uuid.uuid4()))
        assert response.status_code < 500, (raw, response.content)
        error_of(response)

    post()
