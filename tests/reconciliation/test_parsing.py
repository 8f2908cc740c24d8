"""Reading bank statement CSV files (reconciliation.parsing): no database involved."""

import csv
import datetime
import io
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciliation.parsing import (
    DIRECTION_VALUES,
    HEADERS,
    STANDARD,
    UNSIGNED_AMOUNT_HEADERS,
    RowError,
    StatementFileError,
    StatementRow,
    detect_encoding,
    iter_statement,
    parse_amount_text,
    parse_date_text,
    parse_statement,
)
from reconciliation.parsing.cells import direction_of, flag_key
from reconciliation.parsing.rows import SkippedRow

from .workbooks import BUILTIN

D = Decimal
SHARED_SAMPLE = Path("/work/shared/samples/statement-utf8.csv")
# A copy of the shared sample, so the suite does not depend on a path outside the repository.
SAMPLE = b"""\
bank_reference,value_date,amount,counterparty_name,counterparty_account,counterparty_bank,remark,balance
SR2026112400001,2026-11-24,1250.00,Zhang San,6222020200112233445,ICBC Jinan Branch,RC7KQ2M9X deposit,1250.00
SR2026112400002,2026-11-24,"3,000.00",Shandong Grain Co Ltd,37001618801050012345,CCB Qingdao,payment code RCH4W8T2Z,4250.00
SR2026112400003,2026-11-24,-500.00,Li Si,6217000010012345678,ABC Heze,withdrawal WD000123,3750.00
"""


def codes(parsed):
    return [(error.line, error.code) for error in parsed.errors]


# --- the shared sample ---------------------------------------------------------------------


def test_sample_file_parses_into_three_rows():
    # given the sample statement from the bank, as a binary file object
    stream = io.BytesIO(SAMPLE)

    # when it is parsed
    parsed = parse_statement(stream)

    # then its three lines come out with their values, and the last balance closes the statement
    assert parsed.errors == []
    assert parsed.encoding == "utf-8"
    assert [row.line for row in parsed.rows] == [2, 3, 4]
    first, second, third = parsed.rows
    assert first == StatementRow(
        line=2,
        bank_reference="SR2026112400001",
        value_date=datetime.date(2026, 11, 24),
        amount=D("1250.00"),
        counterparty_name="Zhang San",
        counterparty_account="6222020200112233445",
        counterparty_bank="ICBC Jinan Branch",
        remark="RC7KQ2M9X deposit",
        balance=D("1250.00"),
    )
    assert second.amount == D("3000.00") and second.remark == "payment code RCH4W8T2Z"
    assert third.amount == D("-500.00") and third.counterparty_name == "Li Si"
    assert parsed.closing_balance == D("3750.00")
    assert parsed.columns["amount"] == "amount"


@pytest.mark.skipif(not SHARED_SAMPLE.exists(), reason="the shared sample is outside the repository")
def test_shared_sample_file_is_the_one_tested_here():
    with SHARED_SAMPLE.open("rb") as stream:
        assert parse_statement(stream) == parse_statement(SAMPLE)


# --- what Chinese banks send ---------------------------------------------------------------

GBK_STATEMENT = (
    "账户明细查询\r\n"
    "账号：37001618801050099999,户名：山东某某电子商务有限公司资金监管户\r\n"
    "起止日期：2026-11-01至2026-11-30\r\n"
    "流水号,交易日期,借方发生额,贷方发生额,对方户名,对方账号,对方开户行,摘要,余额\r\n"
    "C2026112400017,2026/11/24,,\"12,800.00\",济南鲁味食品有限公司,37001618801050012345,"
    "中国建设银行济南分行,货款 付款码RC7KQ2M9X,\"112,800.00\"\r\n"
    "C2026112400018,20261124,\"2,000.00\",,张三,6222020200112233445,中国工商银行济南分行,退款,"
    "\"110,800.00\"\r\n"
    "合计,,\"2,000.00\",\"12,800.00\",,,,,\r\n"
    "\r\n"
)


def test_gbk_file_with_title_lines_debit_credit_and_total_row():
    # given a GBK export with three title lines, debit/credit columns and a 合计 row
    data = GBK_STATEMENT.encode("gbk")

    # when it is parsed
    parsed = parse_statement(data)

    # then both lines are read with signed amounts and their physical line numbers
    assert parsed.errors == []
    assert parsed.encoding == "gb18030"
    assert parsed.skipped_summary == 1
    credit, debit = parsed.rows
    assert (credit.line, credit.amount, credit.value_date) == (5, D("12800.00"), datetime.date(2026, 11, 24))
    assert credit.counterparty_name == "济南鲁味食品有限公司"
    assert credit.counterparty_bank == "中国建设银行济南分行"
    assert credit.remark == "货款 付款码RC7KQ2M9X"
    assert (debit.line, debit.amount, debit.balance) == (6, D("-2000.00"), D("110800.00"))
    assert parsed.closing_balance == D("110800.00")
    assert parsed.columns["credit"] == "贷方发生额" and parsed.columns["debit"] == "借方发生额"


