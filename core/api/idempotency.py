"""Idempotency-Key handling (API.md, "Idempotency").

Design — exactly-once across processes without holding a transaction open over the work:
1. claim: INSERT an IdempotencyRecord (merchant, key, fingerprint of method+path+body,
   status in_progress) in its own short transaction. The unique (merchant, key) constraint
   makes exactly one concurrent request the owner.
2. The owner runs the view (the service commits its own transaction).
3. finish: a 2xx response is stored on the record (status completed) and replays for 24 h;
   any other outcome deletes the record — nothing was booked (services are atomic), so the
   platform may retry the same key after fixing the cause.
A request that finds the key already taken:
- different fingerprint → 409 idempotency_conflict (a key is never reused for another request);
- completed → the stored status and body again, with `Idempotent-Replayed: true`;
- in progress (a concurrent duplicate) → waits, polling, up to WAIT_SECONDS for the owner to
  finish, then replays its response (or, if the owner failed and released the key, claims it
  itself); still running after the wait → 409 idempotency_conflict, details reason
  "in_progress", header Retry-After;
- in progress but older than STALE_AFTER (the owner's process died) → taken over by a
  conditional UPDATE; re-running is safe because the ledger services are idempotent on the
  order number / entry reference;
- older than 24 h → expired: deleted and claimed afresh.
The fingerprint uses the JSON body re-serialised with sorted keys, so key order and
whitespace do not matter; a body that is not JSON is compared byte for byte."""
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import IdempotencyConflict, ValidationFailed

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"\A[\x21-\x7e]{1,64}\Z")  # 1–64 visible ASCII characters (UUIDs, order refs)
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=120)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
PURGE_PROBABILITY = 0.01


class InProgress(IdempotencyConflict):
    default_message = _("A request with this idempotency key is still being processed; retry shortly.")

    def __init__(self):
        super().__init__(details={"reason": "in_progress"})


@dataclass
class Replay:
    status: int
    body: object


def read_key(meta, *, required: bool) -> str | None:
    key = meta.get(META_KEY)
    if key is None or key == "":
        if required:
            raise ValidationFailed(_("The Idempotency-Key header is required on this request."),
                                   details={HEADER: [str(_("This header is required."))]})
        return None
    if not KEY_RE.match(key):
        raise ValidationFailed(_("The Idempotency-Key header must be 1 to 64 visible ASCII characters."),
                               details={HEADER: [str(_("1 to 64 visible ASCII characters."))]})
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = bytes(body or b"")
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", canonical):
        digest.update(part)
    return digest.hexdigest()


def claim(*, merchant_id: int, key: str, method: str, path: str, body: bytes,
          wait_seconds: float | None = None):
    """Return the record this request now owns, or a Replay; raise IdempotencyConflict."""
    from core.models import IdempotencyRecord as Record

    fp = fingerprint(method, path, body)
    deadline = time.monotonic() + (WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                record = Record.objects.create(merchant_id=merchant_id, key=key, fingerprint=fp, method=method,
                                               path=path[:255], created_at=now, locked_at=now)
        except IntegrityError:
            pass
        else:
            if random.random() < PURGE_PROBABILITY:
                Record.objects.filter(created_at__lt=now - TTL).delete()
            return record
        existing = Record.objects.filter(merchant_id=merchant_id, key=key).first()
        if existing is None:
            continue  # released or purged between our INSERT and SELECT: try again
        if existing.created_at < now - TTL:
            Record.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fp:
            raise IdempotencyConflict(details={"reason": "different_request"})
        if existing.status == Record.Status.COMPLETED:
            return Replay(existing.response_status, existing.response_body)
        if existing.locked_at < now - STALE_AFTER:
            taken = Record.objects.filter(pk=existing.pk, status=Record.Status.IN_PROGRESS,
                                          locked_at=existing.locked_at).update(locked_at=now)
            if taken:
                existing.locked_at = now
                return existing
            continue
        if time.monotonic() >= deadline:
            raise InProgress()
        time.sleep(POLL_SECONDS)


def finish(record, *, status: int, body) -> None:
    """Store a 2xx response for replay; release the key after any other outcome."""
    from core.models import IdempotencyRecord as Record

    if 200 <= status < 300:
        Record.objects.filter(pk=record.pk).update(
            status=Record.Status.COMPLETED, response_status=status, response_body=body,
            completed_at=timezone.now())
    else:
        Record.objects.filter(pk=record.pk, status=Record.Status.IN_PROGRESS).delete()
