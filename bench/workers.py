"""Payments through the service layer, in worker processes.

Each worker is its own process (spawned, so it runs django.setup() itself and holds its own
database connection; the GIL of one process never caps the others). Workers warm up, wait for
a common start time, then call the services the API calls back to back until the measurement
window closes. Each records the latency of every call and the errors it met, classified so
that a deadlock or a serialization failure reaching the caller is counted, never hidden.

The scenarios:
- cold: `payment_create` (direct) between random member pairs, with a platform fee;
- cold_python: the same through the Python posting engine (JIANGUAN_BOOK_IN_DATABASE off), as
  payments were booked before the database's booking function: the before of the same run;
- hot: the same, every payment to one seller, whose available account is hot (bench.loaders);
- hold_release: a guaranteed payment held (`payment_create`, mode guaranteed: payer → escrow)
  and, a few calls later, released in full (`releases.payment_release`: escrow → seller and
  fee income). Each call books one movement, a hold or a release, and counts as one
  transaction: the figure is movements per second."""
import collections
import math
import multiprocessing
import os
import random
import time
from dataclasses import dataclass, field

SCENARIOS = {
    # name: (mode, every payment pays one seller)
    "cold": ("direct", False),
    "cold_python": ("direct", False),
    "hot": ("direct", True),
    "hold_release": ("guaranteed", False),
}
WARM_UP_PAYMENTS = 3
# hold_release: how many held payments a worker keeps in escrow before each call releases the
# oldest; from then on the calls alternate, a release and a hold.
HELD_BACKLOG = 4
START_DELAY = 0.5  # seconds between "everyone is ready" and the window opening
DEADLOCK, SERIALIZATION = "deadlock", "serialization_failure"


@dataclass
class Measurement:
    """One measured window: throughput, latency percentiles and what went wrong."""

    ok: int = 0
    seconds: float = 0.0
    latencies_ms: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # kind -> count
    error_samples: dict = field(default_factory=dict)  # kind -> one message
    workers: int = 0
    calls: int = 0
    cpu_client_s: float = 0.0  # CPU of the calling processes (Python) during the window
    cpu_server_s: float | None = None  # CPU of their PostgreSQL backends, when visible
    kinds: dict = field(default_factory=dict)  # kind -> latencies, when a call says what it booked

    @property
    def tps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        k = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))  # nearest rank
        return ordered[k]

    def absorb(self, other: "Measurement"):
        """Add another window of the same figure (an interleaved round)."""
        self.ok += other.ok
        self.calls += other.calls
        self.seconds += other.seconds
        self.latencies_ms += other.latencies_ms
        for kind, latencies in other.kinds.items():
            self.kinds.setdefault(kind, []).extend(latencies)
        self.cpu_client_s += other.cpu_client_s
        if other.cpu_server_s is not None:
            self.cpu_server_s = (self.cpu_server_s or 0.0) + other.cpu_server_s
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        for kind, message in other.error_samples.items():
            self.error_samples.setdefault(kind, message)

    def merge(self, other: dict):
        self.ok += other["ok"]
        self.calls += other["ok"] + sum(other["errors"].values())
        if other.get("cpu_client_s") is not None:
            self.cpu_client_s += other["cpu_client_s"]
        if other.get("cpu_server_s") is not None:
            self.cpu_server_s = (self.cpu_server_s or 0.0) + other["cpu_server_s"]
        self.latencies_ms += other["latencies_ms"]
        for kind, latencies in other.get("kinds", {}).items():
            self.kinds.setdefault(kind, []).extend(latencies)
        for kind, n in other["errors"].items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        for kind, message in other["error_samples"].items():
            self.error_samples.setdefault(kind, message)

    def summary(self) -> dict:
        return {"ok": self.ok, "seconds": self.seconds, "tps": self.tps, "p50_ms": self.percentile(50),
                "p99_ms": self.percentile(99), "errors": dict(self.errors), "error_samples": dict(self.error_samples),
                "workers": self.workers,
                "cpu_client_ms_per_call": 1000 * self.cpu_client_s / self.calls if self.calls and self.cpu_client_s
                else None,
                "cpu_server_ms_per_call": 1000 * self.cpu_server_s / self.calls if self.calls and self.cpu_server_s
                else None,
                **({"by_kind": self.by_kind()} if self.kinds else {})}

    def by_kind(self) -> dict:
        """Per kind of call (hold, release): how many per second and their latency percentiles."""
        out = {}
        for kind, latencies in self.kinds.items():
            part = Measurement(ok=len(latencies), seconds=self.seconds, latencies_ms=latencies)
            out[kind] = {"ok": part.ok, "per_s": part.tps, "p50_ms": part.percentile(50),
                         "p99_ms": part.percentile(99)}
        return out


