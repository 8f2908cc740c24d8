"""Real faults for the fault tests: a second PostgreSQL session that holds locks or cuts
other sessions off, worker processes that can be SIGKILLed mid-transaction, threads released
together, and the checks that nothing was left half-booked.

Nothing here patches the application: a job is stopped where it really waits (a row or
advisory lock the test holds), and killed or disconnected there."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q

ROOT = Path(settings.BASE_DIR)
WAIT_SECONDS = 60


# --- a second session, outside Django --------------------------------------------------------

def conninfo() -> dict:
    s = connection.settings_dict
    info = {"dbname": s["NAME"], "user": s["USER"], "host": s["HOST"] or None, "port": s["PORT"] or None,
            "password": s["PASSWORD"] or None}
    return {k: v for k, v in info.items() if v is not None}


def database_url() -> str:
    """The test database as a DATABASE_URL for a worker process (config.settings.base)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "localhost", safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"


class Session:
    """A plain psycopg session on the test database (a second client, as another worker)."""

    def __init__(self, autocommit=False):
        self.conn = psycopg.connect(**conninfo(), autocommit=autocommit)

    def execute(self, sql, params=()):
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def one(self, sql, params=()):
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def close(self):
        self.conn.close()


def every_lane_of(chain: int):
    """The SQL and parameters that hold every lane of an audit chain (core.audit), for `holding`:
    the next audit record of that merchant waits, whatever its object."""
    from core.audit import LANES, chain_lock_ids

    keys = [chain_lock_ids(chain, lane)[1] for lane in range(LANES)]
    return "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::int[]) AS k", [chain_lock_ids(chain)[0], keys]


@contextmanager
def holding(sql, params=()):
    """Hold whatever locks `sql` takes (SELECT ... FOR UPDATE, pg_advisory_xact_lock) in an open
    transaction of a second session; yields the session; rolls back (releases) at the end."""
    session = Session()
    try:
        session.execute(sql, params)
        yield session
    finally:
        try:
            session.conn.rollback()
        finally:
            session.close()


def activity(pid: int):
    """(state, wait_event_type, wait_event, has written) of a backend, or None once it is gone."""
    with _autocommit() as s:
        return s.one("SELECT state, wait_event_type, wait_event, backend_xid IS NOT NULL FROM pg_stat_activity "
                     "WHERE pid = %s", [pid])


@contextmanager
def _autocommit():
    s = Session(autocommit=True)
    try:
        yield s
    finally:
        s.close()


def wait_until_waiting_on_lock(pid: int, *, process=None, timeout=WAIT_SECONDS):
    """Block until backend `pid` waits on a lock (pg_stat_activity), having already written
    (it has a transaction id). Fails early if the worker process ended instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the worker ended before blocking: rc={process.returncode}\n"
                                 f"{process.stderr.read() if process.stderr else ''}")
        row = activity(pid)
        if row and row[1] == "Lock":
            return row
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited on a lock: {activity(pid)}")


def locks_held(pid: int) -> set[str]:
    """Tables the backend has written in its open transaction (RowExclusiveLock)."""
    with _autocommit() as s:
        rows = s.execute("SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                         "WHERE l.pid = %s AND l.mode = 'RowExclusiveLock' AND l.granted AND c.relkind = 'r'", [pid])
    return {r[0] for r in rows}


def wait_until_gone(pid: int, timeout=WAIT_SECONDS):
    """Wait for a backend whose client died to notice and end (rolling back its transaction)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if activity(pid) is None:
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} is still there: {activity(pid)}")


def terminate(pid: int) -> bool:
    """Cut a backend off, as a failover, a network cut or an operator's pg_terminate_backend would."""
    with _autocommit() as s:
        return bool(s.one("SELECT pg_terminate_backend(%s)", [pid])[0])


def backend_pid() -> int:
    """This thread's own Django connection's backend pid."""
    connection.ensure_connection()
    return connection.connection.info.backend_pid


# --- a worker process --------------------------------------------------------------------------

