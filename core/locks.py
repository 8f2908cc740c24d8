"""PostgreSQL advisory locks, named by one 64-bit id or a (namespace, key) pair of 32-bit ids.

Transaction locks end with the transaction; session locks outlive it and end when released
or when the connection closes — so a process that dies frees them, which is what makes them
useful as "the owner is still alive" markers (idempotency keys, import jobs). Off PostgreSQL
(the SQLite quick start, whose writers are serialised anyway) they do nothing and always succeed."""
from contextlib import contextmanager
from enum import IntEnum

from django.db import DatabaseError, connection


class Lock(IntEnum):
    """Namespaces of (namespace, key) advisory locks, one registry so that no two collide. Never
    renumber one: two processes of different versions would stop excluding each other."""

    IDEMPOTENCY_KEY = 0x4A47_0002  # key: a hash of (merchant, Idempotency-Key) — core.api.idempotency
    STATEMENT_IMPORT = 0x4A47_0101  # key: the merchant — one import per supervision account at a time
    END_OF_DAY = 0x4A47_0201  # key: the merchant — one end-of-day run per merchant at a time
    BACKGROUND_JOB = 0x4A47_0301  # key: the job — one delivery of a job's task runs at a time
    AUDIT_CHAIN = 0x4A47_0401  # key: a lane of a chain (core.audit.chain_lock_ids: chain × LANES + lane)
    PAYOUT_BUILD = 0x4A47_0501  # key: the merchant — one payout batch build per merchant at a time


def _call(function: str, ids) -> object:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({', '.join(['%s'] * len(ids))})", list(ids))
        return cursor.fetchone()[0]


def xact_lock(*ids: int) -> None:
    """Wait for the lock; held until the current transaction ends."""
    _call("pg_advisory_xact_lock", ids)


def try_session_lock(*ids: int) -> bool:
    """Take the lock if no other session holds it; keep it until `session_unlock`."""
    return bool(_call("pg_try_advisory_lock", ids))


def session_unlock(*ids: int) -> None:
    try:
        _call("pg_advisory_unlock", ids)
    except DatabaseError:
        pass  # the connection is gone, and its session locks with it


@contextmanager
def session_lock(*ids: int):
    """Wait for the lock and hold it for the block, across the block's own transactions."""
    _call("pg_advisory_lock", ids)
    try:
        yield
    finally:
        session_unlock(*ids)