def classify(error: BaseException) -> str:
    """The kind of a failure: PostgreSQL's deadlock and serialization failures by SQLSTATE
    (Django wraps psycopg's errors; the original is the cause), application errors by code."""
    seen, visited = error, set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        sqlstate = getattr(seen, "sqlstate", None) or getattr(getattr(seen, "diag", None), "sqlstate", None)
        if sqlstate == "40P01":
            return DEADLOCK
        if sqlstate == "40001":
            return SERIALIZATION
        seen = seen.__cause__ or seen.__context__
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    return type(error).__name__


class WorkerPool:
    """`size` payment worker processes, started once and reused by every scenario: a process
    start and django.setup() cost seconds on a small machine, which a quick run can't spend
    six times over. Creating the pool launches them (they set Django up while the merchant
    loads), `setup()` tells them the merchant; each scenario runs on the first `workers`."""

    def __init__(self, *, size: int, env: dict):
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.results = ctx.Queue(), ctx.Queue()
        self.start_at = ctx.Value("d", 0.0)
        self.commands = [ctx.Queue() for _ in range(size)]
        self.procs = [ctx.Process(target=payment_worker, args=({"env": env, "index": i}, self.commands[i], self.ready,
                                                               self.start_at, self.results), daemon=True)
                      for i in range(size)]
        for p in self.procs:
            p.start()

    def setup(self, *, merchant_id: int, member_ids: list, seller_id: int):
        for queue in self.commands:
            queue.put({"merchant_id": merchant_id, "member_ids": member_ids, "seller_id": seller_id})
        for _ in self.procs:
            message = self.ready.get(timeout=600)
            if message != "ready":
                raise RuntimeError(f"a payment worker failed to start: {message}")

    def run(self, *, scenario: str, workers: int, seconds: float, tag: str) -> Measurement:
        if workers > len(self.procs):
            raise ValueError(f"the pool has {len(self.procs)} workers, not {workers}")
        for i in range(workers):
            self.commands[i].put({"scenario": scenario, "seconds": seconds, "tag": tag})
        for _ in range(workers):  # each has warmed up for this scenario
            message = self.ready.get(timeout=300)
            if message != "ready":
                raise RuntimeError(f"a payment worker failed: {message}")
        self.start_at.value = time.time() + START_DELAY
        for i in range(workers):
            self.commands[i].put("go")
        measurement = Measurement(seconds=seconds, workers=workers)
        for _ in range(workers):
            result = self.results.get(timeout=seconds + 300)
            if "fatal" in result:
                raise RuntimeError(f"a payment worker failed: {result['fatal']}")
            measurement.merge(result)
        return measurement

    def close(self):
        if not self.procs:
            return
        for queue in self.commands:
            queue.put(None)
        for p in self.procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
        self.procs = []