class Worker:
    """`python -m tests.faults.worker JOB ARGS` against the test database: a separate OS process
    with its own connection, which prints its backend pid and then runs the job."""

    def __init__(self, job: str, **args):
        env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.worker", job, json.dumps(args)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self._read_backend_pid()

    def _read_backend_pid(self) -> int:
        line = [None]
        reader = threading.Thread(target=lambda: line.__setitem__(0, self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(WAIT_SECONDS)
        if not line[0] or not line[0].startswith("BACKEND "):
            self.process.kill()
            raise AssertionError(f"the worker did not start: {line[0]!r}\n{self.process.stderr.read()}")
        return int(line[0].split()[1])

    def kill(self):
        """SIGKILL: no cleanup, no rollback from the client, no finally blocks."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(WAIT_SECONDS)
        assert self.process.returncode == -signal.SIGKILL

    def finish(self) -> dict:
        out, err = self.process.communicate(timeout=WAIT_SECONDS)
        assert self.process.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


def kill_while_blocked(worker: Worker, lock: Session, *, wrote: set[str]):
    """The worker waits on the lock `lock` holds, having written to the tables `wrote`: SIGKILL
    it, release the lock, and wait for its backend to end (its transaction rolled back)."""
    state = wait_until_waiting_on_lock(worker.pid, process=worker.process)
    assert state[3], "the worker had written nothing yet: the kill would prove nothing"
    held = locks_held(worker.pid)
    assert wrote <= held, f"expected writes to {wrote}, the worker had written to {held}"
    worker.kill()
    # PostgreSQL notices the dead client when the backend next talks to it: after the lock.
    lock.conn.rollback()
    wait_until_gone(worker.pid)
    return held


# --- threads released together -----------------------------------------------------------------

def together(*fns, timeout=WAIT_SECONDS):
    """Run each fn in its own thread (own connection), released at once; [(result, error)]."""
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = (fn(), None)
        except Exception as error:  # noqa: BLE001 - returned to the test
            results[i] = (None, error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def ok(results):
    errors = [e for _, e in results if e is not None]
    assert not errors, errors
    return [r for r, _ in results]


# --- nothing half-booked -------------------------------------------------------------------------

def assert_books_whole(merchant):
    """No partial rows for the merchant, total = sum of parts, and verify_integrity passes."""
    from ledger.models import JournalEntry, Payment
    from ledger.selectors import prove_merchant
    from reconciliation.models import EodRun, StatementBatch, StatementLine

    assert not JournalEntry.objects.filter(merchant=merchant).annotate(n=Count("postings")).filter(n=0).exists(), \
        "an entry without postings"
    assert not Payment.objects.filter(merchant=merchant, entry__isnull=True).exists(), "a payment without its entry"
    assert not StatementBatch.objects.filter(merchant=merchant).exclude(
        status__in=(StatementBatch.Status.POSTED, StatementBatch.Status.REFUSED)).exists(), "half an import"
    assert not StatementLine.objects.filter(merchant=merchant).filter(
        Q(status=StatementLine.Status.UNMATCHED, suspense_entry__isnull=True, amount__gt=0)
        | Q(status=StatementLine.Status.POSTED, entry__isnull=True)).exists(), "a line without its outcome"
    assert not EodRun.objects.filter(merchant=merchant).filter(
        Q(status=EodRun.Status.RUNNING) | Q(finished_at__isnull=True)).exists(), "half an end-of-day run"
    proof = prove_merchant(merchant)
    assert proof.ok, proof
    call_command("verify_integrity", merchant=merchant.code, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("verify_integrity", stdout=open(os.devnull, "w"))  # noqa: SIM115


# --- a business day to run end of day on -----------------------------------------------------------

def eod_day_books(day):
    """A merchant whose `day` holds a statement-proven deposit of 1000.00 and two payments, and
    an order file that forgot one of them (P-2): end of day finds one difference."""
    from ledger.services import deposits
    from reconciliation.services.imports import statement_import
    from reconciliation.services.orders import order_file_create
    from tests import factories as f
    from tests.reconciliation.builders import english, payment

    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="1000.00",
                                        order_no="D-1", method="offline_transfer")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR1", day.isoformat(), "1000.00", "Zhang", "1", "B", deposit.payment_code, "1000.00")]))
    payment(merchant, buyer, seller, "300.00", "P-1", day)
    payment(merchant, buyer, seller, "200.00", "P-2", day)
    order_file_create(merchant=merchant, actor=None, business_date=day, orders=[
        {"order_no": "D-1", "type": "deposit", "amount": "1000.00", "payee_user_id": "buyer"},
        {"order_no": "P-1", "type": "payment", "amount": "300.00", "payer_user_id": "buyer", "payee_user_id": "seller"}])
    return merchant


def in_thread(fn):
    """Run fn(outcome) in a thread with its own connection; returns (thread, outcome): the
    outcome dict gets "pid" (the thread's backend) at once, then "result" or "error"."""
    outcome = {}

    def run():
        from django.db import connection

        try:
            outcome["pid"] = backend_pid()
            outcome["result"] = fn(outcome)
        except Exception as error:  # noqa: BLE001 - asserted on by the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome
