"""RM performance on known data (world.py), figures computed by hand; periods; the snapshot
that keeps a past period fixed; the exports and the command."""
import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from backoffice import exports, tasks
from backoffice.models import PerformanceSnapshot
from backoffice.selectors import performance as perf
from backoffice.services import performance_snapshot_take
from core.errors import ValidationFailed
from tests.backoffice.world import deposit

pytestmark = pytest.mark.django_db
D = Decimal
NOV = perf.parse_period("2026-11")
END = datetime.date(2026, 11, 30)


def by_rm(rows):
    return {r.username: r for r in rows}


def test_periods_parse_months_quarters_and_years():
    assert (NOV.start, NOV.end, NOV.days) == (datetime.date(2026, 11, 1), END, 30)
    q4 = perf.parse_period("2026q4")
    assert (q4.key, q4.start, q4.end) == ("2026Q4", datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    assert perf.parse_period("2026-Q1").end == datetime.date(2026, 3, 31)
    year = perf.parse_period("2026")
    assert (year.start, year.end, year.days) == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31), 365)
    assert perf.parse_period("2028-02").end == datetime.date(2028, 2, 29)
    for bad in ("2026-13", "26-11", "2026Q5", "", "November"):
        with pytest.raises(ValidationFailed):
            perf.parse_period(bad)
    assert perf.previous_period(NOV).key == "2026-10" and perf.previous_period(q4).key == "2026Q3"


def test_the_month_figures_per_rm(world, django_assert_max_num_queries):
    # when November is computed on its last day
    with django_assert_max_num_queries(12):
        rows = by_rm(perf.performance(NOV, as_of=END))
    alice, bob = rows["rm_alice"], rows["rm_bob"]
    # then Alice: M1 opened November at 100.00 (the October deposit); day balances
    # 11-01: 100 (1 day), 11-02..09: 1,100 (8), 11-10..19: 1,600 (10), 11-20..30: 1,400 (11)
    # → (100 + 8,800 + 16,000 + 15,400) / 30 = 40,300 / 30 = 1,343.33
    assert alice.average_daily_balance == D("1343.33") and alice.period_end_balance == D("1400.00")
    assert (alice.merchants_managed, alice.merchants_activated) == (1, 1)
    assert (alice.inflow_amount, alice.inflow_count) == (D("1500.00"), 2)
    assert (alice.payment_amount, alice.payment_count) == (D("300.00"), 1)
    assert (alice.credit_granted_count, alice.credit_granted_amount) == (1, D("10000.00"))
    # 400.00 drawn on 11-03, due 11-08 without grace; 150.00 repaid → 250.00 overdue at 11-30
    assert alice.credit_used_amount == D("400.00") and alice.overdue_amount == D("250.00")
    # and Bob: 250.00 arrived on the last day → 250 / 30 = 8.33
    assert (bob.average_daily_balance, bob.period_end_balance) == (D("8.33"), D("250.00"))
    assert (bob.inflow_amount, bob.inflow_count, bob.payment_count, bob.overdue_amount) == (D("250.00"), 1, 0, D("0"))


def test_a_running_period_averages_the_days_so_far_and_the_quarter_and_year_add_up(world):
    # given 2026-11-15 as today: 11-01 100, 11-02..09 1,100 (8), 11-10..15 1,600 (6) → 18,500 / 15
    rows = by_rm(perf.performance(NOV, as_of=datetime.date(2026, 11, 15)))
    assert rows["rm_alice"].average_daily_balance == D("1233.33")
    assert rows["rm_alice"].period_end_balance == D("1600.00")
    # the overdue principal counts repayments up to the day: 400 − 150 (repaid 11-15) = 250
    assert rows["rm_alice"].overdue_amount == D("250.00")
    assert by_rm(perf.performance(NOV, as_of=datetime.date(2026, 11, 14)))["rm_alice"].overdue_amount == D("400.00")
    # and Q4 (to 11-30): October 1..14: 0, 10-15..10-31: 100 (17 days), then November's 40,300 → 42,000 / 61
    q4 = by_rm(perf.performance(perf.parse_period("2026Q4"), as_of=END))["rm_alice"]
    assert q4.average_daily_balance == D("688.52")  # 42,000 / 61 = 688.524…
    assert (q4.inflow_amount, q4.inflow_count) == (D("1600.00"), 3)