def payment_worker(conf: dict, commands, ready, start_at, results):
    """The body of one worker process: set up once, then run the scenarios it is sent."""
    try:
        os.environ.update(conf["env"])
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from core.actors import Actor
        from ledger.services.payments import payment_create
        from ledger.services.releases import payment_release
        from merchants.models import Member, Merchant

        setup = commands.get()
        if setup is None:
            return
        merchant = Merchant.objects.get(pk=setup["merchant_id"])
        members = list(Member.objects.filter(pk__in=setup["member_ids"]).only("id", "merchant_id", "status",
                                                                               "user_id"))
        seller = next(m for m in members if m.pk == setup["seller_id"])
        actor = Actor.platform(merchant.app_id)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        ready.put(f"{type(error).__name__}: {error}")
        return
    ready.put("ready")
    while True:
        command = commands.get()
        if command is None:
            connection.close()
            return
        try:
            mode, hot = SCENARIOS[command["scenario"]]
            settings.JIANGUAN["BOOK_IN_DATABASE"] = command["scenario"] != "cold_python"
            rng = random.Random(f"{command['tag']}-{conf['index']}")
            prefix = f"{command['tag']}-{conf['index']}-"
            counter = iter(range(10**9))

            def pay():
                payer = rng.choice(members)
                payee = seller if hot else rng.choice(members)
                while payee.pk == payer.pk:
                    payer = rng.choice(members)
                cents = rng.randint(1000, 9999)
                fee = max(10, round(cents / 100))
                amount = f"{cents // 100}.{cents % 100:02d}"
                net = cents - fee
                payment, _created = payment_create(
                    merchant=merchant, actor=actor, payer=payer, amount=amount, order_no=f"{prefix}{next(counter)}",
                    mode=mode, splits=[(payee, f"{net // 100}.{net % 100:02d}")],
                    platform_fee=f"{fee // 100}.{fee % 100:02d}", description="bench")
                return payment

            held = collections.deque()

            def hold_or_release():
                if len(held) < HELD_BACKLOG:
                    held.append(pay())
                    return "hold"
                # Taken off the queue first: a release that fails leaves its payment held
                # (counted among the errors), never released twice.
                payment_release(payment=held.popleft(), actor=actor)
                return "release"

            one = hold_or_release if command["scenario"] == "hold_release" else pay
            warm_up = WARM_UP_PAYMENTS + (HELD_BACKLOG if one is hold_or_release else 0)
            for _ in range(warm_up):
                one()
        except BaseException as error:  # noqa: BLE001
            ready.put(f"{type(error).__name__}: {error}")
            return
        ready.put("ready")
        if commands.get() != "go":
            return
        backend = backend_pid(connection)
        before = cpu_seconds(backend)
        result = measure(one, start_at.value, command["seconds"])
        after = cpu_seconds(backend)
        result["cpu_client_s"] = after[0] - before[0]
        result["cpu_server_s"] = (after[1] - before[1]) if None not in (after[1], before[1]) else None
        results.put(result)


def backend_pid(connection) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cpu_seconds(backend: int | None) -> tuple[float, float | None]:
    """(this process's CPU time, its PostgreSQL backend's CPU time when the server runs on this
    machine and /proc shows it): where a payment's cost goes, Python or the database."""
    server = None
    if backend:
        try:
            with open(f"/proc/{backend}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, ValueError, IndexError):
            server = None
    return time.process_time(), server


def measure(one, begin: float, seconds: float) -> dict:
    """Call `one` back to back from `begin` (wall clock, shared by every process) for `seconds`;
    a call that ends after the window closes is not counted. A call that returns a name (hold,
    release) has its latency also recorded under that name."""
    end = begin + seconds
    while time.time() < begin:
        time.sleep(0.001)
    result = {"ok": 0, "latencies_ms": [], "errors": {}, "error_samples": {}, "kinds": {}}
    while True:
        t0 = time.time()
        if t0 >= end:
            break
        try:
            kind = one()
        except Exception as error:  # noqa: BLE001 - every failure is counted by kind
            kind = classify(error)
            result["errors"][kind] = result["errors"].get(kind, 0) + 1
            result["error_samples"].setdefault(kind, str(error)[:300])
            continue
        t1 = time.time()
        if t1 <= end:
            result["ok"] += 1
            result["latencies_ms"].append((t1 - t0) * 1000)
            if isinstance(kind, str):
                result["kinds"].setdefault(kind, []).append((t1 - t0) * 1000)
    return result
