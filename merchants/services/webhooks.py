"""Webhooks: events POSTed to the merchant's webhook URL, signed like API requests.

Events enter through the transactional outbox (merchants.events.emit): the WebhookDelivery row
(pending, due now, body {"id", "type", "created_at", "data"}) is written in the service's own
transaction, and after COMMIT `schedule` asks Celery to `deliver` it.

Delivery:
- one attempt = one signed POST (X-App-Id, X-Timestamp, X-Nonce, X-Signature as in API.md,
  keyed with the merchant's newest secret), logged as a WebhookAttempt;
- a 2xx ends it (succeeded); anything else schedules the next attempt after the backoff
  (1 min, 5 min, 30 min, 2 h, 12 h by default) by setting `next_attempt_at` — no Celery
  countdown or self-retry, so eager mode (tests, quick start) sends once and never sleeps
  or recurses; the beat task `merchants.webhooks.deliver_due` (merchants/tasks.py) (every minute) sends what is due;
- after the last attempt (JIANGUAN["WEBHOOK_MAX_ATTEMPTS"], default 6) the delivery is
  failed; operations may resend it from the admin (`webhook_resend`).
An attempt first claims the row with a conditional UPDATE that pushes `next_attempt_at` past
the HTTP timeout (a lease), so two workers never send the same attempt, and no transaction is
held open during the HTTP call. Receivers should de-duplicate by event id (at-least-once)."""
import json
import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.api import signing
from core.audit import audit_record
from core.permissions import require

from ..models import WebhookAttempt, WebhookDelivery
from ..webhook_urls import url_allowed

logger = logging.getLogger("jianguan.webhooks")

DEFAULT_BACKOFF = (60, 300, 1800, 7200, 43200)
USER_AGENT = "Jianguan-Webhooks/1"


def _conf(name: str, default):
    return settings.JIANGUAN.get(name, default)


def backoff_seconds() -> tuple[int, ...]:
    return tuple(_conf("WEBHOOK_BACKOFF_SECONDS", DEFAULT_BACKOFF))


def max_attempts() -> int:
    return int(_conf("WEBHOOK_MAX_ATTEMPTS", len(backoff_seconds()) + 1))


def timeout_seconds() -> float:
    return float(_conf("WEBHOOK_TIMEOUT_SECONDS", 10))


def schedule(delivery_id: int):
    """Ask a worker to send it now; never raises (the beat task sends what is due anyway)."""
    from ..tasks import deliver  # the task module imports this one

    try:
        deliver.delay(delivery_id)
    except Exception:  # noqa: BLE001  broker down: deliver_due picks it up
        logger.warning("webhook %s not queued; the beat task will send it", delivery_id, exc_info=True)


# --- one attempt -----------------------------------------------------------------------------

def _claim(delivery_id: int, now) -> bool:
    lease = now + timedelta(seconds=timeout_seconds() + 60)
    return bool(WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=lease))


def signed_request(delivery: WebhookDelivery, url: str) -> tuple[bytes, dict]:
    from .credentials import valid_secrets

    merchant = delivery.merchant
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    secrets = valid_secrets(merchant)
    if not secrets or not merchant.app_id:
        raise ValueError("the merchant has no API credentials to sign with")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = signing.signed_headers(app_id=merchant.app_id, secret=secrets[0], method="POST", path=path, body=body)
    headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT,
                    "X-Jianguan-Event": delivery.event_type, "X-Jianguan-Event-Id": delivery.event_id})
    return body, headers


def attempt(delivery_id: int, *, now=None) -> WebhookDelivery | None:
    """Send one attempt if the delivery is pending and due; returns it, or None if not due."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("merchant").get(pk=delivery_id)
    url = delivery.merchant.webhook_url
    number = delivery.attempt_log.count() + 1
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    try:
        if not url:
            raise ValueError("the merchant has no webhook URL")
        if not url_allowed(url):
            raise ValueError("the webhook URL is not https; nothing was sent")
        body, headers = signed_request(delivery, url)
        response = requests.post(url, data=body, headers=headers, timeout=timeout_seconds(), allow_redirects=False)
        status_code, excerpt = response.status_code, response.text[:500]
    except (requests.RequestException, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    duration = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not ok:
        error = f"HTTP {status_code}"
    return _record(delivery, number=number, url=url, started=now, duration=duration, status_code=status_code,
                   ok=ok, error=error, excerpt=excerpt)


@transaction.atomic
def _record(delivery, *, number, url, started, duration, status_code, ok, error, excerpt):
    delivery = WebhookDelivery.objects.select_for_update(no_key=True).get(pk=delivery.pk)
    WebhookAttempt.objects.create(delivery=delivery, number=number, url=url or "", started_at=started,
                                  duration_ms=duration, status_code=status_code, succeeded=ok, error=error,
                                  response_excerpt=excerpt)
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    now = timezone.now()
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
    elif delivery.attempts >= max_attempts():
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        steps = backoff_seconds()
        delay = steps[min(delivery.attempts - 1, len(steps) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                 "next_attempt_at"])
    return delivery


def deliver_due_now(*, now=None, limit: int = 500) -> int:
    """Send every pending delivery that is due; returns how many attempts were made."""
    now = now or timezone.now()
    ids = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    return sum(1 for pk in ids if attempt(pk, now=now) is not None)


# --- admin service -----------------------------------------------------------------------------

@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery, actor, reason: str = "") -> WebhookDelivery:
    """Start a fresh series of attempts (after a failure, or to send a succeeded event again)."""
    actor = require(actor, "merchants.resend_webhookdelivery", people_only=False)
    delivery = WebhookDelivery.objects.select_for_update(no_key=True).get(pk=delivery.pk)
    before = delivery.status
    delivery.status, delivery.attempts = WebhookDelivery.Status.PENDING, 0
    delivery.next_attempt_at, delivery.last_error = timezone.now(), ""
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
    audit_record(actor=actor, obj=delivery, action="webhook_resend", from_state=before, to_state=delivery.status,
                 reason=reason, merchant_id=delivery.merchant_id, data={"event_id": delivery.event_id})
    transaction.on_commit(lambda: schedule(delivery.pk))
    return delivery
