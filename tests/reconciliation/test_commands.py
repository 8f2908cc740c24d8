"""The command lines: import_statement (with --json and exit codes) and run_eod."""
import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from reconciliation.models import EodRun, StatementLine
from tests import factories as f

from .builders import announce, english

pytestmark = pytest.mark.django_db


def run_import(capsys, path, account, *extra):
    code = 0
    try:
        call_command("import_statement", str(path), "--account", account, *extra)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr()


def test_json_prints_only_the_counts_and_exits_0(tmp_path, capsys):
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "10.00", "D-1")
    path = tmp_path / "statement.csv"
    path.write_bytes(english([
        ("R1", "2026-11-24", "10.00", "A", "1", "B", deposit.payment_code, "10.00"),
        ("R2", "2026-11-24", "5.00", "A", "1", "B", "no code", "15.00"),
    ], footer="合计,,15.00,,,,,\r\n"))
    code, out = run_import(capsys, path, merchant.supervision_account_number, "--json")
    assert code == 0
    assert json.loads(out.out) == {"rows": 2, "imported": 2, "duplicates": 0, "matched": 1, "unmatched": 1,
                                   "errors": []}
    # and again: every line is a duplicate, and the file is still taken
    code, out = run_import(capsys, path, merchant.supervision_account_number, "--json")
    assert code == 0 and json.loads(out.out)["duplicates"] == 2


def test_a_refused_file_prints_its_errors_and_exits_1(tmp_path, capsys):
    merchant = f.active_merchant()
    path = tmp_path / "bad.csv"
    path.write_bytes(english([("R1", "2026-02-30", "10.00", "A", "1", "B", "x", ""),
                              ("R2", "2026-11-24", "ten", "A", "1", "B", "x", "")]))
    code, out = run_import(capsys, path, merchant.supervision_account_number, "--json")
    assert code == 1
    result = json.loads(out.out)
    assert [e["line"] for e in result["errors"]] == [2, 3]
    assert result["imported"] == 0 and StatementLine.objects.count() == 0


@pytest.mark.parametrize("content", [b"", b"just,some,words\r\n"])
def test_an_empty_or_headerless_file_exits_1(tmp_path, capsys, content):
    merchant = f.active_merchant()
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    code, out = run_import(capsys, path, merchant.supervision_account_number, "--json")
    assert code == 1 and json.loads(out.out)["errors"][0]["line"] is None


def test_an_unknown_account_exits_1(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_bytes(english([("R1", "2026-11-24", "10.00", "A", "1", "B", "x", "")]))
    code, out = run_import(capsys, path, "0000", "--json")
    assert code == 1 and "0000" in json.loads(out.out)["errors"][0]["reason"]


def test_without_json_a_human_summary(tmp_path, capsys):
    merchant = f.active_merchant()
    path = tmp_path / "x.csv"
    path.write_bytes(english([("R1", "2026-11-24", "-10.00", "A", "1", "B", "x", "")]))
    code, out = run_import(capsys, path, merchant.supervision_account_number)
    assert code == 0 and "1 imported" in out.out


def test_run_eod_for_one_merchant_or_all(capsys):
    merchant, other = f.active_merchant(), f.active_merchant()
    call_command("run_eod", "--date", "2026-11-24", "--merchant", merchant.code)
    assert EodRun.objects.filter(business_date=datetime.date(2026, 11, 24)).count() == 1
    assert "discrepancies" in capsys.readouterr().out
    call_command("run_eod", "--date", "2026-11-24")
    assert EodRun.objects.filter(merchant=other).exists()
    with pytest.raises(CommandError):
        call_command("run_eod", "--date", "2026-11-24", "--merchant", "nope")
    with pytest.raises(CommandError):
        call_command("run_eod", "--date", "24/11/2026")
