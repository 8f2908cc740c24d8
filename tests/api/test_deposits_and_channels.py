"""Deposits are announced by the platform and credited only on the bank side's proof: here,
a notification signed by the payment channel."""
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from core.api.signing import signed_headers
from jianguan_client import JianguanError
from ledger.models import Deposit, PaymentChannel
from ledger.selectors import account_balances, prove_merchant
from ledger.services.channels import payment_channel_create
from merchants.services.lifecycle import merchant_freeze
from tests import factories as f

from .conftest import add_member, error_of

pytestmark = pytest.mark.django_db

CHANNEL_SECRET = "channel-secret-for-tests-0123456789"


@pytest.fixture
def channel(db):
    return payment_channel_create(actor=f.ops(), code="fastpay", name="FastPay", app_id="fastpay-app-1",
                                  secret=CHANNEL_SECRET)


def notify(body: dict, *, channel_code="fastpay", app_id="fastpay-app-1", secret=CHANNEL_SECRET, nonce=None,
           unsigned=False):
    raw = json.dumps(body).encode()
    path = f"/api/v1/channels/{channel_code}/notifications"
    headers = {} if unsigned else signed_headers(app_id=app_id, secret=secret, method="POST", path=path, body=raw,
                                                 nonce=nonce)
    return Client().post(path, data=raw, content_type="application/json", headers=headers)


def available(platform, user_id):
    return Decimal(platform.client.get_balance(user_id)["available"])


def test_a_deposit_is_announced_with_where_to_pay(platform, settings):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="1250.00", order_no="D-1",
                                             method="offline_transfer")
    assert deposit["status"] == "awaiting_funds"
    assert 8 <= len(deposit["payment_code"]) <= 12 and not set(deposit["payment_code"]) & set("01OI")
    assert deposit["pay_to"] == {
        "account_number": platform.merchant.supervision_account_number,
        "account_name": platform.merchant.legal_name,
        "bank_name": settings.JIANGUAN["SUPERVISION_BANK_NAME"],
    }
    assert platform.client.get_deposit(deposit["id"]) == deposit
    # announcing credits nothing
    assert available(platform, "u-1") == 0


def test_deposit_order_numbers_are_unique(platform):
    add_member(platform, "u-1")
    platform.client.create_deposit(user_id="u-1", amount="1.00", order_no="D-1")
    with pytest.raises(JianguanError) as err:
        platform.client.create_deposit(user_id="u-1", amount="2.00", order_no="D-1")
    assert (err.value.status, err.value.code) == (409, "duplicate_order")


def test_a_channel_deposit_needs_a_known_channel(platform, channel):
    add_member(platform, "u-1")
    with pytest.raises(JianguanError) as err:
        platform.client.create_deposit(user_id="u-1", amount="1.00", order_no="D-1", method="channel",
                                       channel="nosuch")
    assert (err.value.status, err.value.code) == (400, "invalid_request")
    assert "channel" in err.value.details
    deposit = platform.client.create_deposit(user_id="u-1", amount="1.00", order_no="D-2", method="channel",
                                             channel="fastpay")
    assert deposit["channel"] == "fastpay"


def test_a_signed_channel_notification_credits_the_deposit_exactly_once(platform, channel):
    # given an announced channel deposit
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="88.00", order_no="D-1", method="channel",
                                             channel="fastpay")
    body = {"payment_code": deposit["payment_code"], "amount": "88.00", "transaction_id": "FP-0001"}
    # when the channel notifies
    response = notify(body, nonce="nonce-first-00000001")
    # then the deposit succeeds and the member and the supervision account are up
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "credited"
    assert response.json()["deposit_status"] == "succeeded"
    assert platform.client.get_deposit(deposit["id"])["status"] == "succeeded"
    assert available(platform, "u-1") == Decimal("88.00")
    # when the same notification is replayed: same nonce → refused; new nonce → no second credit
    replay = notify(body, nonce="nonce-first-00000001")
    assert replay.status_code == 401 and error_of(replay)["details"]["reason"] == "nonce_reused"
    again = notify(body)
    assert again.status_code == 200 and again.json()["result"] == "credited"
    assert available(platform, "u-1") == Decimal("88.00")
    assert account_balances(platform.merchant)["supervision"] == Decimal("88.00")
    assert prove_merchant(platform.merchant).ok


