"""Statements with an unsigned amount and a direction column (借贷标志 / 收支标志), imported
end to end: through the service and the command line. The danger they carry is an outflow
read as an inflow, so the money is followed into the books."""
import json

import pytest
from django.core.management import call_command

from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances, prove_merchant
from ledger.services.accounts import member_accounts
from reconciliation.models import StatementBatch, StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce

pytestmark = pytest.mark.django_db


def direction_file(rows, *, header="交易日期,交易流水号,摘要,发生额,借贷标志,余额,对方户名") -> bytes:
    """A GBK export with title lines, an unsigned 发生额 and a 借贷标志, and a 合计 row."""
    lines = ["某某银行 账户交易明细", "币种：人民币", header]
    lines += [",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows]
    lines.append("合计,,,,,,")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def do_import(merchant, data):
    return statement_import(account_number=merchant.supervision_account_number, stream=data, actor=None,
                            file_name="direction.csv")


def available(member):
    account = member_accounts(member)[0]
    account.refresh_from_db()
    return account.balance


def test_money_out_with_a_deposit_s_code_in_its_remark_never_credits_the_deposit():
    # given an open deposit of 500.00, and a statement where 500.00 with its code went OUT (借)
    # and 800.00 with another deposit's code came IN (贷)
    merchant = f.active_merchant()
    payer, other = f.member(merchant), f.member(merchant)
    trap = announce(merchant, payer, "500.00", "D-1")
    real = announce(merchant, other, "800.00", "D-2")
    data = direction_file([
        ("20261124", "F001", f"退回 {trap.payment_code}", "500.00", "借", "-500.00", "张三"),
        ("20261124", "F002", f"货款 {real.payment_code}", "800.00", "贷", "300.00", "李四"),
    ])

    # when it is imported
    result = do_import(merchant, data)

    # then the outflow waits in the queue as money out, and only the inflow credits its deposit
    assert result.as_json() == {"rows": 2, "imported": 2, "duplicates": 0, "matched": 1, "unmatched": 1,
                                "errors": []}
    out, into = StatementLine.objects.order_by("line_no")
    assert (out.amount, out.status, out.deposit_id, out.line_no) == (-500, "unmatched", None, 4)
    assert (into.amount, into.status, into.deposit_id) == (800, "posted", real.pk)
    trap.refresh_from_db()
    assert trap.status == Deposit.Status.AWAITING_FUNDS and available(payer) == 0
    assert available(other) == 800
    assert account_balances(merchant)["supervision"] == 800 and prove_merchant(merchant).ok
    assert result.batch.columns["direction"] == "借贷标志"


def test_a_bad_flag_refuses_the_whole_file_with_the_line():
    # given a direction file with an unknown flag on one line and a minus sign beside a flag on another
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "10.00", "D-1")
    data = direction_file([
        ("20261124", "F001", deposit.payment_code, "10.00", "贷", "10.00", "张三"),
        ("20261124", "F002", "手续费", "1.00", "转", "9.00", ""),
        ("20261124", "F003", "手续费", "-1.00", "借", "8.00", ""),
    ])

    # when it is imported
    result = do_import(merchant, data)

    # then nothing is booked, and both lines are reported with their physical line numbers
    assert result.refused and [e["line"] for e in result.errors] == [5, 6]
    assert StatementLine.objects.count() == 0 and JournalEntry.objects.filter(merchant=merchant).count() == 0
    assert StatementBatch.objects.get().status == StatementBatch.Status.REFUSED


def test_an_unsigned_amount_without_a_direction_column_is_refused_not_read_as_money_in():
    merchant = f.active_merchant()
    data = direction_file([("20261124", "F001", "x", "10.00", "6,228.00", "张三")],
                          header="交易日期,交易流水号,摘要,发生额,余额,对方户名")
    result = do_import(merchant, data)
    assert result.refused and result.errors[0]["line"] is None and "发生额" in str(result.errors[0]["reason"])
    assert StatementLine.objects.count() == 0


def run_import(capsys, path, account):
    code = 0
    try:
        call_command("import_statement", str(path), "--account", account, "--json")
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(capsys.readouterr().out)


def test_the_command_line_reads_a_direction_file_and_a_re_import_books_nothing(tmp_path, capsys):
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "1234.50", "D-1")
    path = tmp_path / "direction.csv"
    path.write_bytes(direction_file([
        ("20261124", "F001", f"付款码 {deposit.payment_code}", "1,234.50", "贷", "1,234.50", "张三"),
        ("20261124", "F002", "手续费", "2.00", "借", "1,232.50", ""),
    ]))
    code, out = run_import(capsys, path, merchant.supervision_account_number)
    assert code == 0
    assert out == {"rows": 2, "imported": 2, "duplicates": 0, "matched": 1, "unmatched": 1, "errors": []}
    code, out = run_import(capsys, path, merchant.supervision_account_number)
    assert code == 0 and (out["imported"], out["duplicates"]) == (0, 2)
    assert StatementLine.objects.filter(amount__lt=0).count() == 1


def test_the_command_line_refuses_a_bad_flag_with_exit_1(tmp_path, capsys):
    merchant = f.active_merchant()
    path = tmp_path / "direction.csv"
    path.write_bytes(direction_file([("20261124", "F001", "x", "10.00", "", "10.00", "张三")]))
    code, out = run_import(capsys, path, merchant.supervision_account_number)
    assert code == 1 and [e["line"] for e in out["errors"]] == [4] and out["imported"] == 0
