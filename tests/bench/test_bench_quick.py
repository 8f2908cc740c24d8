"""The benchmark must not rot: `manage.py bench --quick` runs end to end (at a tiny size, in
the test database) and reports every row. Its numbers are not asserted — only that each part
ran or says why not, that the books still prove and that no deadlock reached a caller."""
import json

import pytest
from django.core.management import call_command

from bench import report
from ledger.models import Account, AccountKind, PaymentRelease, Posting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = {"pgbench_1", "pgbench_8", "reference_payment_8", "reference_transfer_8", "payments_cold_1",
        "payments_cold_8", "cold_vs_reference_payment", "payments_hot_1", "payments_hot_8", "payments_hold_release_1",
        "payments_hold_release_8", "api_8", "api_batch_8", "p99_over_p50", "deadlocks", "other_errors",
        "import_seconds", "import_memory", "import_xlsx_seconds", "import_xlsx_memory", "eod_seconds", "load",
        "proof_after"}


def test_the_quick_benchmark_runs_every_part_and_reports_it(tmp_path, capsys):
    # given a tiny merchant and one-second measurements
    out = tmp_path / "bench.json"
    # when the quick benchmark runs in the test database
    call_command("bench", "--quick", "--in-place", "--seconds", "1", "--members", "40", "--postings", "400",
                 "--pgbench-scale", "1", "--statement-lines", "300", "--eod-orders", "300", "--json", str(out))
    # then it printed the table and wrote the same rows to the JSON file
    printed = capsys.readouterr().out
    assert "| Figure | Value |" in printed
    data = json.loads(out.read_text())
    rows = {row["key"]: row for row in data["rows"]}
    assert ROWS <= set(rows)
    assert all(row["value"] for row in rows.values())
    # the loaded history is what was asked for, and the books prove after every concurrent payment
    assert data["load"]["members"] == 40 and data["load"]["postings"] >= 400
    assert data["proof_after"]["ok"]
    # every service-layer and API measurement ran, with no deadlock or serialization failure
    for scenario in ("cold", "hot", "hold_release"):
        for workers in ("1", "8"):
            assert "error" not in data["payments"][scenario][workers], data["payments"][scenario][workers]
    # holds and releases both booked (nothing else in the run releases), each counted as one movement
    hold_release = data["payments"]["hold_release"]["8"]
    assert hold_release["ok"] > 0 and not hold_release["errors"], hold_release
    assert set(hold_release["by_kind"]) == {"hold", "release"}, hold_release["by_kind"]
    assert PaymentRelease.objects.exists()
    # the hot scenario's seller is hot (bench.loaders): its credits took the delta path, no balance after
    seller = Account.objects.get(kind=AccountKind.MEMBER_AVAILABLE, is_hot=True)
    assert Posting.objects.filter(account=seller, balance_after__isnull=True).exists()
    assert "error" not in data["api"], data["api"]
    assert "error" not in data["api_batch"] and not data["api_batch"].get("errors"), data["api_batch"]
    assert rows["deadlocks"]["value"] == "0"
    # the plain-SQL reference ran beside TPC-B on as many accounts as members, its books proved
    for script in ("payment", "transfer"):
        node = data["reference"][script]
        if rows["pgbench_8"]["value"] != report.NA:
            assert "error" not in node and node["tps"] > 0 and node["failed"] == 0, node
            assert node["p50_ms"] <= node["p99_ms"] and node["accounts"] == 40 and node["proof"]["ok"], node
    # the parts that depend on other tools either ran or say why not
    for key in ("pgbench_8", "reference_payment_8", "import_seconds", "import_xlsx_seconds", "eod_seconds"):
        assert rows[key]["value"] != report.NA or rows[key]["note"], rows[key]
