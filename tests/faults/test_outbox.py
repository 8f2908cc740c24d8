"""The webhook outbox survives the process: a worker SIGKILLed right after its COMMIT (before
any on-commit callback ran) still has its event delivered, exactly once, by the beat task."""
import signal
import threading
from http.server import ThreadingHTTPServer

import pytest

from ledger.models import Deposit
from ledger.services import deposits
from merchants.models import WebhookDelivery
from merchants.services import webhooks
from tests import factories as f
from tests.api.test_webhooks import Receiver

from .helpers import Worker, assert_books_whole

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", Receiver.received
    server.shutdown()
    server.server_close()


def test_an_event_committed_by_a_process_that_died_before_its_callbacks_is_delivered_once(receiver):
    # given a platform listening for webhooks and an announced deposit
    url, received = receiver
    merchant = f.active_merchant()
    f.listening(merchant, url)
    member = f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount="88.00",
                                        order_no="D-OUTBOX", method="offline_transfer")
    # when a worker credits it and is killed between COMMIT and its on-commit callbacks
    worker = Worker("deposit_credit_then_die", deposit_id=deposit.pk)
    worker.process.wait(60)
    assert worker.process.returncode == -signal.SIGKILL
    # then the deposit is credited and its event is in the outbox, due, though nobody was nudged
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    delivery = WebhookDelivery.objects.get(merchant=merchant)
    assert (delivery.event_type, delivery.status, delivery.attempts) == ("deposit.succeeded", "pending", 0)
    assert received == []
    # when the beat task runs (twice: a second beat, or a late nudge, sends nothing more)
    assert webhooks.deliver_due_now() == 1
    assert webhooks.deliver_due_now() == 0
    webhooks.attempt(delivery.pk)
    # then the platform received the event exactly once
    assert len(received) == 1 and b'"deposit.succeeded"' in received[0]["body"] and b"D-OUTBOX" in received[0]["body"]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert_books_whole(merchant)
