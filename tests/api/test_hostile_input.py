"""Hostile input, class by class, at every POST endpoint of the API.

Each endpoint has a real body that books (the control: proven to answer 2xx first). Hypothesis
then spoils it one way at a time — an amount in another script's digits, with a sign or
whitespace, `-0.00` as a fee; a field nested thousands deep; a lone surrogate in a string; a key
given twice — and every spoiled request must answer 400 with the envelope, never a 500, and
book nothing: every table of the books holds the same rows before and after."""
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.api.signing import signed_headers
from ledger.services.channels import payment_channel_create
from merchants.models import BankCard, Member
from tests import factories as f
from tests.credit.helpers import open_line

from .conftest import add_member, error_of, fund
from .strategies import books, deep, deep_values, hostile_amounts, put_at, surrogates

pytestmark = pytest.mark.django_db

CHANNEL_SECRET = "channel-secret-for-hostile-tests-0123"
_seq = itertools.count(1)


# --- the endpoints and their booking bodies ----------------------------------------------------

@dataclass
class Endpoint:
    name: str
    path: Callable[[], str]
    body: Callable[[], dict]
    amounts: tuple[str, ...] = ()  # dotted paths of the body's amount fields
    texts: tuple[str, ...] = ()  # string fields to carry a surrogate
    channel: bool = False  # signed with the payment channel's credentials


