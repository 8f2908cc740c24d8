"""Idempotency-Key: required on creating / money-moving POSTs, replays within 24 h, conflicts on
a different body, scoped per merchant, exactly once under concurrency (PostgreSQL, threads)."""
import json
from contextlib import contextmanager
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.api.signing import signed_headers
from core.models import IdempotencyRecord
from ledger.models import Deposit, Payment
from ledger.selectors import member_balance
from merchants.models import Member

from .conftest import add_member, error_of, fund, make_platform

pytestmark = pytest.mark.django_db

DEPOSIT = {"user_id": "u-1", "amount": "25.00", "order_no": "D-1", "method": "offline_transfer"}


def test_the_key_is_required_on_creating_posts(platform, raw_api):
    add_member(platform, "u-1")
    for path, body in [("/api/v1/deposits", DEPOSIT), ("/api/v1/members", {}), ("/api/v1/payments", {}),
                       ("/api/v1/withdrawals", {}), ("/api/v1/members/u-1/bank-cards", {})]:
        response = raw_api.as_platform(platform, "POST", path, body=body, idempotency_key=None)
        assert response.status_code == 400, path
        error = error_of(response)
        assert error["code"] == "invalid_request" and "Idempotency-Key" in error["details"]
    assert not Deposit.objects.exists()


@pytest.mark.parametrize("key", ["x" * 65, "has space", "tab\tkey", "ключ"])
def test_a_malformed_key_is_refused(platform, raw_api, key):
    add_member(platform, "u-1")
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT,
                                   headers={"Idempotency-Key": key}, idempotency_key=None)
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["details"]


def test_the_same_key_and_body_replays_the_original_answer(platform, raw_api):
    add_member(platform, "u-1")
    first = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    # the same body, serialised differently (key order, spaces), is the same request
    raw = json.dumps(dict(reversed(list(DEPOSIT.items()))), indent=2).encode()
    again = raw_api.as_platform(platform, "POST", "/api/v1/deposits", raw=raw, idempotency_key="key-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Deposit.objects.count() == 1


def test_the_same_key_with_another_body_conflicts(platform, raw_api):
    add_member(platform, "u-1")
    raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-2")
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body={**DEPOSIT, "amount": "26.00"},
                                   idempotency_key="key-2")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "idempotency_conflict" and error["details"]["reason"] == "different_request"
    # and on another endpoint too
    response = raw_api.as_platform(platform, "POST", "/api/v1/members", body=DEPOSIT, idempotency_key="key-2")
    assert response.status_code == 409
    assert Deposit.objects.count() == 1


def test_keys_are_scoped_per_merchant(platform, other_platform, raw_api):
    add_member(platform, "u-1")
    add_member(other_platform, "u-1")
    a = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="same")
    b = raw_api.as_platform(other_platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="same")
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert a.json()["id"] != b.json()["id"]


def test_an_error_releases_the_key(platform, raw_api):
    # given a request that fails (no such member yet)
    first = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-3")
    assert first.status_code == 404
    assert not IdempotencyRecord.objects.filter(key="key-3").exists()
    # when the cause is fixed, the same key and body go through
    add_member(platform, "u-1")
    again = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-3")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again


def test_a_key_expires_after_24_hours(platform, raw_api):
    add_member(platform, "u-1")
    raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-4")
    IdempotencyRecord.objects.filter(key="key-4").update(created_at=timezone.now() - timedelta(hours=25))
    # a day later the key is new again: the order number now decides (already used)
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="key-4")
    assert response.status_code == 409 and error_of(response)["code"] == "duplicate_order"


@contextmanager
def held_by_a_live_request(merchant_id: int, key: str):
    """Another process's request owning the key: on PostgreSQL it holds the key's session lock."""
    from core.api import idempotency

    if connection.vendor != "postgresql":
        yield
        return
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                         port=db["PORT"] or None, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", idempotency._lock_args(merchant_id, key))
        yield


def test_a_concurrent_duplicate_still_in_progress_answers_409(platform, raw_api, monkeypatch):
    from core.api import idempotency

    add_member(platform, "u-1")
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.1)
    IdempotencyRecord.objects.create(merchant_id=platform.merchant.pk, key="busy",
                                     fingerprint=idempotency.fingerprint("POST", "/api/v1/deposits",
                                                                         json.dumps(DEPOSIT).encode()),
                                     method="POST", path="/api/v1/deposits")
    with held_by_a_live_request(platform.merchant.pk, "busy"):
        response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="busy")
    assert response.status_code == 409
    assert error_of(response)["details"]["reason"] == "in_progress"
    assert response["Retry-After"] == "1"
    assert not Deposit.objects.exists()


