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
whitespace do not matter; a body that is not JSON is compared byte for byte.

Round trips and durable commits of a signed POST on PostgreSQL. The simple path above costs four
commits: the nonce (core.api.authentication), the claim, the booking, the finish. Two remain:
- the nonce and the claim are one statement (`claim_with_nonce`, the PL/pgSQL function of
  core.sql.api_claim; the signed-request authentication defers the nonce to it — see
  core.api.views.SignedAPIView — and records it on its own only when an earlier check refuses the
  request, so every signed request is still accepted once and a reused nonce still answers 401
  before anything else). This commit is needed before the booking: the claim must be durable and
  visible to other processes while the owner works, or a concurrent duplicate would not see it and
  would book again (the services' order-number idempotency would catch a payment, but the answer
  would be another one's), and a crashed owner would leave nothing to take over. It cannot join the
  booking's transaction either: the booking would then hold the key's row lock, and a duplicate
  would block on it rather than wait with a Retry-After;
- the booking, with the finish inside it (`complete_in_transaction`, used by views whose work is
  one service transaction, e.g. POST /payments): the answer is stored in the same transaction as
  the payment it answers, so it commits with it or not at all — a crash between the two can no
  longer leave a booked payment under an in-progress record (a retry would take it over and get
  the order's replay, 200 instead of the 201 the first request had). This commit is the work itself.
  The key's session lock is released after that commit (one more statement, no commit), never
  before: a duplicate that took the lock earlier would find the record still in progress and take
  it over.
Views that keep the simple finish (several transactions, or none) pay one more commit, as before.
SQLite (the quick start) keeps the two-step path: the nonce in authentication, then the claim."""
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
          wait_seconds: float | None = None, first=None):
    """Return the record this request now owns (holding the key's lock until `finish`), or a
    Replay; raise IdempotencyConflict. `first`: the outcome of a first attempt already made
    (FirstAttempt.outcome of claim_with_nonce)."""
    fp = fingerprint(method, path, body)
    deadline = time.monotonic() + (WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        outcome, first = (first, None) if first is not None else (_attempt(merchant_id, key, method, path, fp), None)
        if isinstance(outcome, _Owned):
            return outcome.record
        if isinstance(outcome, Replay):
            return outcome
        if isinstance(outcome, IdempotencyConflict):
            raise outcome
        if time.monotonic() >= deadline:
            raise InProgress()
        time.sleep(POLL_SECONDS)


@dataclass
class _Owned:
    record: object


class _Wait:
    """A live request owns the key: poll again."""


WAIT = _Wait()


def _attempt(merchant_id, key, method, path, fp):
    """One attempt: _Owned, a Replay or WAIT (raises IdempotencyConflict)."""
    if not _try_lock(merchant_id, key):
        return WAIT
    outcome = None
    try:
        outcome = _claim_locked(merchant_id, key, method, path, fp)
    finally:
        if not isinstance(outcome, _Owned):
            unlock(merchant_id, key)
    return WAIT if outcome is None else outcome


def _claim_locked(merchant_id, key, method, path, fp, *, found=None):
    """One attempt while holding the key's lock: _Owned, a Replay, or None (wait and retry).
    `found`: the record core_api_claim answered (inserted, or the existing one), for the first
    round."""
    from core.models import IdempotencyRecord as Record

    owner_alive = connection.vendor != "postgresql"  # on PostgreSQL our lock proves the owner gone
    for _attempt_no in range(5):
        now = timezone.now()
        if found is not None:
            existing, found = found, None
            if existing._state.adding:  # inserted by core_api_claim
                existing._state.adding = False
                return _Owned(existing)
        else:
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


# --- the nonce and the claim in one round trip (PostgreSQL) ---------------------------------

class NonceReused(Exception):
    """The signed request's nonce was already used within its window: nothing was claimed."""


@dataclass
class FirstAttempt:
    """What claim(first=...) goes on from: _Owned (the key's lock held), a Replay, an
    IdempotencyConflict to raise, or WAIT (the lock released in every case but _Owned)."""

    outcome: object

    @property
    def record(self):
        """The record this request owns, or None."""
        return self.outcome.record if isinstance(self.outcome, _Owned) else None


def _purge_nonces(window_start) -> None:
    """The dice consume_nonce rolls for a new nonce (core.api.authentication)."""
    from core.models import UsedNonce

    from . import authentication

    if random.random() < authentication.PURGE_PROBABILITY:
        UsedNonce.objects.filter(created_at__lt=window_start).delete()


def one_round_trip() -> bool:
    return connection.vendor == "postgresql"


def claim_with_nonce(*, nonce_scope: str, nonce: str, merchant_id: int, key: str, method: str, path: str,
                     body: bytes) -> FirstAttempt:
    """Record the nonce and make the claim's first attempt in one statement (core_api_claim);
    raise NonceReused (then nothing is claimed). A conflict is answered, not raised, so that the
    caller's remaining checks (throttling, the body) keep their precedence."""
    from core.models import IdempotencyRecord as Record

    from . import signing

    fp = fingerprint(method, path, body)
    now = timezone.now()
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                "SELECT * FROM core_api_claim(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [nonce_scope, nonce, now, now - timedelta(seconds=signing.NONCE_TTL_SECONDS),
                 *_lock_args(merchant_id, key), merchant_id, key, fp, method, path[:255]])
            (nonce_ok, locked, created, record_id, found_fp, status, response_status, response_body, created_at,
             locked_at) = cursor.fetchone()
        except BaseException:
            unlock(merchant_id, key)  # the session lock survives a failed statement
            raise
    if not nonce_ok:
        raise NonceReused()
    _purge_nonces(now - timedelta(seconds=signing.NONCE_TTL_SECONDS))
    if not locked:
        return FirstAttempt(WAIT)
    outcome = None
    try:
        found = None
        if record_id is not None:
            found = Record(id=record_id, merchant_id=merchant_id, key=key, fingerprint=found_fp, method=method,
                           path=path[:255], status=status, response_status=response_status,
                           response_body=None if response_body is None else json.loads(response_body),
                           created_at=created_at, locked_at=locked_at)
            found._state.adding = created
            if created and random.random() < PURGE_PROBABILITY:
                Record.objects.filter(created_at__lt=now - TTL).delete()
        outcome = _claim_locked(merchant_id, key, method, path, fp, found=found)
    except IdempotencyConflict as conflict:
        outcome = conflict
    finally:
        if not isinstance(outcome, _Owned):
            unlock(merchant_id, key)
    return FirstAttempt(WAIT if outcome is None else outcome)


def complete_in_transaction(record, *, status: int, body) -> None:
    """Store a 2xx response in the caller's transaction — the booking's own — so the answer commits
    with the work it answers (see above); once that commits, `finish` only releases the key."""
    from core.models import IdempotencyRecord as Record

    Record.objects.filter(pk=record.pk).update(status=Record.Status.COMPLETED, response_status=status,
                                               response_body=body, completed_at=timezone.now())
    transaction.on_commit(lambda: setattr(record, "completed_with_work", True))


def finish(record, *, status: int, body) -> None:
    """Store a 2xx response for replay; release the key after any other outcome."""
    from core.models import IdempotencyRecord as Record

    try:
        if getattr(record, "completed_with_work", False):
            pass  # stored by complete_in_transaction, committed with the work
        elif 200 <= status < 300:
            Record.objects.filter(pk=record.pk).update(
                status=Record.Status.COMPLETED, response_status=status, response_body=body,
                completed_at=timezone.now())
        else:
            Record.objects.filter(pk=record.pk, status=Record.Status.IN_PROGRESS).delete()
    finally:
        unlock(record.merchant_id, record.key)