class World:
    """One platform with funded members, a verified card (and a business member whose cards are
    verified by micro-deposit), a credit line with a bill, a payment
    channel and payments to refund or release: enough for every POST endpoint to book."""

    def __init__(self, platform):
        self.platform = platform
        add_member(platform, "u-1", name="Li Lei")
        add_member(platform, "u-2")
        fund(platform, "u-1", "100000.00")
        members = {m.user_id: m for m in Member.objects.filter(merchant=platform.merchant)}
        self.card = platform.client.add_bank_card("u-1", account_number="6222020200112233445",
                                                  account_name="Li Lei", bank_name="ICBC")
        add_member(platform, "b-1", kind="business", name="Acme Trading Co")  # verified by micro-deposit
        self.direct = platform.client.create_payment(payer_user_id="u-1", payee_user_id="u-2", amount="5000.00",
                                                     order_no="P-refundable", mode="direct")
        open_line(platform.merchant, members["u-1"], creditor=members["u-2"], limit="50000.00")
        self.bill = platform.client.credit_drawdown(user_id="u-1", payee_user_id="u-2", amount="5000.00",
                                                    order_no="PO-bill")
        payment_channel_create(actor=f.ops(), code="hostilepay", name="HostilePay", app_id="hostilepay-app",
                               secret=CHANNEL_SECRET)

    def held_payment(self) -> str:
        payment = self.platform.client.create_payment(payer_user_id="u-1", payee_user_id="u-2", amount="1.00",
                                                      order_no=f"P-held-{next(_seq)}", mode="guaranteed")
        return f"/api/v1/payments/{payment['id']}/release"

    def fresh_card_path(self) -> str:
        self.last_card = card = self.platform.client.add_bank_card("b-1", account_number=f"62220202001122{next(_seq):05d}",
                                                  account_name="Acme Trading Co", bank_name="ICBC")
        f.micro_deposit_paid(BankCard.objects.get(pk=card["id"]))
        return f"/api/v1/members/b-1/bank-cards/{card['id']}/verify"

    def fresh_challenge_path(self) -> str:
        """A withdrawal waiting for the member's one-time code (the code read from the test outbox)."""
        from ledger.services.confirmations import withdrawal_challenge
        from merchants import sms

        member = Member.objects.get(merchant=self.platform.merchant, user_id="u-1")
        challenge = withdrawal_challenge(merchant=self.platform.merchant, actor=None, member=member, amount="1.00",
                                         bank_card=BankCard.objects.get(pk=self.card["id"]),
                                         order_no=f"WC-{next(_seq)}")
        self.last_code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.OutboxBackend.outbox[-1][1]).group(1)
        return f"/api/v1/challenges/{challenge.token}/confirm"

    def endpoints(self) -> list[Endpoint]:
        n = lambda: next(_seq)  # noqa: E731
        return [
            Endpoint("members", lambda: "/api/v1/members",
                     lambda: {"user_id": f"m-{n()}", "name": "Han Meimei", "kind": "individual",
                              "id_number": "110101199003071234", "phone": "13812345678", "roles": ["buyer"]},
                     texts=("user_id", "name")),
            Endpoint("bank cards", lambda: "/api/v1/members/u-2/bank-cards",
                     lambda: {"account_number": f"62220202001199{n():05d}", "account_name": "Member u-2",
                              "bank_name": "ICBC"}, texts=("account_name", "bank_name")),
            Endpoint("card verification", self.fresh_card_path,
                     lambda: {"amount": str(BankCard.objects.get(pk=self.last_card["id"]).micro_deposit_amount)},
                     amounts=("amount",)),
            Endpoint("deposits", lambda: "/api/v1/deposits",
                     lambda: {"user_id": "u-1", "amount": "1.00", "order_no": f"D-{n()}", "method": "offline_transfer"},
                     amounts=("amount",), texts=("order_no",)),
            Endpoint("risk reserve deposits", lambda: "/api/v1/risk-reserve/deposits",
                     lambda: {"amount": "500.00", "order_no": f"RSV-{n()}", "method": "offline_transfer"},
                     amounts=("amount",), texts=("order_no",)),
            Endpoint("platform account deposits", lambda: "/api/v1/platform-account/deposits",
                     lambda: {"amount": "50.00", "order_no": f"PLT-{n()}", "method": "offline_transfer"},
                     amounts=("amount",), texts=("order_no",)),
            Endpoint("payments", lambda: "/api/v1/payments",
                     lambda: {"payer_user_id": "u-1", "payee_user_id": "u-2", "amount": "1.00", "platform_fee": "0.10",
                              "order_no": f"P-{n()}", "mode": "direct"},
                     amounts=("amount", "platform_fee"), texts=("order_no", "payee_user_id")),
            Endpoint("payments with splits", lambda: "/api/v1/payments",
                     lambda: {"payer_user_id": "u-1", "amount": "1.00", "order_no": f"P-{n()}", "mode": "guaranteed",
                              "splits": [{"user_id": "u-2", "amount": "1.00"}]},
                     amounts=("amount", "splits.0.amount"), texts=("splits.0.user_id",)),
            # atomic: a spoiled item refuses the whole batch (400, nothing booked); without it the
            # batch answers 200 with that item's error (tests/api/test_payment_batch.py)
            Endpoint("payment batch", lambda: "/api/v1/payments/batch",
                     lambda: {"atomic": True, "payments": [
                         {"payer_user_id": "u-1", "payee_user_id": "u-2", "amount": "1.00", "platform_fee": "0.10",
                          "order_no": f"PB-{n()}", "mode": "direct"},
                         {"payer_user_id": "u-1", "amount": "2.00", "order_no": f"PB-{n()}", "mode": "guaranteed",
                          "splits": [{"user_id": "u-2", "amount": "2.00"}]}]},
                     amounts=("payments.0.amount", "payments.0.platform_fee", "payments.1.amount",
                              "payments.1.splits.0.amount"),
                     texts=("payments.0.order_no", "payments.1.splits.0.user_id")),
            Endpoint("release", self.held_payment, lambda: {}),
            Endpoint("refunds", lambda: f"/api/v1/payments/{self.direct['id']}/refunds",
                     lambda: {"amount": "0.01", "reason": "returned"}, amounts=("amount",), texts=("reason",)),
            Endpoint("withdrawals", lambda: "/api/v1/withdrawals",
                     lambda: {"user_id": "u-1", "amount": "1.00", "bank_card_id": self.card["id"],
                              "order_no": f"W-{n()}"}, amounts=("amount",), texts=("order_no",)),
            Endpoint("challenge confirmation", self.fresh_challenge_path, lambda: {"code": self.last_code},
                     texts=("code",)),
            Endpoint("credit drawdowns", lambda: "/api/v1/credit/drawdowns",
                     lambda: {"user_id": "u-1", "payee_user_id": "u-2", "amount": "1.00", "order_no": f"PO-{n()}"},
                     amounts=("amount",), texts=("order_no",)),
            Endpoint("credit repayments", lambda: f"/api/v1/credit/bills/{self.bill['id']}/repayments",
                     lambda: {"amount": "0.01"}, amounts=("amount",)),
            Endpoint("order files", lambda: "/api/v1/reconciliation/order-files",
                     lambda: {"business_date": "2026-01-05",
                              "orders": [{"order_no": f"P-{n()}", "type": "payment", "amount": "1.00"}]},
                     amounts=("orders.0.amount",), texts=("orders.0.order_no",)),
            Endpoint("channel notifications", lambda: "/api/v1/channels/hostilepay/notifications",
                     lambda: {"transaction_id": f"T-{n()}", "amount": "1.00",
                              "account_number": self.platform.merchant.supervision_account_number},
                     amounts=("amount",), texts=("transaction_id",), channel=True),
        ]

    def post(self, endpoint: Endpoint, raw: bytes, path: str | None = None):
        path = path or endpoint.path()
        if endpoint.channel:
            app_id, secret = "hostilepay-app", CHANNEL_SECRET
        else:
            app_id, secret = self.platform.app_id, self.platform.secret
        headers = signed_headers(app_id=app_id, secret=secret, method="POST", path=path, body=raw)
        headers["Idempotency-Key"] = str(uuid.uuid4())
        return Client().post(path, data=raw, content_type="application/json", headers=headers)