def test_utf8_with_bom_and_chinese_headers():
    # given the same statement saved by Excel as UTF-8 with a BOM
    data = GBK_STATEMENT.encode("utf-8-sig")

    # when it is parsed
    parsed = parse_statement(data)

    # then the BOM does not hide the header and the encoding is reported
    assert parsed.encoding == "utf-8-sig"
    assert [row.bank_reference for row in parsed.rows] == ["C2026112400017", "C2026112400018"]


def test_bom_directly_before_english_header():
    # given a BOM right before the first header cell
    data = b"\xef\xbb\xbfreference,date,amount\nR1,2026-11-24,10.00\n"

    # when it is parsed, then the first column is still recognised as the reference
    parsed = parse_statement(data)
    assert parsed.rows[0].bank_reference == "R1"
    assert parsed.encoding == "utf-8-sig"


def test_thousands_separators_and_currency_signs_in_a_file():
    # given amounts written the ways banks write them
    data = (
        "流水号,交易日期,交易金额,余额\n"
        "A1,2026-11-24,\"¥1,234.50\",\"￥ 1,234.50\"\n"
        "A2,2026-11-24,\"CNY 1,000,000.00\",CNY 1001234.5\n"
        "A3,2026-11-24, -500 ,\"1,000,734.50\"\n"
    ).encode("utf-8")

    # when the file is parsed
    parsed = parse_statement(data)

    # then the amounts are exact to the fen
    assert [row.amount for row in parsed.rows] == [D("1234.50"), D("1000000.00"), D("-500.00")]
    assert [row.balance for row in parsed.rows] == [D("1234.50"), D("1001234.50"), D("1000734.50")]


def test_headers_in_any_order_case_and_unknown_columns_ignored():
    # given English headers in an unusual order and case, with columns we do not know
    data = (
        "Currency,Memo,AMOUNT,Value Date,Channel,Bank_Reference,Payer_Name\n"
        "CNY,RCH4W8T2Z,88.80,2026-1-5,网银,REF-1,王五\n"
    ).encode("utf-8")

    # when it is parsed
    parsed = parse_statement(data)

    # then the known columns are mapped by name and the others ignored
    assert parsed.rows == [
        StatementRow(2, "REF-1", datetime.date(2026, 1, 5), D("88.80"), "王五", "", "", "RCH4W8T2Z", None)
    ]
    assert parsed.columns == {
        "remark": "Memo",
        "amount": "AMOUNT",
        "value_date": "Value Date",
        "bank_reference": "Bank_Reference",
        "counterparty_name": "Payer_Name",
    }
    assert parsed.closing_balance is None


def test_several_remark_columns_are_joined_and_the_serial_number_wins_over_the_voucher():
    # given a bank that exports 凭证号 before 流水号, and both 摘要 and 附言
    data = "凭证号,流水号,交易日期,金额(元),摘要,附言\n,S0001,2026-11-24,100.00,网银转账,RC7KQ2M9X\n"

    # when it is parsed
    parsed = parse_statement(data.encode("gb18030"))

    # then the unique serial number is the reference and no remark text is lost
    (row,) = parsed.rows
    assert row.bank_reference == "S0001"
    assert row.remark == "网银转账 / RC7KQ2M9X"
    assert parsed.columns["remark"] == "摘要 + 附言"
    assert parsed.columns["amount"] == "金额(元)"


def test_credit_debit_pair_wins_over_a_possibly_unsigned_amount_column():
    # given a file with an unsigned 交易金额 next to 借方/贷方 columns
    data = "流水号,交易日期,交易金额,借方发生额,贷方发生额\nS1,2026-11-24,50.00,50.00,\n"

    # when it is parsed, then the explicit direction is used: money out
    assert parse_statement(data.encode("utf-8")).rows[0].amount == D("-50.00")


def test_negative_credit_is_a_reversal_money_out():
    # given a red-ink reversal (红字冲正): a negative credit
    data = b"reference,date,credit,debit\nR1,2026-11-24,-20.00,\nR2,2026-11-24,,-5.00\n"

    # when parsed, then credit minus debit gives the signed amount
    assert [row.amount for row in parse_statement(data).rows] == [D("-20.00"), D("5.00")]


def test_tab_separated_file():
    # given a tab-separated export
    data = "流水号\t交易日期\t金额\t摘要\nT1\t2026-11-24\t1,000.00\t付款码RC7KQ2M9X\n".encode("gbk")

    # when parsed, then the tab is recognised
    (row,) = parse_statement(data).rows
    assert (row.bank_reference, row.amount, row.remark) == ("T1", D("1000.00"), "付款码RC7KQ2M9X")


