"""`make soak`: drive the running stack, break it midway, then prove nothing was lost or doubled.

1. 16 client threads (soak.traffic) for --duration seconds against gunicorn — only 127.0.0.1.
2. Midway — at 40 % of the window — one gunicorn worker is SIGKILLed (the master forks a
   replacement); at 50 % the Celery worker is SIGKILLed with its pool and started again.
   Requests in flight then fail at the transport level and are retried with the same
   Idempotency-Key; a key whose request died with its worker answers 409 in_progress until the
   server takes it over (stale after 120 s). At 60 % PostgreSQL itself is shut down with
   `pg_ctl stop -m immediate` (every backend killed, no checkpoint), left down for a few seconds
   and started again (crash recovery from the WAL): meanwhile the API answers 503
   database_unavailable with Retry-After, and the clients retry after it with the same key.
3. The clients finish their last operation (retries included), then soak.check compares their
   record with the database, `manage.py verify_integrity` runs, and `manage.py run_eod` runs
   for each business date the soak booked on.
Exit status 0 only with zero 5xx (503 database_unavailable with Retry-After excepted), zero
lost, zero double, zero unrecorded or mismatched, a passing verify_integrity and end of day, every
kill done and recovered from, requests answered again after the database restart, and Celery beat
still running."""
import json
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

from . import procs
from .prod import is_up
from .records import Stats
from .traffic import RETRY_BUDGET_SECONDS, SoakClient


