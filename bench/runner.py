"""The order of a benchmark run.

`main(options)` is what `manage.py bench` calls. Django's settings are fixed when the process
starts, so the run itself happens in a child process (`manage.py bench` again, marked by
JIANGUAN_BENCH_INNER) whose environment names the benchmark's own database; the parent only
creates that database (a throwaway cluster, or a fresh database beside DATABASE_URL) and
removes it afterwards, whatever happens.

The child, with production-shaped settings (debug off, no SSL redirect on 127.0.0.1, the API
rate limit out of the way):
1. migrates the empty database (bench.schema: from a cached dump of the migrated schema when
   no migration has changed since the last run);
2. loads the merchant (bench.loaders) and proves it;
3-5. measures, in interleaved rounds (bench.measure): pgbench's TPC-B at 1 and 8 clients (the
   reference); payments through the service layer — cold, hot seller, escrow — at 1 and 8
   worker processes; the signed API through gunicorn with 8 client processes. The hot seller's
   available account is marked hot by the loader (bench.loaders._make_hot), so that figure
   measures the delta path (credits without a row lock), not one row lock every payment waits for;
6. rolls up the hot balances and proves the merchant again (total = sum of parts after all
   that concurrency);
7. times the statement import and end of day (recon_timers.py);
8. prints the table (bench.report) and writes the JSON.
A part that can't run (pgbench missing, a helper not there) is reported as "not available";
the others still run. A CHECKPOINT before each measurement keeps one run's dirty pages from
landing on the next one's clock."""
import datetime
import os
import platform
import secrets
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field

from . import cluster, report
from .measure import Gunicorn, measure

INNER = "JIANGUAN_BENCH_INNER"
PGBENCH_URL = "JIANGUAN_BENCH_PGBENCH_URL"
PGBIN = "JIANGUAN_BENCH_PGBIN"
STARTED_CLUSTER = "JIANGUAN_BENCH_STARTED_CLUSTER"


@dataclass
class Sizes:
    members: int
    postings: int
    seconds: int
    pgbench_scale: int
    statement_lines: int
    eod_orders: int
    rounds: int  # each figure's `seconds`, split into interleaved rounds (bench.measure)

    @classmethod
    def for_run(cls, quick: bool, **overrides) -> "Sizes":
        sizes = (cls(members=500, postings=20_000, seconds=5, pgbench_scale=1, statement_lines=10_000,
                     eod_orders=10_000, rounds=1) if quick else
                 cls(members=10_000, postings=1_000_000, seconds=30, pgbench_scale=10, statement_lines=100_000,
                     eod_orders=1_000_000, rounds=3))
        for name, value in overrides.items():
            if value is not None:
                setattr(sizes, name, value)
        return sizes


@dataclass
class Options:
    quick: bool = False
    json_path: str | None = None
    in_place: bool = False
    overrides: dict = field(default_factory=dict)

    @property
    def sizes(self) -> Sizes:
        return Sizes.for_run(self.quick, **self.overrides)

    def argv(self) -> list[str]:
        args = ["--quick"] if self.quick else []
        if self.json_path:
            args += ["--json", os.path.abspath(self.json_path)]
        for name, value in self.overrides.items():
            if value is not None:
                args += [f"--{name.replace('_', '-')}", str(value)]
        return args


def log(message: str):
    print(message, flush=True)


# --- the parent: a database for the run ---------------------------------------------------------

def main(options: Options) -> int:
    if options.in_place:
        return run(options, in_place=True)
    if os.environ.get(INNER):
        return run(options, in_place=False)
    url = os.environ.get("DATABASE_URL")
    dbs = cluster.fresh_databases(url, log=log) if cluster.is_postgres_url(url) else cluster.throwaway_cluster(log=log)
    try:
        env = {**os.environ, **bench_env(dbs.app_url), INNER: "1", PGBENCH_URL: dbs.pgbench_url,
               PGBIN: dbs.bindir or "", STARTED_CLUSTER: "1" if dbs.started_cluster else ""}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        manage = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "manage.py")
        return subprocess.run([sys.executable, manage, "bench", *options.argv()], env=env).returncode
    finally:
        dbs.close()