def test_quoted_remark_across_lines_keeps_physical_line_numbers():
    # given a remark with a line break inside quotes
    data = b'reference,date,amount,remark\nR1,2026-11-24,1.00,"first\r\nsecond"\nR2,2026-11-24,2.00,x\n'

    # when parsed
    rows = parse_statement(data).rows

    # then the record starts on line 2 and the next one on line 4
    assert [(row.line, row.remark) for row in rows] == [(2, "first\r\nsecond"), (4, "x")]


# --- an unsigned amount with a direction column (借贷标志 / 收支标志) ---------------------------

GBK_DIRECTION_STATEMENT = (
    "中国某某银行 账户交易明细\r\n"
    "账号：37001618801050099999  币种：人民币\r\n"
    "交易日期,交易流水号,摘要,发生额,借贷标志,余额,对方户名,对方账号\r\n"
    "20261124,F0001,货款 付款码RC7KQ2M9X,\"12,800.00\",贷,\"12,800.00\",济南鲁味食品有限公司,37001618801050012345\r\n"
    "20261124,F0002,提现 WD000123,\"2,000.00\",借,\"10,800.00\",张三,6222020200112233445\r\n"
    "20261124,F0003,手续费,1.50,借,\"10,798.50\",,\r\n"
    "本页合计,,,\"14,801.50\",,,,\r\n"
)


def test_gbk_file_with_an_unsigned_amount_and_a_debit_credit_flag():
    # given a GBK export whose 发生额 is unsigned and whose 借贷标志 says which way the money went
    data = GBK_DIRECTION_STATEMENT.encode("gbk")

    # when it is parsed
    parsed = parse_statement(data)

    # then money out (借) is negative and money in (贷) positive: no outflow is read as an inflow
    assert parsed.errors == [] and parsed.encoding == "gb18030" and parsed.skipped_summary == 1
    assert [(row.line, row.bank_reference, row.amount) for row in parsed.rows] == [
        (4, "F0001", D("12800.00")), (5, "F0002", D("-2000.00")), (6, "F0003", D("-1.50"))]
    assert parsed.closing_balance == D("10798.50")
    assert parsed.columns["amount"] == "发生额" and parsed.columns["direction"] == "借贷标志"


@pytest.mark.parametrize("header", HEADERS["direction"])
@pytest.mark.parametrize(("flag", "sign"), [
    ("贷", 1), ("贷方", 1), ("收", 1), ("收入", 1), ("C", 1), ("c", 1), ("CR", 1), ("Credit", 1), ("IN", 1),
    ("借", -1), ("借方", -1), ("支", -1), ("支出", -1), ("D", -1), ("Dr", -1), ("DEBIT", -1), ("out", -1),
    (" 贷 ", 1), ("Out ", -1),
])
def test_every_direction_header_and_flag(header, flag, sign):
    # given a file whose direction column has this header and this flag
    data = f"流水号,交易日期,交易金额,{header}\nS1,2026-11-24,\"1,000.00\",{flag}\n".encode("gb18030")

    # when it is parsed, then the flag signs the amount: credit/in = money in, debit/out = money out
    parsed = parse_statement(data)
    assert parsed.errors == [] and [row.amount for row in parsed.rows] == [D("1000.00") * sign]


@pytest.mark.parametrize("header", ["direction", "Direction", "DC Flag", "dc-flag", "DR_CR", "Debit Credit", "D/C",
                                    "借贷标志", "收支标志", "借贷方向", "交易方向", "借贷标志（D/C）"])
def test_direction_headers_in_english_and_chinese_spellings(header):
    data = f"reference,date,amount,{header}\nR1,2026-11-24,5.00,D\n".encode()
    assert [row.amount for row in parse_statement(data).rows] == [D("-5.00")]


def test_lines_with_an_unknown_empty_or_doubled_direction_are_errors_with_their_line():
    # given good lines and lines whose direction cannot be trusted
    data = (
        "流水号,交易日期,发生额,收支标志\n"
        "S1,2026-11-24,100.00,收\n"
        "S2,2026-11-24,100.00,转\n"      # not a direction
        "S3,2026-11-24,100.00,\n"        # no direction at all
        "S4,2026-11-24,-100.00,支\n"     # a minus sign and a flag: which one is meant?
        "S5,2026-11-24,-100.00,收\n"
        "S6,2026-11-24,+100.00,支\n"     # an explicit plus is not a sign of direction
        "S7,2026-11-24,0.00,收\n"
        "S8,2026-11-24,abc,收\n"
        "S9,2026-11-24,100.00,+\n"
    ).encode("gbk")

    # when it is parsed
    parsed = parse_statement(data)

    # then every doubtful line is an error on its own line, and no amount is guessed
    assert codes(parsed) == [(3, "bad_direction"), (4, "missing_direction"), (5, "signed_with_direction"),
                             (6, "signed_with_direction"), (9, "bad_amount"), (10, "bad_direction")]
    assert parsed.errors[0].value == "转" and parsed.errors[2].value == "支 -100.00"
    assert [(row.line, row.amount) for row in parsed.rows] == [(2, D("100.00")), (7, D("-100.00"))]
    # and the zero line moves no money: skipped and reported, not an error
    assert [(skip.line, skip.code) for skip in parsed.skipped] == [(8, "zero_amount")]