@pytest.fixture
def world(platform):
    return World(platform)


ENDPOINT_NAMES = ["members", "bank cards", "card verification", "deposits", "payments", "payments with splits",
                  "payment batch", "release", "refunds", "withdrawals", "challenge confirmation", "credit drawdowns", "credit repayments", "order files",
                  "channel notifications"]


def _endpoint(world, name) -> Endpoint:
    return next(e for e in world.endpoints() if e.name == name)


def assert_refused(world, endpoint, raw: bytes, code: str, path=None):
    before = books()
    response = world.post(endpoint, raw, path=path)
    assert response.status_code == 400, (endpoint.name, raw[:200], response.content[:300])
    assert error_of(response)["code"] == code, (raw[:200], response.content[:300])
    after = books()
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    return error_of(response)


def test_every_post_endpoint_is_covered(world):
    """A new POST endpoint must join this file: the control bodies name every one of the schema."""
    response = Client().get("/api/schema/", {"format": "json"})
    schema_posts = {path for path, item in json.loads(response.content)["paths"].items() if "post" in item}
    covered = set()
    for endpoint in world.endpoints():
        path = endpoint.path()
        for template in schema_posts:
            parts, actual = template.split("/"), path.split("/")
            if len(parts) == len(actual) and all(p == a or p.startswith("{") for p, a in zip(parts, actual)):
                covered.add(template)
    assert covered == schema_posts, schema_posts - covered


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_the_control_body_books(world, name):
    """Given the endpoint's booking body, when it is sent as it is, then it succeeds (so each
    refusal below is the spoiled part's doing, not a body that would be refused anyway)."""
    endpoint = _endpoint(world, name)
    path = endpoint.path()
    before = books()
    response = world.post(endpoint, json.dumps(endpoint.body()).encode(), path=path)
    assert 200 <= response.status_code < 300, response.content
    assert books() != before


