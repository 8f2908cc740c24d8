"""The nonce and idempotency tables purge what has left their windows, on a dice roll per new row."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.api import authentication, idempotency
from core.models import IdempotencyRecord, UsedNonce

pytestmark = pytest.mark.django_db


def test_a_new_nonce_purges_nonces_past_the_window_and_keeps_the_rest(monkeypatch):
    # given one nonce from before the replay window and one inside it
    now = timezone.now()
    UsedNonce.objects.create(scope="app", nonce="old", created_at=now - timedelta(hours=1))
    UsedNonce.objects.create(scope="app", nonce="recent", created_at=now - timedelta(minutes=1))
    monkeypatch.setattr(authentication, "PURGE_PROBABILITY", 1.0)
    # when a new nonce is consumed and the dice say purge
    assert authentication.consume_nonce("app", "new", now=now) is True
    # then only the old one is gone
    assert set(UsedNonce.objects.values_list("nonce", flat=True)) == {"recent", "new"}


def test_without_the_dice_nothing_is_purged(monkeypatch):
    now = timezone.now()
    UsedNonce.objects.create(scope="app", nonce="old", created_at=now - timedelta(hours=1))
    monkeypatch.setattr(authentication, "PURGE_PROBABILITY", 0.0)
    assert authentication.consume_nonce("app", "new", now=now) is True
    assert UsedNonce.objects.count() == 2


def test_a_new_idempotency_key_purges_records_past_their_ttl(monkeypatch):
    # given a record older than the replay TTL and a recent one
    now = timezone.now()
    for key, age in (("old", idempotency.TTL + timedelta(minutes=1)), ("recent", timedelta(minutes=1))):
        IdempotencyRecord.objects.create(merchant_id=1, key=key, fingerprint="f", method="POST", path="/p",
                                         status=IdempotencyRecord.Status.COMPLETED, response_status=201,
                                         response_body={}, created_at=now - age, locked_at=now - age)
    monkeypatch.setattr(idempotency, "PURGE_PROBABILITY", 1.0)
    # when a new key is claimed and the dice say purge
    record = idempotency.claim(merchant_id=1, key="new", method="POST", path="/p", body=b"{}")
    idempotency.finish(record, status=201, body={})
    # then the expired record is gone, the recent one still replays
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"recent", "new"}