def test_a_direction_column_next_to_a_debit_credit_pair_is_checked_against_it():
    # given a file with debit/credit columns and a direction column
    data = (
        "reference,date,credit,debit,direction\n"
        "R1,2026-11-24,5.00,,C\n"      # agrees
        "R2,2026-11-24,,5.00,debit\n"  # agrees
        "R3,2026-11-24,,7.00,\n"       # empty: the pair decides
        "R4,2026-11-24,,5.00,C\n"      # contradicts the debit column
        "R5,2026-11-24,-5.00,,C\n"     # red-ink reversal with a flag: ambiguous
        "R6,2026-11-24,5.00,,?\n"      # unknown flag
    ).encode()

    # when it is parsed
    parsed = parse_statement(data)

    # then the pair gives the amount and the flag may only confirm it
    assert [(row.bank_reference, row.amount) for row in parsed.rows] == [
        ("R1", D("5.00")), ("R2", D("-5.00")), ("R3", D("-7.00"))]
    assert codes(parsed) == [(5, "direction_conflict"), (6, "signed_with_direction"), (7, "bad_direction")]
    assert parsed.columns["direction"] == "direction" and "amount" not in parsed.columns


def test_an_unknown_direction_like_column_is_harmless_next_to_a_debit_credit_pair():
    # given a pair (which says the direction itself) and a flag column we do not know
    data = "流水号,交易日期,借方发生额,贷方发生额,借贷标记\nS1,2026-11-24,3.00,,借\n".encode("gbk")

    # then the file is read from the pair
    assert [row.amount for row in parse_statement(data).rows] == [D("-3.00")]


def test_other_flag_columns_are_not_mistaken_for_a_direction():
    # given 现转标志 (cash or transfer) and 冲正标志 (reversal) next to a signed amount
    data = "流水号,交易日期,金额,现转标志,冲正标志\nS1,2026-11-24,-3.00,转,0\n".encode("gbk")

    # then they are ignored like any unknown column, and the signed amount is read as it is
    parsed = parse_statement(data)
    assert [row.amount for row in parsed.rows] == [D("-3.00")] and "direction" not in parsed.columns


def test_an_unsigned_amount_header_without_a_direction_column_refuses_the_file_with_its_name():
    with pytest.raises(StatementFileError) as refused:
        parse_statement("流水号,交易日期,发生额(元),摘要\nS1,2026-11-24,1.00,x\n".encode("gbk"))
    assert refused.value.code == "unsigned_amount" and "发生额(元)" in refused.value.message


