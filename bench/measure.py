"""The timed part of a run: pgbench, payments and the API, in interleaved rounds.

On a small machine that others share, one 30-second window can lose half its CPU to someone
else's test run, and a figure measured in that window is compared with one measured in a
quieter one. So each measurement's time is split into rounds (full run: 3 × 10 s) and the
rounds rotate through every figure — TPC-B at 1 and 8 clients, the plain-SQL ledger's payment
and transfer at 8 (bench.reference), each payment scenario at 1 and 8 workers, the API — so
that a noisy minute lands on all of them alike. A figure is the sum of its rounds:
transactions over seconds, latencies pooled, errors and CPU added up."""
import os
import secrets
import tempfile
import threading

from .sampler import WaitSampler, backend_pids, children_of, cpu_of, summarise
from .workers import SCENARIOS, Measurement

BATCH_SIZE = 100  # payments per request of the API batch figure


class _Figure:
    """One figure over its rounds, or the reason it could not be measured."""

    def __init__(self):
        self.measurement: Measurement | None = None
        self.samples: list = []
        self.serving_cpu = 0.0
        self.error: dict | None = None

    def add(self, m: Measurement, sampler: WaitSampler | None = None, serving_cpu: float | None = None):
        if self.measurement is None:
            self.measurement = Measurement(seconds=0.0, workers=m.workers)
        self.measurement.absorb(m)
        if sampler is not None:
            self.samples += sampler.samples
        if serving_cpu:
            self.serving_cpu += serving_cpu

    def result(self, **extra) -> dict:
        if self.error is not None:
            return self.error
        if self.measurement is None:
            return {"error": "not measured"}
        m = self.measurement
        out = {**m.summary(), "waits": summarise(self.samples), **extra}
        calls = m.calls
        if self.serving_cpu and calls:
            out["cpu_serving_ms_per_call"] = 1000 * self.serving_cpu / calls
        return out


class _Pgbench:
    def __init__(self):
        self.transactions = 0.0
        self.latency_weighted = 0.0
        self.seconds = 0.0
        self.failed = 0
        self.error: dict | None = None

    def add(self, result):
        self.transactions += result.tps * result.seconds
        self.latency_weighted += (result.latency_avg_ms or 0.0) * result.tps * result.seconds
        self.seconds += result.seconds
        self.failed += result.failed

    def result(self) -> dict:
        if self.error is not None:
            return self.error
        if not self.seconds:
            return {"error": "not measured"}
        tps = self.transactions / self.seconds
        return {"tps": tps, "latency_avg_ms": round(self.latency_weighted / self.transactions, 3)
                if self.transactions else None, "failed": self.failed, "seconds": self.seconds}