def percentile(values: list, q: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def loopback_only(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1":
        raise procs.ProdError(f"the soak only drives http://127.0.0.1:<port>, not {url!r}")
    return url.rstrip("/")


class Chaos(threading.Thread):
    """Kills at fixed moments of the window; records what it did and whether the stack recovered."""

    def __init__(self, state: dict, started: float, duration: float, database: bool = True):
        super().__init__(name="soak-chaos", daemon=True)
        self.state, self.started, self.duration, self.database = state, started, duration, database
        self.events: list[dict] = []
        self.error: str | None = None
        self.database_killed_at: float | None = None  # time.monotonic() of the immediate shutdown
        self.database_started_at: float | None = None  # ... and of the start that followed it

    def at(self, fraction: float):
        delay = self.started + fraction * self.duration - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def run(self):
        try:
            self.at(0.4)
            self.kill_gunicorn_worker()
            self.at(0.5)
            self.kill_celery_worker()
            if self.database:
                self.at(DATABASE_CRASH_AT)
                self.crash_database()
        except Exception as error:  # noqa: BLE001 - reported: a kill that did not happen fails the run
            self.error = f"{type(error).__name__}: {error}"

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)

    def kill_celery_worker(self):
        old = self.state["services"]["worker"]["pid"]
        if not procs.alive(old):
            raise procs.ProdError("the Celery worker was not running before the kill")
        pool = procs.children(old)
        procs.kill_group(old, signal.SIGKILL)  # the worker and its pool processes, as the OOM killer would
        t = self.elapsed()
        deadline = time.monotonic() + 10
        while (procs.alive(old) or any(procs.alive(p) for p in pool)) and time.monotonic() < deadline:
            time.sleep(0.1)
        log_path = procs.run_dir() / "log" / "worker.log"
        self.worker_log_offset = log_path.stat().st_size if log_path.exists() else 0
        new = procs.start_worker(self.state)
        self.events.append({"what": "celery worker SIGKILL + restart", "at_s": t, "pid": old, "pool": pool,
                            "new_pid": new, "ready_after_s": round(self.elapsed() - t, 1)})

    def tasks_after_restart(self) -> int | None:
        """Tasks the restarted worker finished (beat keeps sending the hot-balance roll-up)."""
        if getattr(self, "worker_log_offset", None) is None:
            return None
        with open(procs.run_dir() / "log" / "worker.log", "rb") as fh:
            fh.seek(self.worker_log_offset)
            return fh.read().count(b" succeeded in ")

    def crash_database(self):
        """PostgreSQL's immediate shutdown (every backend killed, no checkpoint: what a power cut
        or an OOM kill of the postmaster leaves), down for a few seconds, then started again: the
        start replays the WAL (crash recovery). Clients meanwhile get 503 database_unavailable."""
        from bench.cluster import Cluster

        cluster = Cluster(**self.state["postgres"])
        if not cluster.options:
            raise procs.ProdError("the stack's PostgreSQL was started without saved options: `make prod-down` "
                                  "and `make prod-up` again")
        down_for = database_down_seconds(self.duration)
        cluster.crash()
        self.database_killed_at = time.monotonic()
        t = self.elapsed()
        time.sleep(down_for)
        restart = self.database_started_at = time.monotonic()
        cluster.start()
        back = time.monotonic()
        self.events.append({"what": "postgresql immediate shutdown + restart", "at_s": t,
                            "down_s": round(restart - self.database_killed_at, 1),
                            "recovery_s": round(back - restart, 1),
                            "accepting_after_s": round(back - self.database_killed_at, 1)})

    def kill_gunicorn_worker(self):
        master = self.state["services"]["gunicorn"]["pid"]
        workers = procs.children(master)
        if not workers:
            raise procs.ProdError("gunicorn has no workers to kill")
        victim = random.choice(workers)
        os.kill(victim, signal.SIGKILL)
        t = self.elapsed()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = procs.children(master)
            if victim not in now and len(now) >= len(workers):
                break
            time.sleep(0.1)
        else:
            raise procs.ProdError(f"gunicorn did not replace worker {victim} within 30 s")
        self.events.append({"what": "gunicorn worker SIGKILL", "at_s": t, "pid": victim,
                            "replaced_by": sorted(set(procs.children(master)) - set(workers)),
                            "respawned_after_s": round(self.elapsed() - t, 1)})


# The database's crash comes after the worker kills, late enough that the soak has booked a
# good deal and early enough that clients run on the restarted server for a while.
DATABASE_CRASH_AT = 0.6


def database_down_seconds(duration: float) -> float:
    """How long PostgreSQL stays down: 5 s in a full soak, less in CI's short one."""
    return min(5.0, max(1.0, duration * 0.1))


def first_answer_after(answered_at: list, moment: float, ok=("200", "201")) -> float | None:
    later = [t for t, status in answered_at if t > moment and status in ok]
    return min(later) if later else None


def manage(state: dict, *args) -> dict:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=procs.ROOT, env=procs.stack_env(state),
                          capture_output=True, text=True)
    return {"command": "manage.py " + " ".join(args), "exit": done.returncode,
            "output": (done.stdout + done.stderr).strip()[-2000:]}