@pytest.mark.parametrize("name", [n for n in ENDPOINT_NAMES if n not in ("members", "bank cards", "release", "challenge confirmation")])
def test_an_amount_outside_the_grammar_is_refused_and_books_nothing(world, name):
    endpoint = _endpoint(world, name)
    path = endpoint.path()

    @given(field=st.sampled_from(endpoint.amounts), amount=hostile_amounts)
    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def spoil(field, amount):
        body = endpoint.body()
        put_at(body, field, amount)
        error = assert_refused(world, endpoint, json.dumps(body).encode(), "invalid_amount", path=path)
        assert field.split(".")[-1] in " ".join(error["details"]) or "orders" in error["details"], error

    spoil()


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_a_deeply_nested_body_is_refused_and_books_nothing(world, name):
    endpoint = _endpoint(world, name)
    path = endpoint.path()

    @given(nest=deep_values, at_top=st.booleans())
    @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def spoil(nest, at_top):
        depth, kind = nest
        if at_top:
            raw = deep(depth, kind).encode()
        else:
            body = json.dumps({**endpoint.body(), "extra": "__DEEP__"})
            raw = body.replace('"__DEEP__"', deep(depth, kind)).encode()
        error = assert_refused(world, endpoint, raw, "invalid_request", path=path)
        assert "nested deeper" in error["details"]["body"][0]

    spoil()


@pytest.mark.parametrize("name", [n for n in ENDPOINT_NAMES if n not in ("release", "credit repayments",
                                                                         "card verification")])
def test_a_lone_surrogate_is_refused_and_books_nothing(world, name):
    endpoint = _endpoint(world, name)
    path = endpoint.path()

    @given(field=st.sampled_from(endpoint.texts), escape=surrogates, where=st.sampled_from(["alone", "inside"]))
    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def spoil(field, escape, where):
        body = endpoint.body()
        put_at(body, field, "__SURROGATE__")
        text = escape if where == "alone" else f"ab{escape}cd"
        raw = json.dumps(body).replace("__SURROGATE__", text).encode()
        error = assert_refused(world, endpoint, raw, "invalid_request", path=path)
        assert "surrogate" in error["details"]["body"][0]

    spoil()


@pytest.mark.parametrize("name", ["payments", "withdrawals", "deposits", "release"])
def test_a_key_given_twice_is_refused(world, name):
    endpoint = _endpoint(world, name)
    path = endpoint.path()
    raw = json.dumps(endpoint.body())[:-1].encode() + b', "amount": "9999.00", "amount": "1.00"}'
    raw = raw.replace(b"{,", b"{")
    error = assert_refused(world, endpoint, raw, "invalid_request", path=path)
    assert "twice" in error["details"]["body"][0]


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"\xed\xa0\x80",
                                 b'{"a": "\xc3"}', b"   "])
def test_not_json_or_not_utf8_is_refused(world, raw):
    assert_refused(world, _endpoint(world, "deposits"), raw, "invalid_request")


def test_a_body_over_the_limit_answers_413_and_books_nothing(world, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "API_MAX_BODY_BYTES": 2000}
    endpoint = _endpoint(world, "order files")
    body = endpoint.body()
    body["orders"] *= 100
    before = books()
    response = world.post(endpoint, json.dumps(body).encode())
    assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"
    assert books() == before


@given(digits=st.sampled_from(["６２２２０２０２００１１２２３３４４５", "٦٢٢٢٠٢٠٢٠٠١١٢٢٣٣٤٤٥"]))
@settings(max_examples=2, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_a_card_number_in_other_digits_is_refused(world, digits):
    endpoint = _endpoint(world, "bank cards")
    body = {**endpoint.body(), "account_number": digits}
    error = assert_refused(world, endpoint, json.dumps(body).encode(), "invalid_request")
    assert "account_number" in error["details"]


@pytest.mark.parametrize("field", ["order_no", "payer_user_id", "type"])
def test_an_order_file_with_a_control_character_is_refused(world, field):
    endpoint = _endpoint(world, "order files")
    body = endpoint.body()
    body["orders"][0][field] = "P-\u0000-1" if field != "type" else "pay\u0000ment"
    error = assert_refused(world, endpoint, json.dumps(body).encode(), "invalid_request")
    assert "control characters" in " ".join(error["details"]["orders"])