FLAG_TEXT = st.text(alphabet="借贷收支入出方CDcdRrIiNnOoUuTt+-01 转", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(amount=st.decimals(D("0.01"), D("999999999.99"), places=2), flag=FLAG_TEXT,
       encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_a_flag_either_signs_the_amount_exactly_or_is_a_row_error(amount, flag, encoding):
    # given any flag text next to an unsigned amount
    data = f"流水号,交易日期,发生额,借贷标志\nS1,2026-11-24,\"{amount:,.2f}\",\"{flag}\"\n".encode(encoding)

    # when it is parsed
    parsed = parse_statement(data)

    # then a known flag gives exactly ±amount, anything else is an error on line 2 and no row
    sign = direction_of(flag_key(flag), DIRECTION_VALUES)
    if sign is None:
        empty = flag.strip() in ("", "-", "--")  # a dash is "nothing written" in any cell
        assert parsed.rows == [] and codes(parsed) == [(2, "missing_direction" if empty else "bad_direction")]
    else:
        assert parsed.errors == [] and [row.amount for row in parsed.rows] == [amount * sign]


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(D("0.01"), D("999999999.99"), places=2), sign=st.sampled_from([1, -1]),
       flag_sign=st.sampled_from([1, -1, 0]), data=st.data())
def test_a_pair_with_a_flag_never_reads_an_outflow_as_an_inflow(amount, sign, flag_sign, data):
    # given a credit/debit pair with a flag that agrees, contradicts, or is empty
    credit, debit = (f"{amount:.2f}", "") if sign > 0 else ("", f"{amount:.2f}")
    flag = "" if not flag_sign else render_flag(data.draw(st.sampled_from(IN_FLAGS if flag_sign > 0 else OUT_FLAGS)),
                                                data)
    parsed = parse_statement(f"流水号,交易日期,贷方发生额,借方发生额,借贷方向\nS1,2026-11-24,{credit},{debit},{flag}\n"
                             .encode("gb18030"))

    # then the row carries the pair's sign, or it is refused: never the opposite sign
    if flag_sign in (0, sign):
        assert [row.amount for row in parsed.rows] == [amount * sign] and parsed.errors == []
    else:
        assert parsed.rows == [] and codes(parsed) == [(2, "direction_conflict")]


# --- lines that cannot be read -------------------------------------------------------------


def test_bad_lines_are_reported_with_their_line_and_code_while_others_parse():
    # given a statement with a bad date, a bad amount, a missing reference and a bad balance
    data = (
        "账户明细\n"
        "reference,date,amount,balance\n"
        "R1,2026-11-24,100.00,100.00\n"
        "R2,2026-13-01,5.00,105.00\n"
        "R3,2026-11-24,1.234,106.23\n"
        ",2026-11-24,7.00,113.23\n"
        "R5,2026-11-24,1.00,abc\n"
        "R6,2026-11-25,-3.00,110.23\n"
    ).encode("utf-8")

    # when it is parsed
    parsed = parse_statement(data)

    # then every problem is reported on its own line, and the good lines still parse
    assert codes(parsed) == [(4, "bad_date"), (5, "bad_amount"), (6, "missing_reference"), (7, "bad_balance")]
    assert parsed.errors[0].value == "2026-13-01"
    assert parsed.errors[1].value == "1.234"
    assert [row.line for row in parsed.rows] == [3, 8]


def test_one_line_can_have_several_problems():
    # given a line with an amount but no reference and a bad date
    parsed = parse_statement(b"reference,date,amount,remark\n,2026-11-31,,hello\n,,5.00,x\n")

    # then all of them are reported at once
    assert codes(parsed) == [(2, "missing_reference"), (2, "bad_date"), (2, "bad_amount"),
                             (3, "missing_reference"), (3, "bad_date")]


def test_a_row_with_no_date_and_no_amount_is_a_note_not_a_line():
    # given notes below the table: no date, no money (a remark, a signature, a stray reference)
    parsed = parse_statement(b"reference,date,amount,remark\nR1,2026-11-24,1.00,x\n,,,hello\nChecked by,,,\n")

    # then they are skipped and counted, not refused: they carry no money
    assert parsed.errors == [] and [row.bank_reference for row in parsed.rows] == ["R1"]
    assert parsed.skipped_summary == 2


@pytest.mark.parametrize(
    ("credit", "debit", "code"),
    [
        ("10.00", "10.00", "both_debit_and_credit"),
        ("", "", "bad_amount"),
        ("-", "", "bad_amount"),
        ("ten", "", "bad_amount"),
    ],
)
def test_credit_and_debit_must_give_exactly_one_amount(credit, debit, code):
    # given a credit/debit line that does not say which way the money went
    data = f"流水号,交易日期,贷方发生额,借方发生额\nS1,2026-11-24,{credit},{debit}\n".encode()

    # when parsed, then the line is refused with the right code
    parsed = parse_statement(data)
    assert parsed.rows == [] and codes(parsed) == [(2, code)]


def test_zero_amount_lines_are_skipped_and_reported_never_refused():
    # given interest-tax lines of 0.00, in a signed column and in a credit/debit pair
    parsed = parse_statement(b"reference,date,amount\nR1,2026-11-24,0.00\nR2,2026-11-24,-0\nR3,2026-11-24,1.00\n")
    pair = parse_statement("流水号,交易日期,贷方发生额,借方发生额\nS1,2026-11-24,0.00,0\nS2,2026-11-24,-,0.00\n"
                           .encode("gbk"))

    # then they are skipped with their line, and the file is not refused
    assert parsed.errors == [] and [row.bank_reference for row in parsed.rows] == ["R3"]
    assert [(skip.line, skip.code, skip.value) for skip in parsed.skipped] == [(2, "zero_amount", "R1"),
                                                                             (3, "zero_amount", "R2")]
    assert pair.errors == [] and pair.rows == [] and [skip.line for skip in pair.skipped] == [2, 3]


def test_summary_rows_and_blank_lines_are_skipped_not_errors():
    # given totals in several spellings and blank lines
    data = (
        "date,reference,amount,remark\n"
        "2026-11-24,R1,10.00,x\n"
        "\n"
        "本页合计,,10.00,\n"
        "Total,,10.00,\n"
        "2026-11-24,总计,10.00,\n"
        ",,,\n"
        "\n\n"
    ).encode("utf-8")

    # when parsed
    parsed = parse_statement(data)

    # then only the real line is a row, and the totals are counted
    assert [row.bank_reference for row in parsed.rows] == ["R1"]
    assert parsed.errors == [] and parsed.skipped_summary == 3


def test_a_real_line_whose_remark_says_total_is_not_a_summary():
    # given a line with a reference whose first cell happens to read like a total
    data = "remark,reference,date,amount\nTotal payment for November,R9,2026-11-24,9.00\n"

    # then it is a row, not a skipped summary
    parsed = parse_statement(data.encode())
    assert [row.bank_reference for row in parsed.rows] == ["R9"] and parsed.skipped_summary == 0


def test_a_gbk_line_after_the_first_chunk_of_a_utf8_file_is_an_error_for_that_line_only():
    # given a UTF-8 file with one line pasted in GBK after the first 64 KiB
    lines = ["流水号,交易日期,金额,对方户名\n".encode()]
    lines += [f"R{i},2026-11-24,1.00,张三\n".encode() for i in range(3000)]
    lines += ["RX,2026-11-24,2.00,李四\n".encode("gbk"), "RY,2026-11-24,3.00,王五\n".encode()]
    assert sum(map(len, lines[:-2])) > 64 * 1024

    # when parsed
    parsed = parse_statement(b"".join(lines))

    # then that line is reported and the others are read
    assert codes(parsed) == [(3002, "undecodable_line")]
    assert len(parsed.rows) == 3001 and parsed.rows[-1].counterparty_name == "王五"


def test_mixed_encodings_within_the_first_chunk_refuse_the_file():
    # given UTF-8 and GBK lines next to each other at the top of the file
    data = "流水号,交易日期,金额,对方户名\nR1,2026-11-24,1.00,张三\n".encode() + "R2,2026-11-24,2.00,李四\n".encode("gbk")

    # then the encoding cannot be decided and the file is refused
    with pytest.raises(StatementFileError) as refused:
        parse_statement(data)
    assert refused.value.code == "undecodable"


def test_malformed_csv_line_is_reported():
    parsed = parse_statement(b"reference,date,amount\nR1,2026-11-24,1.00\rR2\nR3,2026-11-24,3.00\n")
    assert codes(parsed) == [(2, "malformed_row")]
    assert [row.line for row in parsed.rows] == [3]


# --- files that are refused as a whole -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\r\n  \n\n", "empty"),
        ("账户明细查询\n这不是对账单\n1,2,3\n".encode("gbk"), "no_header"),
        (b"name,city\nZhang San,Jinan\n", "no_header"),
        (b"reference,amount,remark\nR1,1.00,x\n", "missing_column"),
        ("流水号,交易日期,贷方发生额\nS1,2026-11-24,1.00\n".encode("gbk"), "missing_column"),
        (bytes(range(128, 256)) * 4, "undecodable"),
        ("流水号,交易日期,发生额,摘要\nS1,2026-11-24,1.00,x\n".encode("gbk"), "unsigned_amount"),
        ("流水号,交易日期,金额,借贷标记\nS1,2026-11-24,1.00,贷\n".encode("gbk"), "unknown_direction"),
        (b"reference,date,amount,D/C Indicator\nR1,2026-11-24,1.00,C\n", "unknown_direction"),
        (b"reference,date,amount,DR/CR\nR1,2026-11-24,1.00,C\n", "unknown_direction"),
    ],
)
def test_whole_file_problems_raise_before_any_row(data, code):
    # given a file that is not a statement, when iteration is asked for, then it is refused
    with pytest.raises(StatementFileError) as refused:
        iter_statement(data)
    assert refused.value.code == code


