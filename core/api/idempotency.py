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
- in progress and its owner is gone (killed worker, dropped connection) → taken over by a
  conditional UPDATE; re-running is safe because the ledger services are idempotent on the
  order number / entry reference. On PostgreSQL the owner holds a session advisory lock named
  after (merchant, key) from its claim to its finish: a request that gets the lock while the
  record is in progress knows at once that the owner's connection is gone. (A session lock
  needs session pooling if a pooler sits in front of PostgreSQL.) On SQLite an owner counts as
  gone once its claim is STALE_AFTER old;
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

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import IdempotencyConflict, ValidationFailed
from core.locks import Lock, session_unlock, try_session_lock

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"\A[\x21-\x7e]{1,64}\Z")  # 1–64 visible ASCII characters (UUIDs, order refs)
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=120)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
PURGE_PROBABILITY = 0.01
_KEY_LOCK = int(Lock.IDEMPOTENCY_KEY)


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


def _lock_args(merchant_id: int, key: str) -> list[int]:
    digest = hashlib.blake2b(f"{merchant_id}:{key}".encode(), digest_size=4).digest()
    return [_KEY_LOCK, int.from_bytes(digest, "big", signed=True)]


def _try_lock(merchant_id: int, key: str) -> bool:
    """Take the key's session lock if no live request holds it (always true off PostgreSQL)."""
    return try_session_lock(*_lock_args(merchant_id, key))


def unlock(merchant_id: int, key: str) -> None:
    session_unlock(*_lock_args(merchant_id, key))


def claim(*, merchant_id: int, key: str, method: str, path: str, body: bytes,
          wait_seconds: float | None = None):
    """Return the record this request now owns (holding the key's lock until `finish`), or a
    Replay; raise IdempotencyConflict."""
    fp = fingerprint(method, path, body)
    deadline = time.monotonic() + (WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        outcome = None
        if _try_lock(merchant_id, key):
            try:
                outcome = _claim_locked(merchant_id, key, method, path, fp)
            finally:
                if not isinstance(outcome, _Owned):
                    unlock(merchant_id, key)
        if isinstance(outcome, _Owned):
            return outcome.record
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise InProgress()
        time.sleep(POLL_SECONDS)


@dataclass
class _Owned:
    record: object


def _claim_locked(merchant_id, key, method, path, fp):
    """One attempt while holding the key's lock: _Owned, a Replay, or None (wait and retry)."""
    from core.models import IdempotencyRecord as Record

    owner_alive = connection.vendor != "postgresql"  # on PostgreSQL our lock proves the owner gone
    for _attempt in range(5):
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
            return _Owned(record)
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
        if owner_alive and existing.locked_at >= now - STALE_AFTER:
            return None
        taken = Record.objects.filter(pk=existing.pk, status=Record.Status.IN_PROGRESS,
                                      locked_at=existing.locked_at).update(locked_at=now)
        if taken:
            existing.locked_at = now
            return _Owned(existing)
    return None


def finish(record, *, status: int, body) -> None:
    """Store a 2xx response for replay; release the key after any other outcome."""
    from core.models import IdempotencyRecord as Record

    try:
        if 200 <= status < 300:
            Record.objects.filter(pk=record.pk).update(
                status=Record.Status.COMPLETED, response_status=status, response_body=body,
                completed_at=timezone.now())
        else:
            Record.objects.filter(pk=record.pk, status=Record.Status.IN_PROGRESS).delete()
    finally:
        unlock(record.merchant_id, record.key)
