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
            "hold_release": {"1": {"tps": 200.0, "p50_ms": 5.0, "p99_ms": 9.0, "errors": {}},
                             "8": {"tps": 500.0, "p50_ms": 10.0, "p99_ms": 40.0, "errors": {}}},
        },
        "reference": {
            "payment": {"tps": 400.0, "p50_ms": 15.0, "p99_ms": 60.0, "latency_avg_ms": 18.0, "failed": 0,
                        "accounts": 10_000, "proof": {"ok": True}},
            "transfer": {"tps": 700.0, "p50_ms": 9.0, "p99_ms": 30.0, "failed": 0, "accounts": 10_000,
                         "proof": {"ok": True}},
        },
        "api_batch": {"batch": 100, "tps": 9.0, "p50_ms": 800.0, "p99_ms": 1500.0, "errors": {}},
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
    # and above the plain-SQL 3-leg payment of the same run: 600 / 400
    assert rows["cold_vs_reference_payment"]["value"] == "150 % of it"
    assert rows["cold_vs_reference_payment"]["met"] is True
    # hot against cold: 300 / 600 < 70 %; hold + release 500 / 600 ≥ 70 %, counted in movements
    assert rows["payments_hot_8"]["met"] is False
    assert rows["payments_hold_release_8"]["met"] is True
    assert rows["payments_hold_release_8"]["target"] == "≥ 70 % of cold@8 (is 83 %)"
    assert rows["payments_hold_release_8"]["value"] == "500.0 movements/s"
    assert "holds and releases" in rows["payments_hold_release_8"]["figure"]
    # a batch of 100 at 9 requests/s books 900 payments/s: < 100 % of TPC-B@8
    assert rows["api_batch_8"]["value"] == "900.0 payments/s" and rows["api_batch_8"]["met"] is False
    # p99 ≤ 10 × p50: the hot run's 15× fails the row
    assert rows["p99_over_p50"]["met"] is False
    # a deadlock reaching a caller is counted and fails its row
    assert rows["deadlocks"]["value"] == "2" and rows["deadlocks"]["met"] is False
    # time and memory targets
    assert rows["import_seconds"]["met"] is True and rows["import_memory"]["met"] is False
    assert rows["eod_seconds"]["met"] is True


def test_the_plain_sql_reference_has_its_rows_and_its_ratio_to_tpc_b():
    rows, results = _run()
    payment, transfer = rows["reference_payment_8"], rows["reference_transfer_8"]
    assert payment["figure"] == "Reference: 3-leg payment in plain SQL (pgledger-style), pgbench 8 clients"
    assert (payment["value"], payment["p50_ms"], payment["p99_ms"]) == ("400.0 tps", 15.0, 60.0)
    assert payment["ratio_to_reference"] == 0.4 and transfer["ratio_to_reference"] == 0.7
    assert "books prove" in payment["note"] and "10,000 accounts" in payment["note"]
    table = report.markdown(results, list(rows.values()))
    assert "| Reference: 3-leg payment in plain SQL (pgledger-style), pgbench 8 clients | 400.0 tps |" in table


def test_the_api_single_payment_target_is_15_percent_of_tpc_b():
    rows, _results = _run(api={"tps": 160.0, "p50_ms": 50.0, "p99_ms": 90.0, "errors": {}, "gunicorn_workers": 5})
    assert rows["api_8"]["target"] == "≥ 15 % of TPC-B@8 (is 16 %)" and rows["api_8"]["met"] is True


def test_without_the_plain_sql_reference_its_comparison_is_not_judged():
    rows, _results = _run(reference={"payment": {"error": "pgbench not found"},
                                     "transfer": {"error": "pgbench not found"}})
    assert rows["reference_payment_8"]["value"] == report.NA and "pgbench" in rows["reference_payment_8"]["note"]
    assert rows["cold_vs_reference_payment"]["value"] == report.NA
    assert rows["cold_vs_reference_payment"]["met"] is None


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
    assert rows["reference_payment_8"]["ratio_to_reference"] is None


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


def test_hold_and_release_are_counted_apart_inside_their_figure():
    # given a window of one hold and one release per worker, merged from two workers
    m = Measurement(seconds=2.0, workers=2)
    for hold, release in ((4.0, 9.0), (6.0, 11.0)):
        m.merge({"ok": 2, "latencies_ms": [hold, release], "errors": {}, "error_samples": {},
                 "kinds": {"hold": [hold], "release": [release]}})
    # then the figure counts four movements, and each kind its own two
    summary = m.summary()
    assert summary["tps"] == 2.0
    assert summary["by_kind"]["hold"] == {"ok": 2, "per_s": 1.0, "p50_ms": 4.0, "p99_ms": 6.0}
    assert summary["by_kind"]["release"]["p50_ms"] == 9.0
    # and the report's note says so
    rows, _results = _run(payments={"hold_release": {"8": summary}})
    assert "holds 1.0/s (p50 4.0 ms, p99 6.0 ms); releases 1.0/s" in rows["payments_hold_release_8"]["note"]