def run(*, duration: float, clients: int, json_path: str | None, kills: bool, url: str | None, setup_django,
        database_crash: bool = True) -> int:
    state = procs.load_state()
    if not is_up(state):
        raise procs.ProdError(f"no running stack in {procs.run_dir()}: `make prod-up` first")
    base_url = loopback_only(url or state["base_url"])
    os.environ.update(state["env"])
    setup_django()
    from .check import check, last_entry_id

    seed = json.loads((procs.run_dir() / "seed.json").read_text())
    if not 1 <= clients <= len(seed["credit_buyers"]):
        raise procs.ProdError(f"--clients must be 1 to {len(seed['credit_buyers'])} (credit lines seeded)")
    tag = "s" + secrets.token_hex(3)
    before = last_entry_id(seed["merchant_id"])
    from django.db import connection

    connection.close()  # not held open over the window
    stats, ops, lock = Stats(), [], threading.Lock()
    crash_db = kills and database_crash
    print(f"soak {tag}: {clients} clients for {duration:.0f} s against {base_url}"
          f"{' (kills at 40 % and 50 %' if kills else ''}"
          f"{f', PostgreSQL immediate shutdown at {DATABASE_CRASH_AT:.0%}' if crash_db else ''}"
          f"{')' if kills else ''}", flush=True)
    started = time.monotonic()
    threads = [SoakClient(i, base_url=base_url, seed=seed, deadline=started + duration, stats=stats, ops=ops,
                          lock=lock, tag=tag) for i in range(clients)]
    for t in threads:
        t.start()
    chaos = Chaos(state, started, duration, database=crash_db) if kills else None
    if chaos:
        chaos.start()
    for t in threads:
        t.join(timeout=duration + RETRY_BUDGET_SECONDS + 120)
    if chaos:
        chaos.join(timeout=60)
    window = time.monotonic() - started
    stuck = [t.name for t in threads if t.is_alive()]
    fatal = {t.name: t.fatal for t in threads if t.fatal}

    findings = check(merchant_id=seed["merchant_id"], after_entry_id=before, ops=list(ops), tag=tag)
    connection.close()
    integrity = manage(state, "verify_integrity")
    eod = [manage(state, "run_eod", "--date", day, "--merchant", seed["merchant_code"])
           for day in findings["business_dates"]]

    requests_n = sum(stats.statuses.values())
    non_2xx = requests_n - stats.statuses.get("200", 0) - stats.statuses.get("201", 0)
    # 503 database_unavailable with Retry-After is the contract while PostgreSQL is down, not a
    # failure; every other 5xx (a 500, a 503 without Retry-After, a 502) is one.
    five_xx = sum(n for s, n in stats.statuses.items() if s.isdigit() and int(s) >= 500) - stats.unavailable
    # From the shutdown to the first success of a request answered after the start began (a
    # request whose work was done just before the shutdown may still be answered just after it).
    db_back = first_answer_after(stats.answered_at, chaos.database_started_at) \
        if chaos and chaos.database_started_at else None
    beat_alive = procs.alive(state["services"]["beat"]["pid"]) if "beat" in state.get("services", {}) else None
    by_kind = {}
    for op in ops:
        row = by_kind.setdefault(op.kind, {})
        row[op.outcome] = row.get(op.outcome, 0) + 1
    result = {
        "tag": tag, "base_url": base_url, "clients": clients, "duration_s": duration, "elapsed_s": round(window, 1),
        "requests": requests_n, "statuses": stats.statuses, "error_codes": stats.codes,
        "error_samples": stats.samples,
        "error_rate": round(non_2xx / requests_n, 5) if requests_n else None,
        "five_xx": five_xx,
        "unavailable_503": stats.unavailable,
        "unavailable_503_without_retry_after": stats.unavailable_without_retry_after,
        "operations_retried_after_503": sum(1 for op in ops if op.unavailable),
        "database_downtime_seen_by_clients_s": round(db_back - chaos.database_killed_at, 1) if db_back else None,
        "beat_alive_after": beat_alive,
        "transport_failures": stats.statuses.get("transport", 0) + stats.statuses.get("truncated", 0),
        "p50_ms": _round(percentile(stats.latencies_ms, 50)), "p99_ms": _round(percentile(stats.latencies_ms, 99)),
        "throughput_rps": round(requests_n / window, 1) if window else None,
        "operations": by_kind,
        "retried_operations": sum(1 for op in ops if op.retried),
        "retried_after_transport_failure": sum(1 for op in ops if op.transport_failures),
        "waited_for_in_progress_key": sum(1 for op in ops if op.in_progress),
        "unknown_outcome": sum(1 for op in ops if op.outcome == "unknown"),
        "journal_entries": findings["entries"],
        "lost": len(findings["lost"]), "double": len(findings["double"]),
        "unrecorded": len(findings["unrecorded"]), "mismatched": len(findings["mismatched"]),
        "findings": {k: findings[k][:50] for k in ("lost", "double", "unrecorded", "mismatched")},
        "kills": chaos.events if chaos else [], "kill_error": chaos.error if chaos else None,
        "worker_tasks_after_restart": chaos.tasks_after_restart() if chaos else None,
        "integrity_ok": integrity["exit"] == 0, "verify_integrity": integrity,
        "eod_ok": bool(eod) and all(r["exit"] == 0 for r in eod), "eod": eod,
        "client_failures": fatal, "stuck_clients": stuck,
    }
    problems = []
    if five_xx:
        problems.append(f"{five_xx} answers were 5xx")
    for key in ("lost", "double", "unrecorded", "mismatched"):
        if result[key]:
            problems.append(f"{result[key]} {key}")
    if not result["integrity_ok"]:
        problems.append("verify_integrity failed")
    if not result["eod_ok"]:
        problems.append("end of day failed")
    if stats.unavailable_without_retry_after:
        problems.append(f"{stats.unavailable_without_retry_after} answers were 503 without Retry-After")
    if crash_db and db_back is None:
        problems.append("no request succeeded after the database restart")
    if beat_alive is False:
        problems.append("Celery beat is no longer running")
    if kills and (chaos.error or len(chaos.events) != (3 if crash_db else 2)):
        problems.append(f"the kills did not all happen: {chaos.error}")
    if fatal or stuck:
        problems.append(f"clients failed: {sorted(fatal) + stuck}")
    if not requests_n:
        problems.append("no requests were made")
    result["passed"] = not problems
    result["problems"] = problems
    print_result(result)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(result, fh, indent=2, ensure_ascii=False, default=str)
    return 0 if result["passed"] else 1