def test_an_rm_can_be_limited_to_themselves(world):
    assert [r.username for r in perf.performance(NOV, as_of=END, rm_ids=[world.alice.pk])] == ["rm_alice"]


def test_the_snapshot_keeps_a_past_period_fixed_and_shows_the_correction(world, clock):
    # given November frozen on its last day
    created = performance_snapshot_take(period=NOV, actor=None, as_of=END)
    assert len(created) == 2
    snap = PerformanceSnapshot.objects.get(period="2026-11", relationship_manager=world.alice)
    assert (snap.average_daily_balance, snap.inflow_amount) == (D("1343.33"), D("1500.00"))
    # when a late-booked deposit of 30.00 on 11-29 corrects November
    clock.day = datetime.date(2026, 11, 29)
    deposit(world.m1, world.buyer, "30.00", "DEP-LATE")
    # then the snapshot does not move (taking it again changes nothing) ...
    assert performance_snapshot_take(period=NOV, actor=None, as_of=END) == []
    snap.refresh_from_db()
    assert snap.inflow_amount == D("1500.00")
    # ... and the live figures show the difference: +30.00 inflow, +2.00 average (60 / 30 days)
    row = by_rm(perf.with_snapshots(NOV, perf.performance(NOV, as_of=END)))["rm_alice"]
    diff = row.differences()
    assert diff["inflow_amount"] == D("30.00") and diff["inflow_count"] == 1
    assert diff["average_daily_balance"] == D("2.00") and row.changed_since_snapshot
    # and the official export keeps the snapshot's figures
    values, source = perf.official_values(row)
    assert source == "snapshot" and values["inflow_amount"] == D("1500.00")


def test_the_nightly_task_freezes_the_periods_that_ended_yesterday(world):
    # on 2026-12-01 the month 2026-11 ended (the quarter and year have not)
    result = tasks.take_performance_snapshots("2026-12-01")
    assert result["snapshots"] == {"2026-11": 2}
    assert set(PerformanceSnapshot.objects.values_list("period", flat=True)) == {"2026-11"}
    # and run again, it creates nothing twice
    assert tasks.take_performance_snapshots("2026-12-01")["snapshots"] == {"2026-11": 0}
    # on 2027-01-01 December, Q4 and 2026 end together
    assert set(tasks.take_performance_snapshots("2027-01-01")["snapshots"]) == {"2026-12", "2026Q4", "2026"}


def test_the_exports_carry_every_figure(world):
    rows = perf.with_snapshots(NOV, perf.performance(NOV, as_of=END))
    text = exports.as_csv(NOV, rows).decode("utf-8-sig")
    records = {r["rm_username"]: r for r in csv.DictReader(io.StringIO(text))}
    assert records["rm_alice"]["average_daily_balance"] == "1343.33"
    assert records["rm_alice"]["overdue_amount"] == "250.00" and records["rm_alice"]["source"] == "live"
    data = json.loads(exports.as_json(NOV, rows))
    assert data["period"] == "2026-11" and {r["rm_username"] for r in data["rows"]} == {"rm_alice", "rm_bob"}

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(exports.as_xlsx(NOV, rows))).active
    names = [c.value for c in sheet[2]]
    alice = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == "rm_alice")
    assert D(str(alice[names.index("inflow_amount")])) == D("1500.00")
    assert sheet.cell(row=3, column=names.index("inflow_amount") + 1).number_format == "#,##0.00"


def test_the_command_prints_csv_and_json_and_writes_xlsx(world, capsysbinary, tmp_path, monkeypatch):
    monkeypatch.setattr("backoffice.selectors.performance.today", lambda: END)
    call_command("rm_performance", "--period", "2026-11")
    out = capsysbinary.readouterr().out.decode()
    assert out.splitlines()[0].startswith("period,rm_username,rm_name,merchants_managed")
    assert "rm_alice" in out and "1343.33" in out
    call_command("rm_performance", "--period", "2026-11", "--format", "json")
    assert json.loads(capsysbinary.readouterr().out)["period"] == "2026-11"
    target = tmp_path / "nov.xlsx"
    call_command("rm_performance", "--period", "2026-11", "--format", "xlsx", "--output", str(target))
    from openpyxl import load_workbook

    assert load_workbook(target).active.max_row == 4  # labels, names, two RMs
    with pytest.raises(CommandError):
        call_command("rm_performance", "--period", "2026-13")
    with pytest.raises(CommandError):
        call_command("rm_performance", "--period", "2026-11", "--format", "xlsx")
