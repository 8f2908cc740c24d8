"""Retrying a whole transaction when PostgreSQL gives it up to resolve a conflict.

PostgreSQL aborts one of two transactions that deadlock (SQLSTATE 40P01) and, at REPEATABLE
READ or SERIALIZABLE, one that read a row another transaction changed and committed
(40001). Neither is the caller's fault and neither leaves a trace: the aborted transaction
booked nothing, so running the same block again from the start is correct — and it is the
only correct retry, because every statement of an aborted transaction is void.

`atomic_with_retry(fn, *args, **kwargs)` therefore runs `fn` in its own `transaction.atomic()`
and runs it again (at most `attempts` times in all, with a short jittered pause) when the
transaction fails with one of those two codes. Inside an outer atomic block it runs `fn` once
and lets the error propagate: the outer transaction is aborted as a whole and only its owner
can start it again. Any other error (a lost connection included — whether its COMMIT landed is
unknown) is never retried here; callers rely on their own idempotency for those."""
import logging
import random
import time

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

logger = logging.getLogger("jianguan.db")

DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
RETRYABLE_SQLSTATES = frozenset({DEADLOCK_DETECTED, SERIALIZATION_FAILURE})
DEFAULT_ATTEMPTS = 3
BASE_PAUSE_SECONDS = 0.02


def sqlstate_of(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps the driver's error as __cause__)."""
    for candidate in (error, getattr(error, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and sqlstate_of(error) in RETRYABLE_SQLSTATES


def atomic_with_retry(fn, *args, attempts: int = DEFAULT_ATTEMPTS, using: str = DEFAULT_DB_ALIAS,
                      pause: float = BASE_PAUSE_SECONDS, wrap: bool = True, **kwargs):
    """Run fn(*args, **kwargs) in one transaction; rerun it after a deadlock or serialization
    failure, at most `attempts` times in all. Returns what fn returns.

    `wrap=False` when fn is itself one `@transaction.atomic` service (its block is then the
    outermost one, so rerunning fn reruns the whole transaction, without a savepoint)."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if connections[using].in_atomic_block:
        # The outer block owns the transaction: a retry of only our part would run in an
        # aborted transaction. Run once; the error reaches whoever can start over.
        return fn(*args, **kwargs)
    for attempt in range(1, attempts + 1):
        try:
            if not wrap:
                return fn(*args, **kwargs)
            with transaction.atomic(using=using):
                return fn(*args, **kwargs)
        except OperationalError as error:
            if not is_retryable(error) or attempt == attempts:
                raise
            logger.warning("transaction %s failed with %s (attempt %d of %d); retrying",
                           getattr(fn, "__name__", fn), sqlstate_of(error), attempt, attempts)
            # Jitter: two transactions that collided once should not collide again in step.
            time.sleep(pause * attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
