"""Signed requests exactly as API.md describes them: the canonical string is built here by
hand (hashlib/hmac), not with the project's signing module, so the contract is what is tested."""
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import UsedNonce
from merchants.services.credentials import credentials_rotate
from merchants.services.lifecycle import merchant_freeze, merchant_start_closing
from tests import factories as f

from .conftest import add_member, error_of

pytestmark = pytest.mark.django_db


def contract_signature(secret, method, path, timestamp, nonce, body: bytes) -> str:
    canonical = "\n".join([method, path, str(timestamp), nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def hand_signed(client, method, path, *, app_id, secret, body=b"", nonce="n0nce-0123456789abcdef", ts=None,
                extra=None):
    ts = int(time.time()) if ts is None else ts
    headers = {"X-App-Id": app_id, "X-Timestamp": str(ts), "X-Nonce": nonce,
               "X-Signature": contract_signature(secret, method, path, ts, nonce, body), **(extra or {})}
    return client.generic(method, path, data=body, content_type="application/json", headers=headers)


def reason_of(response):
    assert response.status_code == 401, response.content
    error = error_of(response)
    assert error["code"] == "unauthenticated"
    return error["details"]["reason"]


def test_a_request_signed_as_the_contract_says_is_accepted(platform):
    # given a member and a request signed by hand from API.md, with a query string
    add_member(platform, "u-1")
    path = "/api/v1/members/u-1/entries?limit=10"
    # when it is sent
    response = hand_signed(Client(), "GET", path, app_id=platform.app_id, secret=platform.secret)
    # then it is accepted
    assert response.status_code == 200, response.content
    assert response.json() == {"results": [], "next": None}


def test_a_signed_post_with_a_body_is_accepted(platform):
    body = json.dumps({"user_id": "u-9", "name": "Han Meimei", "kind": "individual"}).encode()
    response = hand_signed(Client(), "POST", "/api/v1/members", app_id=platform.app_id, secret=platform.secret,
                           body=body, extra={"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == "u-9"


def test_unsigned_and_unknown_apps_are_refused(platform, raw_api):
    assert reason_of(Client().get("/api/v1/members/u-1")) == "unknown_app"
    response = raw_api.call("GET", "/api/v1/members/u-1", app_id="jg-no-such-app", secret="x")
    assert reason_of(response) == "unknown_app"
    assert response["WWW-Authenticate"]


@pytest.mark.parametrize("skew", [-301, 301, -100000])
def test_a_timestamp_off_by_more_than_300_seconds_is_refused(platform, raw_api, skew):
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", timestamp=int(time.time()) + skew)
    assert reason_of(response) == "timestamp_skew"


@pytest.mark.parametrize("timestamp", ["", "abc", "1.5", "-5"])
def test_a_malformed_timestamp_is_refused(platform, raw_api, timestamp):
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", timestamp=timestamp)
    assert reason_of(response) == "timestamp_skew"


def test_a_timestamp_within_300_seconds_is_accepted(platform, raw_api):
    add_member(platform, "u-1")
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", timestamp=int(time.time()) - 290)
    assert response.status_code == 200


@pytest.mark.parametrize("nonce", ["short", "x" * 65, "has space in it!!", "ünïcödé-nonce-000000"])
def test_a_malformed_nonce_is_refused(platform, raw_api, nonce):
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", nonce=nonce)
    assert reason_of(response) == "signature_mismatch"


def test_a_replayed_nonce_is_refused_and_changes_nothing(platform, raw_api):
    # given a signed request that created a member
    body = {"user_id": "u-5", "name": "A", "kind": "individual"}
    first = raw_api.as_platform(platform, "POST", "/api/v1/members", body=body, nonce="replay-nonce-000001",
                                idempotency_key="k-a")
    assert first.status_code == 201
    # when the very same request (same nonce, even a new idempotency key) is sent again
    again = raw_api.as_platform(platform, "POST", "/api/v1/members", body={**body, "user_id": "u-6"},
                                nonce="replay-nonce-000001", idempotency_key="k-b")
    # then it is refused and nothing is created
    assert reason_of(again) == "nonce_reused"
    assert not platform.merchant.members.filter(user_id="u-6").exists()


def test_nonces_are_per_app_and_expire_after_ten_minutes(platform, other_platform, raw_api):
    add_member(platform, "u-1")
    add_member(other_platform, "u-1")
    nonce = "shared-nonce-00000001"
    assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", nonce=nonce).status_code == 200
    # another app may use the same nonce
    assert raw_api.as_platform(other_platform, "GET", "/api/v1/members/u-1", nonce=nonce).status_code == 200
    assert reason_of(raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", nonce=nonce)) == "nonce_reused"
    # ten minutes later the nonce is free again (its use has left the window)
    UsedNonce.objects.filter(nonce=nonce).update(created_at=timezone.now() - timedelta(minutes=11))
    assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", nonce=nonce).status_code == 200


def test_a_rejected_signature_does_not_burn_the_nonce(platform, raw_api):
    add_member(platform, "u-1")
    nonce = "not-burnt-nonce-0001"
    bad = raw_api.call("GET", "/api/v1/members/u-1", app_id=platform.app_id, secret="wrong", nonce=nonce)
    assert reason_of(bad) == "signature_mismatch"
    assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", nonce=nonce).status_code == 200


def test_a_tampered_body_is_refused(platform, raw_api):
    body = json.dumps({"user_id": "u-7", "name": "A", "kind": "individual"}).encode()
    signed_for = json.dumps({"user_id": "u-8", "name": "A", "kind": "individual"}).encode()
    response = raw_api.as_platform(platform, "POST", "/api/v1/members", raw=body, sign_body=signed_for)
    assert reason_of(response) == "signature_mismatch"
    assert not platform.merchant.members.exists()


def test_a_tampered_path_or_query_is_refused(platform, raw_api):
    add_member(platform, "u-1")
    add_member(platform, "u-2")
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-2", sign_path="/api/v1/members/u-1")
    assert reason_of(response) == "signature_mismatch"
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1/entries?limit=2",
                                   sign_path="/api/v1/members/u-1/entries?limit=1")
    assert reason_of(response) == "signature_mismatch"


def test_a_wrong_secret_or_another_apps_secret_is_refused(platform, other_platform, raw_api):
    response = raw_api.call("GET", "/api/v1/members/u-1", app_id=platform.app_id, secret=other_platform.secret)
    assert reason_of(response) == "signature_mismatch"
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", headers={"X-Signature": "0" * 64})
    assert reason_of(response) == "signature_mismatch"
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1", headers={"X-Signature": "zz"})
    assert reason_of(response) == "signature_mismatch"


def test_a_rotated_secret_overlaps_then_expires(platform, raw_api):
    # given a member and a rotation
    add_member(platform, "u-1")
    old = platform.secret
    new = credentials_rotate(merchant=platform.merchant, actor=f.ops(), reason="yearly")
    # then both secrets work during the overlap window
    for secret in (old, new):
        response = raw_api.call("GET", "/api/v1/members/u-1", app_id=platform.app_id, secret=secret)
        assert response.status_code == 200, response.content
    # and after the window only the new one does
    platform.merchant.api_secrets.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert reason_of(raw_api.call("GET", "/api/v1/members/u-1", app_id=platform.app_id, secret=old)) \
        == "signature_mismatch"
    assert raw_api.call("GET", "/api/v1/members/u-1", app_id=platform.app_id, secret=new).status_code == 200


def test_a_frozen_merchant_reads_and_announces_but_moves_no_money(platform, raw_api):
    # given a frozen merchant with a funded member
    add_member(platform, "u-1")
    add_member(platform, "u-2")
    merchant_freeze(merchant=platform.merchant, actor=f.risk(), reason="court order")
    # then it may still read, register members and announce deposits (money in only)
    assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1").status_code == 200
    assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1/balance").status_code == 200
    created = raw_api.as_platform(platform, "POST", "/api/v1/members",
                                  body={"user_id": "u-3", "name": "C", "kind": "individual"})
    assert created.status_code == 201
    announced = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body={
        "user_id": "u-1", "amount": "10.00", "order_no": "D-frozen", "method": "offline_transfer"})
    assert announced.status_code == 201, announced.content
    # but every request that moves money answers 403 merchant_frozen
    for path, body in [
        ("/api/v1/payments", {"payer_user_id": "u-1", "payee_user_id": "u-2", "amount": "1.00",
                              "order_no": "P-1", "mode": "direct"}),
        ("/api/v1/withdrawals", {"user_id": "u-1", "amount": "1.00", "bank_card_id": 1, "order_no": "W-1"}),
        ("/api/v1/payments/1/release", {}),
        ("/api/v1/payments/1/refunds", {"amount": "1.00", "reason": "x"}),
    ]:
        response = raw_api.as_platform(platform, "POST", path, body=body)
        assert response.status_code == 403, (path, response.content)
        assert error_of(response)["code"] == "merchant_frozen"


def test_a_closing_merchant_is_inactive_for_everything(platform, raw_api):
    add_member(platform, "u-1")
    merchant_start_closing(merchant=platform.merchant, actor=f.risk(), reason="exit")
    response = raw_api.as_platform(platform, "GET", "/api/v1/members/u-1")
    assert response.status_code == 403 and error_of(response)["code"] == "merchant_inactive"
    response = raw_api.as_platform(platform, "POST", "/api/v1/payments", body={})
    assert response.status_code == 403 and error_of(response)["code"] == "merchant_inactive"


def test_another_merchants_ids_are_not_found(platform, other_platform, raw_api):
    # given a member, a deposit of another merchant
    add_member(other_platform, "theirs")
    deposit = other_platform.client.create_deposit(user_id="theirs", amount="5.00", order_no="D-x")
    # then this platform sees none of it: 404, never 403
    for path in ["/api/v1/members/theirs", "/api/v1/members/theirs/balance", "/api/v1/members/theirs/entries",
                 "/api/v1/members/theirs/bank-cards", f"/api/v1/deposits/{deposit['id']}"]:
        response = raw_api.as_platform(platform, "GET", path)
        assert response.status_code == 404, (path, response.content)
        assert error_of(response)["code"] == "not_found"
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body={
        "user_id": "theirs", "amount": "1.00", "order_no": "D-y", "method": "offline_transfer"})
    assert response.status_code == 404


def test_secrets_are_never_returned(platform):
    add_member(platform, "u-1")
    for body in (platform.client.get_member("u-1"), platform.client.get_balance("u-1")):
        assert platform.secret not in json.dumps(body)




@pytest.mark.parametrize("encode", [
    lambda s: __import__("urllib.parse").parse.quote(s, safe=""),        # strict: every reserved character escaped
    lambda s: __import__("urllib.parse").parse.quote(s, safe=",:@'()"),  # some left as they are
])
def test_paths_with_reserved_characters_verify_however_the_client_escapes_them(platform, raw_api, encode):
    add_member(platform, "a,b:c@d'e(f)")
    path = "/api/v1/members/" + encode("a,b:c@d'e(f)")
    response = raw_api.as_platform(platform, "GET", path)
    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == "a,b:c@d'e(f)"
