"""The benchmark's table: ratios, targets and "not available" rows, from a made-up run; and the
classification that keeps a deadlock from hiding among ordinary errors."""
from bench import report
from bench.workers import DEADLOCK, SERIALIZATION, Measurement, classify
from core.errors import InsufficientFunds


def _run(**overrides):
    results = {
        "date": "2026-11-26T12:00:00+08:00", "quick": False,
        "sizes": {"pgbench_scale": 10, "seconds": 30, "statement_lines": 100_000, "eod_orders": 1_000_000},
        "machine": {"nproc": 2, "memory_gb": 8.0}, "postgres": {"server_version": "15", "fsync": "on"},
        "pgbench": {"1": {"tps": 300.0}, "8": {"tps": 1000.0}},
        "payments": {
            "cold": {"1": {"tps": 200.0, "p50_ms": 5.0, "p99_ms": 9.0, "errors": {}},
                     "8": {"tps": 600.0, "p50_ms": 10.0, "p99_ms": 50.0, "errors": {}}},
            "hot": {"1": {"tps": 200.0, "p50_ms": 5.0, "p99_ms": 9.0, "errors": {}},
                    "8": {"tps": 300.0, "p50_ms": 20.0, "p99_ms": 300.0, "errors": {"deadlock": 2}}},
            "escrow": {"1": {"tps": 200.0, "p50_ms": 5.0, "p99_ms": 9.0, "errors": {}},
                       "8": {"tps": 500.0, "p50_ms": 10.0, "p99_ms": 40.0, "errors": {}}},
        },
        "api": {"error": "gunicorn did not answer"},
        "import": {"lines": 100_000, "seconds": 12.0, "peak_rss_mb": 350.0, "result": {}},
        "eod": {"orders": 1_000_000, "eod_seconds": 42.0, "counts_ok": True},
    }
    results.update(overrides)
    return {row["key"]: row for row in report.build_rows(results)}, results


def test_each_target_is_judged_against_its_own_reference():
    rows, _results = _run()
    # cold at 8 workers against TPC-B at 8 clients: 600 / 1000 ≥ 50 %
    assert rows["payments_cold_8"]["met"] is True
    assert rows["payments_cold_8"]["ratio_to_reference"] == 0.6
    # hot against cold: 300 / 600 < 70 %; escrow 500 / 600 ≥ 70 %
    assert rows["payments_hot_8"]["met"] is False
    assert rows["payments_escrow_8"]["met"] is True
    # p99 ≤ 10 × p50: the hot run's 15× fails the row
    assert rows["p99_over_p50"]["met"] is False
    # a deadlock reaching a caller is counted and fails its row
    assert rows["deadlocks"]["value"] == "2" and rows["deadlocks"]["met"] is False
    # time and memory targets
    assert rows["import_seconds"]["met"] is True and rows["import_memory"]["met"] is False
    assert rows["eod_seconds"]["met"] is True


def test_a_part_that_could_not_run_says_not_available_and_why():
    rows, results = _run()
    assert rows["api_8"]["value"] == report.NA
    assert rows["api_8"]["met"] is None
    assert "gunicorn" in rows["api_8"]["note"]
    table = report.markdown(results, list(rows.values()))
    assert "| Signed API POST /api/v1/payments via gunicorn, 8 clients | not available |" in table


def test_without_the_reference_no_ratio_is_invented():
    rows, _results = _run(pgbench={"1": {"error": "pgbench not found"}, "8": {"error": "pgbench not found"}})
    assert rows["pgbench_8"]["value"] == report.NA
    assert rows["payments_cold_8"]["ratio_to_reference"] is None
    assert rows["payments_cold_8"]["met"] is None


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_deadlocks_and_serialization_failures_are_recognised_through_django_s_wrapping():
    for sqlstate, kind in (("40P01", DEADLOCK), ("40001", SERIALIZATION)):
        try:
            try:
                raise _PgError(sqlstate)
            except _PgError as cause:
                raise RuntimeError("wrapped by the database layer") from cause
        except RuntimeError as error:
            assert classify(error) == kind
    assert classify(InsufficientFunds()) == "insufficient_funds"
    assert classify(ValueError("x")) == "ValueError"


def test_latency_percentiles_are_nearest_rank():
    m = Measurement(seconds=1.0, latencies_ms=[float(i) for i in range(1, 101)])
    assert (m.percentile(50), m.percentile(99)) == (50.0, 99.0)