def test_unsigned_or_wrongly_signed_notifications_change_nothing(platform, channel):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="10.00", order_no="D-1", method="channel",
                                             channel="fastpay")
    body = {"payment_code": deposit["payment_code"], "amount": "10.00", "transaction_id": "FP-1"}
    cases = [
        notify(body, unsigned=True),
        notify(body, secret="wrong"),
        notify(body, app_id=platform.merchant.app_id, secret=platform.secret),  # a platform can't credit
        notify(body, channel_code="otherchannel"),
    ]
    for response in cases:
        assert response.status_code == 401, response.content
        assert error_of(response)["code"] == "unauthenticated"
    # a disabled channel is unknown
    PaymentChannel.objects.filter(pk=channel.pk).update(enabled=False)
    assert notify(body).status_code == 401
    assert Deposit.objects.get(pk=deposit["id"]).status == "awaiting_funds"
    assert available(platform, "u-1") == 0


def test_an_amount_mismatch_goes_to_suspense_never_to_the_member(platform, channel):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="10.00", order_no="D-1", method="channel",
                                             channel="fastpay")
    body = {"payment_code": deposit["payment_code"], "amount": "9.00", "transaction_id": "FP-2"}
    response = notify(body)
    assert response.status_code == 200 and response.json()["result"] == "suspense"
    notify(body)  # the same transaction again books nothing more
    balances = account_balances(platform.merchant)
    assert balances["suspense"] == balances["supervision"] == Decimal("9.00")
    assert available(platform, "u-1") == 0
    assert Deposit.objects.get(pk=deposit["id"]).status == "awaiting_funds"


def test_unknown_codes_go_to_suspense_when_the_account_is_named_else_404(platform, channel):
    body = {"payment_code": "ZZZZZZZZZZ", "amount": "5.00", "transaction_id": "FP-3"}
    response = notify(body)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = notify({**body, "account_number": platform.merchant.supervision_account_number})
    assert response.status_code == 200 and response.json()["result"] == "suspense"
    assert account_balances(platform.merchant)["suspense"] == Decimal("5.00")


def test_a_second_payment_for_a_credited_code_goes_to_suspense(platform, channel):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="10.00", order_no="D-1", method="channel",
                                             channel="fastpay")
    notify({"payment_code": deposit["payment_code"], "amount": "10.00", "transaction_id": "FP-4"})
    response = notify({"payment_code": deposit["payment_code"], "amount": "10.00", "transaction_id": "FP-5"})
    assert response.json()["result"] == "suspense"
    assert available(platform, "u-1") == Decimal("10.00")
    assert account_balances(platform.merchant)["supervision"] == Decimal("20.00")


def test_a_frozen_merchants_deposit_is_still_credited(platform, channel):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="10.00", order_no="D-1", method="channel",
                                             channel="fastpay")
    merchant_freeze(merchant=platform.merchant, actor=f.risk(), reason="investigation")
    response = notify({"payment_code": deposit["payment_code"], "amount": "10.00", "transaction_id": "FP-6"})
    assert response.json()["result"] == "credited"


@pytest.mark.parametrize("body", [{}, {"amount": "1.00"}, {"transaction_id": "x", "amount": 1},
                                  {"transaction_id": "x", "amount": "1.00"},
                                  {"transaction_id": "x", "amount": "1.00", "deposit_id": "abc"}])
def test_malformed_notifications_answer_400(channel, body):
    response = notify(body)
    assert response.status_code == 400
    assert error_of(response)["code"] in ("invalid_request", "invalid_amount")


def test_the_channel_notify_command_signs_and_sends_in_process(platform, channel):
    add_member(platform, "u-1")
    deposit = platform.client.create_deposit(user_id="u-1", amount="12.34", order_no="D-1", method="channel",
                                             channel="fastpay")
    out = StringIO()
    call_command("channel_notify", "--channel", "fastpay", "--payment-code", deposit["payment_code"],
                 "--amount", "12.34", "--in-process", stdout=out)
    assert "HTTP 200" in out.getvalue() and "credited" in out.getvalue()
    assert available(platform, "u-1") == Decimal("12.34")
    with pytest.raises(CommandError):
        call_command("channel_notify", "--channel", "nosuch", "--payment-code", "X", "--amount", "1.00",
                     "--in-process", stdout=StringIO())


def test_deposit_ids_of_another_merchant_are_not_found(platform, other_platform):
    add_member(other_platform, "u-1")
    theirs = other_platform.client.create_deposit(user_id="u-1", amount="1.00", order_no="D-1")
    with pytest.raises(JianguanError) as err:
        platform.client.get_deposit(theirs["id"])
    assert err.value.status == 404