def test_header_must_be_within_the_first_sixty_lines():
    assert parse_statement(b"title\n" * 59 + b"reference,date,amount\nR1,2026-11-24,1.00\n").rows
    data = b"title\n" * 60 + b"reference,date,amount\nR1,2026-11-24,1.00\n"
    with pytest.raises(StatementFileError) as refused:
        parse_statement(data)
    assert refused.value.code == "no_header"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_statement_file_error(data):
    try:
        parsed = parse_statement(data)
    except StatementFileError:
        return
    assert all(isinstance(error, RowError) for error in parsed.errors)


@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(["reference,date,amount,balance\n", "流水号\t交易日期\t借方发生额\t贷方发生额\n",
                            "流水号,交易日期,发生额,借贷标志\n", "reference,date,credit,debit,direction\n"]),
    body=st.text(alphabet=',"\r\n\t ab合计Total¥￥-.,0123456789/借贷收支CDcd', max_size=400),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
)
def test_garbage_after_a_valid_header_yields_rows_or_row_errors(header, body, encoding):
    # given a valid header followed by CSV-like garbage, when it is read
    items = list(iter_statement((header + body).encode(encoding)))

    # then every line is a row, a row error or a line skipped with its reason (no money moved), never
    # an exception
    assert all(isinstance(item, (StatementRow, RowError, SkippedRow)) for item in items)