@pytest.mark.postgres
def test_an_in_progress_key_whose_owner_is_gone_is_taken_over_at_once(platform, raw_api):
    from core.api import idempotency

    # given a claim left in progress by a request whose process died (no one holds its lock)
    add_member(platform, "u-1")
    IdempotencyRecord.objects.create(merchant_id=platform.merchant.pk, key="died",
                                     fingerprint=idempotency.fingerprint("POST", "/api/v1/deposits",
                                                                         json.dumps(DEPOSIT).encode()),
                                     method="POST", path="/api/v1/deposits")
    # when the platform retries at once, then the retry takes it over and books
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="died")
    assert response.status_code == 201
    assert Deposit.objects.count() == 1


def test_a_stale_in_progress_key_is_taken_over(platform, raw_api):
    from core.api import idempotency

    add_member(platform, "u-1")
    IdempotencyRecord.objects.create(merchant_id=platform.merchant.pk, key="crashed",
                                     fingerprint=idempotency.fingerprint("POST", "/api/v1/deposits",
                                                                         json.dumps(DEPOSIT).encode()),
                                     method="POST", path="/api/v1/deposits",
                                     locked_at=timezone.now() - timedelta(minutes=10))
    response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body=DEPOSIT, idempotency_key="crashed")
    assert response.status_code == 201


def test_the_client_sends_a_fresh_key_unless_given_one(platform):
    client = platform.client
    add_member(platform, "u-1")
    client.create_deposit(user_id="u-1", amount="1.00", order_no="D-a", idempotency_key="mine")
    replay = client.create_deposit(user_id="u-1", amount="1.00", order_no="D-a", idempotency_key="mine")
    assert client.last_response.headers["Idempotent-Replayed"] == "true"
    assert replay["order_no"] == "D-a"
    assert IdempotencyRecord.objects.filter(key="mine").count() == 1
    assert IdempotencyRecord.objects.count() == 2  # the member (a fresh uuid4 key) and the deposit


# --- concurrency, for real: threads, separate connections, PostgreSQL --------------------------

def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_payments_book_exactly_once():
    # given a funded payer
    platform = make_platform()
    add_member(platform, "buyer")
    add_member(platform, "seller")
    fund(platform, "buyer", "100.00")
    body = json.dumps({"payer_user_id": "buyer", "payee_user_id": "seller", "amount": "30.00",
                       "order_no": "P-race", "mode": "direct"}).encode()
    path = "/api/v1/payments"

    def send(i):
        headers = signed_headers(app_id=platform.app_id, secret=platform.secret, method="POST", path=path,
                                 body=body)
        headers["Idempotency-Key"] = "race-key"
        response = Client().generic("POST", path, data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    # when eight identical requests race
    results = _concurrently(8, send)
    # then one payment is booked, every answer is that payment, and the others say they replayed
    statuses = sorted(r[0] for r in results)
    assert statuses == [201] * 8, results
    assert len({r[1]["id"] for r in results}) == 1
    assert sum(1 for r in results if r[2] == "true") == 7
    assert Payment.objects.filter(merchant=platform.merchant).count() == 1
    buyer = Member.objects.get(merchant=platform.merchant, user_id="buyer")
    assert member_balance(buyer)["available"] == Decimal("70.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_and_different_bodies_book_once():
    platform = make_platform()
    add_member(platform, "u-1")
    path = "/api/v1/deposits"

    def send(i):
        body = json.dumps({**DEPOSIT, "order_no": f"D-{i}"}).encode()
        headers = signed_headers(app_id=platform.app_id, secret=platform.secret, method="POST", path=path,
                                 body=body)
        headers["Idempotency-Key"] = "one-key"
        return Client().generic("POST", path, data=body, content_type="application/json",
                                headers=headers).status_code

    results = _concurrently(6, send)
    assert sorted(results) == [201] + [409] * 5
    assert Deposit.objects.filter(merchant=platform.merchant).count() == 1
