"""Webhooks against a real HTTP server on 127.0.0.1: signed deliveries, retries with backoff via
next_attempt_at (no sleeping, no recursion in eager mode), failure after the last attempt,
resend from the admin."""
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.api import signing
from ledger.services import deposits
from merchants.models import Member, WebhookDelivery
from merchants.services import webhooks
from merchants.services.lifecycle import merchant_freeze, merchant_update
from merchants.services.members import member_freeze
from tests import factories as f

from .conftest import add_member

pytestmark = pytest.mark.django_db


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        status = 500 if self.path.startswith("/fail") else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"boom")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Receiver.received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def quick_webhooks(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "WEBHOOK_TIMEOUT_SECONDS": 0.3, "WEBHOOK_MAX_ATTEMPTS": 3,
                         "WEBHOOK_BACKOFF_SECONDS": [60, 300]}


def hook_to(platform, url):
    merchant_update(merchant=platform.merchant, actor=platform.merchant.relationship_manager,
                                      webhook_url=url)
    platform.merchant.refresh_from_db()


def credit_deposit(platform, capture, user_id="u-1", amount="10.00"):
    member = Member.objects.get(merchant=platform.merchant, user_id=user_id)
    deposit = deposits.deposit_announce(merchant=platform.merchant, actor=None, member=member, amount=amount,
                                        order_no=f"D-{time.monotonic_ns()}", method="offline_transfer")
    with capture(execute=True):
        deposits.deposit_credit(deposit=deposit, actor=None, amount=amount, proof_kind="statement_line",
                                proof_reference=f"SL-{deposit.pk}")
    return deposit


def test_an_event_is_delivered_signed_as_a_request(platform, receiver, django_capture_on_commit_callbacks):
    # given a merchant with a webhook URL (with a query string)
    base, received = receiver
    hook_to(platform, f"{base}/ok?tenant=1")
    add_member(platform, "u-1")
    # when a deposit is credited
    deposit = credit_deposit(platform, django_capture_on_commit_callbacks)
    # then one signed POST arrives with {"id", "type", "created_at", "data"}
    assert len(received) == 1
    hit = received[0]
    payload = json.loads(hit["body"])
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == "deposit.succeeded" and payload["data"]["id"] == deposit.pk
    headers = hit["headers"]
    assert headers["X-App-Id"] == platform.app_id
    expected = signing.sign(platform.secret, "POST", "/ok?tenant=1", headers["X-Timestamp"], headers["X-Nonce"],
                            hit["body"])
    assert headers["X-Signature"] == expected
    assert abs(int(headers["X-Timestamp"]) - time.time()) < 60
    # and the delivery is recorded as succeeded with its attempt
    delivery = WebhookDelivery.objects.get(event_id=payload["id"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.attempt_log.get().succeeded


def test_a_failing_receiver_is_retried_with_backoff_then_failed(platform, receiver,
                                                                django_capture_on_commit_callbacks):
    base, received = receiver
    hook_to(platform, f"{base}/fail")
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    # the first attempt ran once (eager mode: no recursion, no sleeping) and scheduled the next
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert len(received) == 1
    # nothing is due yet
    assert webhooks.deliver_due_now() == 0
    # a minute later: the second attempt, then five minutes later the third and last
    webhooks.deliver_due_now(now=timezone.now() + timedelta(seconds=61))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert timedelta(seconds=295) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=300)
    webhooks.deliver_due_now(now=timezone.now() + timedelta(seconds=301))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 500]
    assert len(received) == 3
    # a failed delivery is left alone by the beat task
    assert webhooks.deliver_due_now(now=timezone.now() + timedelta(days=1)) == 0


def test_a_slow_receiver_times_out_and_is_retried(platform, receiver, django_capture_on_commit_callbacks):
    base, _received = receiver
    hook_to(platform, f"{base}/slow")
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert "Timeout" in delivery.last_error or "timed out" in delivery.last_error
    # the receiver recovers; the next attempt succeeds
    hook_to(platform, f"{base}/ok")
    webhooks.deliver_due_now(now=timezone.now() + timedelta(seconds=61))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_an_attempt_is_claimed_once(platform, receiver, django_capture_on_commit_callbacks):
    base, received = receiver
    hook_to(platform, f"{base}/fail")
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    later = timezone.now() + timedelta(seconds=61)
    assert webhooks.attempt(delivery.pk, now=later) is not None
    assert webhooks.attempt(delivery.pk, now=later) is None  # leased / rescheduled: not sent twice
    assert len(received) == 2


def test_merchant_and_member_freezes_are_events_too(platform, receiver, django_capture_on_commit_callbacks):
    base, received = receiver
    hook_to(platform, f"{base}/ok")
    add_member(platform, "u-1")
    member = Member.objects.get(merchant=platform.merchant, user_id="u-1")
    with django_capture_on_commit_callbacks(execute=True):
        member_freeze(member=member, actor=f.risk(), reason="suspicious")
    with django_capture_on_commit_callbacks(execute=True):
        merchant_freeze(merchant=platform.merchant, actor=f.risk(), reason="audit")
    types = [json.loads(r["body"])["type"] for r in received]
    assert types == ["member.frozen", "merchant.frozen"]
    assert json.loads(received[0]["body"])["data"]["user_id"] == "u-1"


def test_no_url_no_delivery(platform, django_capture_on_commit_callbacks):
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


def test_a_failed_delivery_is_resent_by_operations(platform, receiver, django_capture_on_commit_callbacks):
    base, received = receiver
    hook_to(platform, f"{base}/fail")
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None, attempts=3)
    hook_to(platform, f"{base}/ok")
    # an auditor may not resend
    from core.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        webhooks.webhook_resend(delivery=delivery, actor=f.auditor())
    # operations may, from the admin action
    ops = f.ops()
    http = Client()
    http.force_login(ops)
    changelist = reverse("admin:merchants_webhookdelivery_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(changelist, {"action": "resend", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert delivery.attempt_log.count() == 2
    assert received[-1]["path"] == "/ok"
    # and the screens show the deliveries and their attempts
    assert http.get(changelist).status_code == 200
    page = http.get(reverse("admin:merchants_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and b"deposit.succeeded" in page.content


# --- https only outside debug ------------------------------------------------------------------

def test_outside_debug_a_plain_http_webhook_url_is_refused(platform, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "WEBHOOK_ALLOW_HTTP": False}
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        hook_to(platform, "http://platform.example/hooks")
    assert "webhook_url" in err.value.details
    hook_to(platform, "https://platform.example/hooks")
    assert platform.merchant.webhook_url == "https://platform.example/hooks"


def test_outside_debug_nothing_is_sent_to_a_plain_http_url(platform, receiver, settings,
                                                           django_capture_on_commit_callbacks):
    """Given a plain-http URL already stored (set before the rule, or by hand in the database), when
    an event is due, then no request leaves: the attempt is recorded as refused."""
    base, received = receiver
    hook_to(platform, f"{base}/ok")
    settings.JIANGUAN = {**settings.JIANGUAN, "WEBHOOK_ALLOW_HTTP": False}
    add_member(platform, "u-1")
    credit_deposit(platform, django_capture_on_commit_callbacks)
    assert received == []
    delivery = WebhookDelivery.objects.get(merchant=platform.merchant)
    assert "not https" in delivery.last_error and delivery.status == "pending"