# --- the helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("¥1,234.50", "1234.50"),
        ("￥ 1234.5", "1234.50"),
        ("CNY 1,234.50", "1234.50"),
        ("RMB1234", "1234.00"),
        ("-500.00", "-500.00"),
        ("¥-500.00", "-500.00"),
        ("+7", "7.00"),
        (" 12 ", "12.00"),
        ("100.00元", "100.00"),
        ("999,999,999,999.99", "999999999999.99"),
        ("-0.00", "0.00"),
        ("１２３．４５", "123.45"),  # full-width: the bank's own export of the same characters
        ("￥１，２３４．５０", "1234.50"),
        ("－５００", "-500.00"),
        ("\u3000１２\u3000", "12.00"),
    ],
)
def test_parse_amount_text_accepts_what_banks_write(text, expected):
    assert parse_amount_text(text) == D(expected)
    assert parse_amount_text(text).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text",
    ["", " ", "NaN", "inf", "-Infinity", "1e3", "1.234", "1.2.3", "1,23.00", "12,34", "1 234", "(500.00)",
     "--5", "-¥-5", "¥", "1000000000000.00", "١٢٣", "१२३.४५", "1²", "0x10", "1_000", "5-", "." , "12."],
)
def test_parse_amount_text_refuses_everything_else(text):
    with pytest.raises(ValueError):
        parse_amount_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-24", (2026, 11, 24)), ("2026/11/24", (2026, 11, 24)), ("20261124", (2026, 11, 24)),
     ("2026-1-5", (2026, 1, 5)), ("2026/1/5", (2026, 1, 5)), (" 2026-11-24 ", (2026, 11, 24))],
)
def test_parse_date_text_accepts_bank_formats(text, expected):
    assert parse_date_text(text) == datetime.date(*expected)


@pytest.mark.parametrize(
    "text", ["", "2026-13-01", "2026-02-30", "2026-11/24", "24/11/2026", "11/24/2026", "2026112", "2026-11-24x"]
)
def test_parse_date_text_refuses_everything_else(text):
    with pytest.raises(ValueError):
        parse_date_text(text)


def test_detect_encoding():
    assert detect_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert detect_encoding("流水号".encode()) == "utf-8"
    assert detect_encoding("流水号".encode()[:-1]) == "utf-8"  # a chunk cut inside a character
    assert detect_encoding("流水号,交易日期".encode("gbk")) == "gb18030"
    with pytest.raises(StatementFileError):
        detect_encoding(b"\xff\xfe\x80\x80")


# --- inputs and streaming ------------------------------------------------------------------


def test_ascii_start_then_gbk_names_after_the_first_chunk():
    # given English headers and 2,000 ASCII lines before the first Chinese name, in GBK
    lines = [b"reference,date,amount,counterparty_name\n"]
    lines += [f"R{i},2026-11-24,1.00,Zhang San\n".encode() for i in range(2000)]
    lines.append("R-last,2026-11-24,2.00,山东粮油有限公司\n".encode("gbk"))

    # when it is parsed
    parsed = parse_statement(b"".join(lines))

    # then the late Chinese name is decoded as GBK
    assert parsed.errors == []
    assert parsed.rows[-1].counterparty_name == "山东粮油有限公司"
    assert parsed.encoding == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_chunks_cut_inside_characters_and_file_objects(encoding):
    # given the GBK sample delivered one byte at a time, or as a file object
    data = GBK_STATEMENT.encode(encoding)
    expected = parse_statement(data).rows

    # when it is read from those sources, then the rows are the same
    assert parse_statement(data[i : i + 1] for i in range(len(data))).rows == expected
    assert parse_statement(io.BytesIO(data)).rows == expected
    assert len(expected) == 2


# Long enough that holding rows would show (tens of MB); the benchmark streams 100,000 lines.
LONG_FILE_LINES = 50_000


def test_a_long_file_streams_in_small_memory():
    # given a generator producing a long statement, never held in memory at once
    def statement():
        yield "流水号,交易日期,金额,摘要\n".encode("gbk")
        for i in range(LONG_FILE_LINES):
            yield f'S{i:010d},2026-11-24,"1,000.00",付款码RC{i:07d}\n'.encode("gbk")
        yield "合计,,,\n".encode("gbk")

    # when it is iterated, counting rows without keeping them
    tracemalloc.start()
    try:
        counted = sum(1 for item in iter_statement(statement()) if isinstance(item, StatementRow))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then every line was read and peak memory stayed small
    assert counted == LONG_FILE_LINES
    assert peak < 5 * 1024 * 1024


# --- round trip ----------------------------------------------------------------------------

NAME_CHARS = "abcdefgXYZ 0123456789,\"'()-.#&张三李四王五山东粮油食品有限公司济南分行中国工商建设银行货款付款码"
ENGLISH = {field: [a for a in aliases if a.isascii()] for field, aliases in HEADERS.items()}
CHINESE = {field: [a for a in aliases if not a.isascii()] for field, aliases in HEADERS.items()}
text_field = st.text(alphabet=NAME_CHARS, max_size=30).map(str.strip)


@st.composite
def statement_rows(draw):
    return dict(
        bank_reference=draw(st.from_regex(r"[A-Z]{0,4}[0-9]{6,20}", fullmatch=True)),
        value_date=draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))),
        amount=draw(st.decimals(-(10**11), 10**11, places=2).filter(bool)),
        counterparty_name=draw(text_field),
        counterparty_account=draw(st.from_regex(r"[0-9]{0,20}", fullmatch=True)),
        counterparty_bank=draw(text_field),
        remark=draw(text_field),
        balance=draw(st.none() | st.decimals(-(10**11), 10**11, places=2)),
    )