def _round(value):
    return round(value, 1) if value is not None else None


def print_result(r: dict):
    print()
    print(f"soak {r['tag']}: {r['clients']} clients, {r['duration_s']:.0f} s of traffic ({r['elapsed_s']} s with "
          f"retries) against {r['base_url']}")
    print(f"  requests            {r['requests']}  ({r['throughput_rps']} /s)   statuses {r['statuses']}")
    print(f"  error rate          {100 * (r['error_rate'] or 0):.2f} %  (non-2xx answers and transport failures; "
          f"codes {r['error_codes']})")
    print(f"  5xx                 {r['five_xx']}  (besides {r['unavailable_503']} × 503 database_unavailable with "
          f"Retry-After, retried with the same key by {r['operations_retried_after_503']} operations)")
    print(f"  latency             p50 {r['p50_ms']} ms   p99 {r['p99_ms']} ms")
    print(f"  transport failures  {r['transport_failures']}  → operations retried with the same key: "
          f"{r['retried_operations']} (waited for an in-progress key: {r['waited_for_in_progress_key']}, "
          f"outcome unknown: {r['unknown_outcome']})")
    for kind, outcomes in sorted(r["operations"].items()):
        print(f"    {kind:<14} {outcomes}")
    for event in r["kills"]:
        print(f"  kill                {event}")
    if r["kills"]:
        print(f"  restarted worker    {r['worker_tasks_after_restart']} task(s) succeeded after the restart")
    if r["database_downtime_seen_by_clients_s"] is not None:
        print(f"  database downtime   {r['database_downtime_seen_by_clients_s']} s from the immediate shutdown to the "
              f"first successful answer; Celery beat alive after: {r['beat_alive_after']}")
    if r["kill_error"]:
        print(f"  kill error          {r['kill_error']}")
    print(f"  journal entries     {r['journal_entries']}")
    print(f"  lost                {r['lost']}")
    print(f"  double              {r['double']}")
    print(f"  unrecorded / mismatched  {r['unrecorded']} / {r['mismatched']}")
    for key in ("lost", "double", "unrecorded", "mismatched"):
        for line in r["findings"][key][:10]:
            print(f"    {key}: {line}")
    print(f"  verify_integrity    {'ok' if r['integrity_ok'] else 'FAILED'}: "
          f"{r['verify_integrity']['output'].splitlines()[-1] if r['verify_integrity']['output'] else ''}")
    for run in r["eod"]:
        print(f"  end of day          exit {run['exit']}: {run['output'].splitlines()[-1] if run['output'] else ''}")
    print(f"  RESULT              {'PASS' if r['passed'] else 'FAIL: ' + '; '.join(r['problems'])}")
