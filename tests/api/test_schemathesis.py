"""Schemathesis against /api/schema/: every operation, generated requests (valid and invalid),
each signed by the real client's SignedAuth and sent through Django's test client. No 500,
no undocumented status, every response matches its schema. Bounded: a few examples per
operation, derandomised, no example database."""
import json

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from jianguan_client import SignedAuth
from ledger.models import PaymentChannel

from .conftest import add_member, fund
from .strategies import books, hostile_amounts, put_at
from .transport import BASE_URL, django_session

pytestmark = pytest.mark.django_db

EXAMPLES = 8
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def seeded(platform):
    """Some real rows so that generated requests also reach the happy paths."""
    add_member(platform, "u-1", name="Li Lei")
    add_member(platform, "u-2")
    fund(platform, "u-1", "100000.00")
    card = platform.client.add_bank_card("u-1", account_number="6222020200112233445", account_name="Li Lei",
                                         bank_name="ICBC")
    deposit = platform.client.create_deposit(user_id="u-1", amount="10.00", order_no="D-seed")
    payment = platform.client.create_payment(payer_user_id="u-1", payee_user_id="u-2", amount="10.00",
                                             order_no="P-seed", mode="guaranteed")
    withdrawal = platform.client.create_withdrawal(user_id="u-1", amount="1.00", bank_card_id=card["id"],
                                                   order_no="W-seed")
    ids = {"/api/v1/deposits/{id}": deposit["id"], "/api/v1/payments/{id}": payment["id"],
           "/api/v1/payments/{id}/release": payment["id"], "/api/v1/payments/{id}/refunds": payment["id"],
           "/api/v1/withdrawals/{id}": withdrawal["id"],
           "/api/v1/members/{user_id}/bank-cards/{id}/verify": card["id"]}
    return platform, ids


def load_schema():
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(json.loads(response.content))


def run_operation(operation, session, *, mode, checks, statuses, path_parameters=None):
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def exercise(case):
        response = case.call(base_url=BASE_URL, session=session)
        statuses.append(response.status_code)
        case.validate_response(response, checks=checks)

    exercise()


def test_schemathesis_finds_no_500_and_no_schema_breaking_answer(seeded):
    platform, ids = seeded
    PaymentChannel.objects.create(code="fastpay", name="FastPay", app_id="fastpay-app", secret="s3cret")
    schema = load_schema()
    session = django_session()
    session.auth = SignedAuth(platform.app_id, platform.secret)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    statuses = []
    for operation in operations:
        known = {}
        if "{user_id}" in operation.path:
            known["user_id"] = "u-1"
        if "{id}" in operation.path and operation.path in ids:
            known["id"] = ids[operation.path]
        # valid requests: anything but a documented answer that fits its schema is a failure
        run_operation(operation, session, mode=GenerationMode.POSITIVE, checks=CONFORMANCE, statuses=statuses)
        if known:
            run_operation(operation, session, mode=GenerationMode.POSITIVE, checks=CONFORMANCE, statuses=statuses,
                          path_parameters=known)
        # invalid requests: never a 500
        run_operation(operation, session, mode=GenerationMode.NEGATIVE, statuses=statuses,
                      checks=[not_a_server_error, content_type_conformance])
    # the signing worked: generated requests reached the views and some succeeded
    assert sum(1 for status in statuses if 200 <= status < 300) >= 30
    assert statuses.count(401) < len(statuses) // 10


def _amount_fields(body, prefix=""):
    """Dotted paths of the amount fields of a generated body (amount, platform_fee, splits.0.amount, …)."""
    out = []
    if isinstance(body, dict):
        for key, value in body.items():
            path = f"{prefix}{key}"
            if key in ("amount", "platform_fee") and not isinstance(value, (dict, list)):
                out.append(path)
            out.extend(_amount_fields(value, f"{path}."))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            out.extend(_amount_fields(value, f"{prefix}{index}."))
    return out


def test_schemathesis_bodies_with_hostile_amounts_are_refused_and_book_nothing(seeded):
    """Schemathesis builds valid bodies for every POST operation; hypothesis puts an amount outside
    the money grammar (other scripts' digits, a sign, whitespace, -0.00) into one of their amount
    fields. Each answers 400 invalid_amount (or 404 for a path id that does not exist, which is
    looked up first), never books, and never answers 5xx."""
    platform, ids = seeded
    PaymentChannel.objects.create(code="fastpay", name="FastPay", app_id="fastpay-app", secret="s3cret")
    schema = load_schema()
    session = django_session()
    session.auth = SignedAuth(platform.app_id, platform.secret)
    refused = []
    for operation in (result.ok() for result in schema.get_all_operations()):
        if operation.method.upper() != "POST" or "channels" in operation.path:
            continue  # channel notifications are signed by the channel: tests/api/test_hostile_input.py
        known = {"user_id": "u-1"} if "{user_id}" in operation.path else {}
        if "{id}" in operation.path and operation.path in ids:
            known["id"] = ids[operation.path]

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known or None),
               amount=hostile_amounts, data=st.data())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def exercise(case, amount, data):
            fields = _amount_fields(case.body) if case.media_type == "application/json" else []
            if not fields:
                return  # no amount, or the order file as CSV / multipart (tests/reconciliation covers those)
            field = data.draw(st.sampled_from(fields))
            if operation.path == "/api/v1/payments/batch":
                # the spoiled item alone, atomic: it refuses the whole batch (not atomic, the batch
                # answers 200 with the item's own 400: tests/api/test_payment_batch.py)
                _index, field = field.split(".", 2)[1:]
                case.body = {"payments": [case.body["payments"][int(_index)]], "atomic": True}
                field = f"payments.0.{field}"
            put_at(case.body, field, amount)
            before = books()
            response = case.call(base_url=BASE_URL, session=session)
            code = response.json()["error"]["code"] if response.status_code >= 400 else None
            assert (response.status_code, code) in ((400, "invalid_amount"), (404, "not_found")), (
                operation.path, case.body, response.content[:300])
            assert books() == before, (operation.path, case.body)
            refused.append(operation.path)

        exercise()
    # every operation whose request schema has an amount; the order file's few examples may all be
    # CSV or multipart bodies (tests/api/test_hostile_input.py always spoils its JSON orders)
    assert set(refused) - {"/api/v1/reconciliation/order-files"} == {
        "/api/v1/deposits", "/api/v1/risk-reserve/deposits", "/api/v1/platform-account/deposits", "/api/v1/payments", "/api/v1/payments/batch",
        "/api/v1/payments/{id}/refunds",
        "/api/v1/payments/{id}/release",
        "/api/v1/withdrawals", "/api/v1/members/{user_id}/bank-cards/{id}/verify",
        "/api/v1/credit/drawdowns", "/api/v1/credit/bills/{id}/repayments"}, set(refused)