def measure(*, pool, gunicorn, loaded, sizes, pgbench_url, bindir, own_url: str, log, checkpoint, failed) -> dict:
    from . import api, pgbench
    from . import reference as plain_sql

    rounds = max(1, sizes.rounds)
    seconds = max(1, round(sizes.seconds / rounds))
    reference = {clients: _Pgbench() for clients in (1, 8)}
    ledger_sql = {script: plain_sql.Figure(script) for script in plain_sql.SCRIPTS}
    payments = {(scenario, workers): _Figure() for scenario in SCENARIOS for workers in (1, 8)}
    platform = _Figure()
    batches = _Figure()  # the same clients, each request a batch of BATCH_SIZE payments

    try:
        if not pgbench_url:
            raise pgbench.PgbenchUnavailable("no database for pgbench")
        log(f"bench: pgbench -i -s {sizes.pgbench_scale}")
        pgbench.initialise(pgbench_url, scale=sizes.pgbench_scale, bindir=bindir)
    except Exception as error:  # noqa: BLE001 - the rows say "not available" and why
        log(f"bench: pgbench not available: {error}")
        for figure in reference.values():
            figure.error = failed(error)
    try:
        if not pgbench_url:
            raise pgbench.PgbenchUnavailable("no database for pgbench")
        log(f"bench: the plain-SQL reference ledger, {sizes.members:,} accounts and a fee account")
        plain_sql.install(pgbench_url, accounts=sizes.members)
    except Exception as error:  # noqa: BLE001
        for figure in ledger_sql.values():
            figure.error = failed(error)
    try:
        pool.setup(merchant_id=loaded.merchant_id, member_ids=loaded.member_ids, seller_id=loaded.seller_id)
    except Exception as error:  # noqa: BLE001
        for figure in payments.values():
            figure.error = failed(error)
    server = None
    try:
        server = gunicorn.wait()
    except Exception as error:  # noqa: BLE001
        platform.error = failed(error)

    for number in range(1, rounds + 1):
        log(f"bench: round {number} of {rounds}, {seconds} s per figure")
        for clients, figure in reference.items():
            if figure.error:
                continue
            checkpoint()
            try:
                figure.add(pgbench.run(pgbench_url, clients=clients, seconds=seconds, bindir=bindir))
            except Exception as error:  # noqa: BLE001
                figure.error = failed(error)
        for script, figure in ledger_sql.items():
            if figure.error:
                continue
            checkpoint()
            try:
                r = figure.run(pgbench_url, accounts=sizes.members, seconds=seconds, bindir=bindir)
                log(f"bench:   plain-SQL {script} × {plain_sql.CLIENTS}: {r.tps:,.1f} tps, failed {r.failed}")
            except Exception as error:  # noqa: BLE001
                figure.error = failed(error)
        for (scenario, workers), figure in payments.items():
            if figure.error:
                continue
            checkpoint()
            try:
                with WaitSampler(own_url) as sampler:
                    m = pool.run(scenario=scenario, workers=workers, seconds=seconds,
                                 tag=f"{scenario[0]}{workers}-{secrets.token_hex(3)}")
                figure.add(m, sampler)
                log(f"bench:   payments {scenario} × {workers}: {m.tps:,.1f} tps, p50 {m.percentile(50) or 0:.1f} ms, "
                    f"p99 {m.percentile(99) or 0:.1f} ms, errors {dict(m.errors)}")
            except Exception as error:  # noqa: BLE001
                figure.error = failed(error)
        if server is not None and not platform.error:
            checkpoint()
            serving = {}

            def on_start():
                # The serving side's CPU during the window: gunicorn's workers and their backends.
                serving["pids"] = children_of(server.process.pid) + backend_pids(own_url)
                serving["before"] = cpu_of(serving["pids"])

            try:
                with WaitSampler(own_url) as sampler:
                    m = api.run_clients(base_url=server.base_url, app_id=loaded.app_id, secret=loaded.secret,
                                        user_ids=[loaded.user_ids[pk] for pk in loaded.member_ids], clients=8,
                                        seconds=seconds, tag=f"api-{secrets.token_hex(3)}", on_start=on_start)
                platform.add(m, sampler, cpu_of(serving.get("pids", [])) - serving.get("before", 0.0))
                log(f"bench:   API × 8 clients: {m.tps:,.1f} tps, p50 {m.percentile(50) or 0:.1f} ms, "
                    f"p99 {m.percentile(99) or 0:.1f} ms, errors {dict(m.errors)}")
            except Exception as error:  # noqa: BLE001
                platform.error = failed(error)
        if server is not None and not batches.error:
            checkpoint()
            try:
                with WaitSampler(own_url) as sampler:
                    m = api.run_clients(base_url=server.base_url, app_id=loaded.app_id, secret=loaded.secret,
                                        user_ids=[loaded.user_ids[pk] for pk in loaded.member_ids], clients=8,
                                        seconds=seconds, tag=f"batch-{secrets.token_hex(3)}", batch=BATCH_SIZE)
                batches.add(m, sampler)
                log(f"bench:   API batches of {BATCH_SIZE} × 8 clients: {m.tps * BATCH_SIZE:,.1f} payments/s, "
                    f"p50 {m.percentile(50) or 0:.1f} ms, p99 {m.percentile(99) or 0:.1f} ms, errors {dict(m.errors)}")
            except Exception as error:  # noqa: BLE001
                batches.error = failed(error)

    out_payments: dict = {scenario: {} for scenario in SCENARIOS}
    for (scenario, workers), figure in payments.items():
        out_payments[scenario][str(workers)] = figure.result()
    proof = None
    if any(not figure.error for figure in ledger_sql.values()):
        try:
            proof = plain_sql.prove(pgbench_url, accounts=sizes.members)
        except Exception as error:  # noqa: BLE001
            proof = failed(error)
    return {
        "pgbench": {str(clients): figure.result() for clients, figure in reference.items()},
        "reference": {script: figure.result(accounts=sizes.members, proof=proof)
                      for script, figure in ledger_sql.items()},
        "payments": out_payments,
        "api": platform.result(gunicorn_workers=server.workers) if server is not None else platform.result(),
        "api_batch": batches.result(batch=BATCH_SIZE, gunicorn_workers=server.workers) if server is not None
        else batches.result(),
        "rounds": {"rounds": rounds, "seconds_each": seconds},
    }


class Gunicorn:
    """gunicorn started in the background (it sets Django up while the merchant loads);
    `wait()` returns the server once it answers, or raises why it didn't."""

    def __init__(self, env: dict, log):
        from . import api

        self.log = log
        fd, self.log_path = tempfile.mkstemp(prefix="jianguan-bench-gunicorn-", suffix=".log")
        os.close(fd)
        self.server, self.error = None, None
        self._thread = threading.Thread(target=self._start, args=(api, env), daemon=True)
        self._thread.start()

    def _start(self, api, env):
        try:
            self.server = api.start_gunicorn(env, log_path=self.log_path, timeout=600)
        except Exception as error:  # noqa: BLE001 - reported by the API row
            self.error = error

    def wait(self):
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.server

    def stop(self):
        self._thread.join()
        if self.server is not None:
            self.server.stop()
            self.server = None
        if os.path.exists(self.log_path):
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                lines = [line for line in fh if "/api/v1/ready" not in line]  # the readiness probe's 404s
            tail = "".join(lines)[-3000:].strip()
            if tail:
                self.log(f"bench: gunicorn said:\n{tail}")
            os.unlink(self.log_path)