def render_amount(value, separators, currency):
    text = f"{abs(value):,.2f}" if separators else f"{abs(value):.2f}"
    return ("-" if value < 0 else "") + currency + text


IN_FLAGS = sorted(token for token, sign in DIRECTION_VALUES.items() if sign > 0)
OUT_FLAGS = sorted(token for token, sign in DIRECTION_VALUES.items() if sign < 0)


def render_flag(token, data):
    """A flag the way a bank might write it: any case, maybe padded."""
    token = data.draw(st.sampled_from([token, token.upper(), token.title()]))
    return data.draw(st.sampled_from(["", " "])) + token + data.draw(st.sampled_from(["", " "]))


def render_date(value, style):
    if style == "loose":
        return f"{value.year}-{value.month}-{value.day}"
    return value.strftime(style)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(statement_rows(), min_size=1, max_size=15),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    layout=st.sampled_from(["signed", "pair", "flag", "pair_flag"]),
    separators=st.booleans(),
    currency=st.sampled_from(["", "¥", "￥", "CNY ", "RMB"]),
    date_style=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "loose"]),
    delimiter=st.sampled_from([",", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    titles=st.lists(st.sampled_from(["账户明细查询", "账号：37001618801050099999", "Account statement"]), max_size=3),
    total=st.booleans(),
    trailing_blank=st.integers(0, 3),
    data=st.data(),
)
def test_round_trip(rows, encoding, layout, separators, currency, date_style, delimiter, newline, titles,
                    total, trailing_blank, data):
    # given random valid rows rendered the way some bank might write them
    fields = ["bank_reference", "value_date", "counterparty_name", "counterparty_account",
              "counterparty_bank", "remark", "balance"]
    fields += {"signed": ["amount"], "pair": ["credit", "debit"], "flag": ["amount", "direction"],
               "pair_flag": ["credit", "debit", "direction"]}[layout]
    fields.append("unknown")
    order = data.draw(st.permutations(fields))
    # a GBK file comes from a Chinese bank with Chinese headers (an English-header GBK file whose
    # every non-ASCII byte happens to be valid UTF-8 would be indistinguishable from UTF-8)
    chinese = encoding == "gb18030" or data.draw(st.booleans())
    header = []
    for field in order:
        if field == "unknown":
            header.append(data.draw(st.sampled_from(["币种", "Channel", "交易时间"])))
        elif chinese:
            # 发生额 is unsigned by name: a file with it and no direction column is refused
            names = [n for n in CHINESE[field] if layout == "flag" or n not in UNSIGNED_AMOUNT_HEADERS]
            header.append(data.draw(st.sampled_from(names)))
        else:
            alias = data.draw(st.sampled_from(ENGLISH[field]))
            header.append(data.draw(st.sampled_from([alias, alias.upper(), alias.replace("_", " ").title()])))

    def cell(row, field):
        amount = row["amount"]
        if field == "amount":
            return render_amount(abs(amount) if layout == "flag" else amount, separators, currency)
        if field == "direction":
            if layout == "pair_flag" and data.draw(st.booleans()):
                return ""  # the pair decides; an empty flag is accepted next to it
            return render_flag(data.draw(st.sampled_from(IN_FLAGS if amount > 0 else OUT_FLAGS)), data)
        if field in ("credit", "debit"):
            if (field == "credit") == (amount > 0):
                return render_amount(abs(amount), separators, currency)
            return data.draw(st.sampled_from(["", "0.00"]))
        if field == "value_date":
            return render_date(row["value_date"], date_style)
        if field == "balance":
            return "" if row["balance"] is None else render_amount(row["balance"], separators, currency)
        if field == "unknown":
            return "CNY"
        return row[field]

    out = io.StringIO()
    for title in titles:
        out.write(title + newline)
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(row, field) for field in order])
    if total:
        writer.writerow(["合计"] + [""] * (len(order) - 1))
    out.write(newline * trailing_blank)
    payload = out.getvalue().encode(encoding)

    # when the file is parsed
    parsed = parse_statement(payload)

    # then exactly those rows come back, with their physical line numbers
    first_line = len(titles) + 2
    expected = [StatementRow(line=first_line + i, **row) for i, row in enumerate(rows)]
    assert parsed.errors == []
    assert parsed.rows == expected
    assert parsed.encoding == encoding
    assert parsed.skipped_summary == int(total)
    assert parsed.closing_balance == rows[-1]["balance"]
    # and the built-in bank layouts read it exactly the same (they only add to the standard table)
    with_layouts = parse_statement(payload, BUILTIN)
    assert (with_layouts.rows, with_layouts.errors, with_layouts.layout) == (parsed.rows, [], STANDARD)