def bench_env(database_url: str) -> dict[str, str]:
    """The environment of the run and of every process it starts: production-shaped settings
    (debug off: no query log, real error handling) pointing at the benchmark's database."""
    from cryptography.fernet import Fernet

    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "JIANGUAN_FIELD_KEYS": os.environ.get("JIANGUAN_FIELD_KEYS") or Fernet.generate_key().decode(),
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "600",  # persistent connections, as in production
        "DJANGO_LOG_LEVEL": "ERROR",  # 4xx answers (the readiness probe's 404) are not news here
        "JIANGUAN_API_RATE": "100000000/min",  # measure the API, not its rate limit
        "CELERY_BROKER_URL": "",  # tasks eager: nothing in a payment waits for a broker
        "CACHE_URL": "locmemcache://",
    }


# --- the child: the run itself ------------------------------------------------------------------

def run(options: Options, *, in_place: bool) -> int:
    from django.db import connection

    sizes = options.sizes
    if connection.vendor != "postgresql":
        log("bench: the benchmark needs PostgreSQL")
        return 2
    started = time.monotonic()
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": options.quick, "sizes": vars(sizes), "machine": machine(), "timings": {},
    }
    timings = results["timings"]
    if in_place:
        child_env = bench_env(database_url(connection.settings_dict))
    else:
        keys = set(bench_env(""))
        child_env = {k: v for k, v in os.environ.items() if k in keys}
    child_env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if in_place:
        # The rows already in the database were encrypted under this process's settings: the
        # children must decrypt with the same keys.
        child_env.update(same_keys())
    cleanup = []
    try:
        if not in_place:
            t = time.monotonic()
            from .schema import migrate

            migrate(log=log)
            timings["migrate"] = round(time.monotonic() - t, 1)
        results["postgres"] = postgres_settings()
        pgbench_url, bindir = os.environ.get(PGBENCH_URL), os.environ.get(PGBIN) or None
        if in_place:
            dbs = cluster.fresh_databases(database_url(connection.settings_dict), log=log)
            cleanup.append(dbs.close)
            pgbench_url = dbs.pgbench_url

        # The payment workers and gunicorn set Django up while the merchant loads (nothing is
        # measured meanwhile); they wait for it before the first measurement.
        from . import api
        from .workers import WorkerPool

        log(f"bench: starting 8 payment worker processes and gunicorn ({api.gunicorn_workers()} workers)")
        pool = WorkerPool(size=8, env=child_env)
        cleanup.append(pool.close)
        gunicorn = Gunicorn(child_env, log)
        cleanup.append(gunicorn.stop)

        t = time.monotonic()
        log(f"bench: loading a merchant: {sizes.members:,} members, {sizes.postings:,} postings")
        from . import loaders

        loaded = loaders.load_merchant(members=sizes.members, postings=sizes.postings, log=log)
        loaders.drop_scratch_tables()
        results["load"] = {"members": loaded.members, "entries": loaded.entries, "postings": loaded.postings,
                           "seconds": round(loaded.seconds, 1), "proof_ok": loaded.proof_ok,
                           "timings": {k: round(v, 1) for k, v in loaded.timings.items()}}
        timings["load"] = round(time.monotonic() - t, 1)

        t = time.monotonic()
        results.update(measure(pool=pool, gunicorn=gunicorn, loaded=loaded, sizes=sizes, pgbench_url=pgbench_url,
                               bindir=bindir, own_url=_own_url(), log=log, checkpoint=checkpoint, failed=_failed))
        pool.close()
        gunicorn.stop()
        timings["measurements"] = round(time.monotonic() - t, 1)

        t = time.monotonic()
        results["proof_after"] = prove_after(loaded)
        timings["proof_after"] = round(time.monotonic() - t, 1)

        t = time.monotonic()
        results["import"], results["eod"] = measure_reconciliation(child_env, sizes)
        results["import_xlsx"] = measure_xlsx_import(child_env, sizes)
        timings["reconciliation"] = round(time.monotonic() - t, 1)
    finally:
        for fn in reversed(cleanup):
            fn()
    timings["total"] = round(time.monotonic() - started, 1)
    results["machine"]["load_average_end"] = _loadavg()
    rows = report.build_rows(results)
    log("")
    log(report.markdown(results, rows))
    log("")
    log("Phases (s): " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    if options.json_path:
        report.write_json(options.json_path, results, rows)
        log(f"bench: wrote {options.json_path}")
    return 0


def same_keys() -> dict[str, str]:
    import base64
    import hashlib

    from django.conf import settings

    keys = list(settings.JIANGUAN_FIELD_KEYS)
    if not keys:  # core.crypto derives the debug key from SECRET_KEY the same way
        keys = [base64.urlsafe_b64encode(hashlib.sha256(("field-key:" + settings.SECRET_KEY).encode())
                                         .digest()).decode()]
    return {"JIANGUAN_FIELD_KEYS": ",".join(keys), "DJANGO_SECRET_KEY": settings.SECRET_KEY}


def database_url(settings: dict) -> str:
    from urllib.parse import quote

    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings['NAME']}"


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "platform": platform.platform(terse=True), "python": platform.python_version(),
            "load_average_start": _loadavg()}
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        info["memory_gb"] = round(kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        info["memory_gb"] = None
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    return info


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def postgres_settings() -> dict:
    from django.db import connection

    values = {}
    with connection.cursor() as cursor:
        for name in cluster.REPORTED_SETTINGS:
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    values["throwaway_cluster"] = bool(os.environ.get(STARTED_CLUSTER))
    return values


def checkpoint():
    """Write out what the previous step dirtied, so it isn't paid during the next measurement."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - needs superuser (or pg_checkpoint): without it, run on
        pass


def _failed(error: BaseException) -> dict:
    """A part that could not run: its row says "not available" and the last line of why."""
    text = str(error).strip()
    last = text.splitlines()[-1] if text else type(error).__name__
    return {"error": last[:300], "traceback": text if "Traceback" in text else traceback.format_exc(limit=6)}


def _own_url() -> str:
    from django.db import connection

    return database_url(connection.settings_dict)


def prove_after(loaded) -> dict:
    """After every concurrent payment of the run: fold the hot deltas in and prove again."""
    from ledger.models import Account, Posting
    from ledger.posting import roll_up_hot_balances
    from ledger.selectors import prove_merchant
    from merchants.models import Merchant

    t = time.monotonic()
    merchant = Merchant.objects.get(pk=loaded.merchant_id)
    roll_up_hot_balances(list(Account.objects.filter(merchant=merchant, is_hot=True).values_list("pk", flat=True)))
    proof = prove_merchant(merchant)
    return {"ok": proof.ok, "seconds": time.monotonic() - t, "supervision": str(proof.supervision_balance),
            "virtual": str(proof.virtual_total), "mismatched_accounts": len(proof.mismatched_accounts),
            "postings": Posting.objects.filter(merchant=merchant).count()}


def measure_xlsx_import(env: dict, sizes: Sizes) -> dict:
    from . import recon

    why = recon.available()
    if why:
        return {"error": why}
    log(f"bench: statement import of {sizes.statement_lines:,} lines from an .xlsx workbook")
    try:
        return recon.run_xlsx(lines=sizes.statement_lines, env=env)
    except Exception as error:  # noqa: BLE001
        return _failed(error)


def measure_reconciliation(env: dict, sizes: Sizes) -> tuple[dict, dict]:
    from . import recon

    why = recon.available()
    if why:
        return {"error": why}, {"error": why}
    checkpoint()
    log(f"bench: statement import of {sizes.statement_lines:,} lines, then end of day of "
        f"{sizes.eod_orders:,} orders vs {sizes.eod_orders:,} entries")
    try:
        return recon.run_both(lines=sizes.statement_lines, orders=sizes.eod_orders, env=env)
    except Exception as error:  # noqa: BLE001
        return _failed(error), _failed(error)
