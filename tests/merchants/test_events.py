"""merchants.services.events: the transactional outbox every app tells platforms through."""
import pytest
from django.db import transaction

from merchants.models import WebhookDelivery
from merchants.services import events
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_event_is_written_in_the_callers_transaction_and_rolled_back_with_it():
    merchant = f.active_merchant()
    outbox = f.listening(merchant)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(merchant, "merchant.frozen", {"reason": "x"})
        assert WebhookDelivery.objects.filter(merchant=merchant).count() == 1  # visible inside
        raise RuntimeError("the movement fails")
    assert outbox() == []
    events.emit(merchant, "merchant.frozen", {"reason": "y"})
    assert outbox() == [("merchant.frozen", {"reason": "y"})]


def test_the_sender_is_only_nudged_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    merchant = f.active_merchant()
    f.listening(merchant)
    nudged = []
    monkeypatch.setattr("merchants.services.webhooks.schedule", nudged.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = events.emit(merchant, "member.frozen", {"user_id": "u-1", "reason": "court order"})
    assert nudged == [] and len(callbacks) == 1
    callbacks[0]()
    assert nudged == [delivery.pk]


def test_no_webhook_url_no_row_and_unknown_types_are_refused():
    merchant = f.active_merchant()
    assert events.emit(merchant, "merchant.frozen", {}) is None
    assert not WebhookDelivery.objects.exists()
    with pytest.raises(ValueError):
        events.emit(merchant, "payment.teleported", {})
