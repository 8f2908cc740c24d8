"""Schemathesis against /api/schema/: every operation, generated requests (valid and invalid),
each signed by the real client's SignedAuth and sent through Django's test client. No 500,
no undocumented status, every response matches its schema. Bounded: a few examples per
operation, derandomised, no example database."""
import json

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from jianguan_client import SignedAuth
from ledger.models import PaymentChannel

from .conftest import add_member, fund
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
