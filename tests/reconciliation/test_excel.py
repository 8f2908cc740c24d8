"""Excel statements (.xlsx and .xls) as banks export them: reconciliation.parsing, no database."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciliation.parsing import RowError, StatementFileError, StatementRow, parse_statement
from reconciliation.parsing.cells import amount_from_number, date_cell

from .workbooks import BUILTIN, CORPORATE_LINES, FIXTURES, TRAITS, as_csv, corporate_rows, workbook

D = Decimal
ACCOUNT = "37001618801050099999"
LINES = CORPORATE_LINES
corporate_workbook = TRAITS["corporate"]


def test_an_xlsx_export_with_preamble_two_row_header_numbers_and_footers():
    # given an export with a merged title, a preamble, 发生额/元 over 借方 | 贷方, amounts stored
    # as floats, dates as a datetime, a text with a time, a serial number and 20251205, and footers
    data = corporate_workbook()

    # when it is read with the built-in layouts
    parsed = parse_statement(data, BUILTIN)

    # then every line is exact, the zero-amount line is skipped and reported, footers are skipped
    assert parsed.errors == [] and parsed.file_format == "xlsx" and parsed.layout.code == "cn-debit-credit"
    assert [(row.line, row.bank_reference, row.value_date, row.amount) for row in parsed.rows] == [
        (10, "T0001", datetime.date(2025, 12, 3), D("1234.50")),
        (11, "20251203000123", datetime.date(2025, 12, 3), D("-100.00")),
        (12, "T0003", datetime.date(2025, 12, 9), D("0.30")),
    ]
    assert parsed.rows[1].counterparty_account == "6222020200112233"
    assert [(skip.line, skip.code) for skip in parsed.skipped] == [(13, "zero_amount")]
    assert parsed.skipped_summary == 2  # 人民币合计 and 以上数据仅供参考 (a row of separators is blank)
    assert parsed.closing_balance == D("1134.80")
    # and the preamble told the account and the period
    assert parsed.account_number == ACCOUNT and parsed.period == ("2025-12-01", "2025-12-31")
    assert parsed.columns["debit"] == "发生额/元 借方" and parsed.columns["credit"] == "发生额/元 贷方"


@pytest.mark.parametrize("trait", sorted(TRAITS))
def test_each_xls_fixture_reads_to_the_same_lines_as_the_xlsx_it_was_made_from(trait):
    # given the committed .xls (BIFF) made from the trait's workbook (fixtures/make_fixtures.py)
    xls = (FIXTURES / f"{trait}.xls").read_bytes()

    # when both are read
    from_xls, from_xlsx = parse_statement(xls, BUILTIN), parse_statement(TRAITS[trait](), BUILTIN)

    # then the lines, the layout and the preamble are identical, and nothing is an error
    assert from_xls.file_format == "xls" and from_xls.errors == from_xlsx.errors == []
    assert from_xls.rows == from_xlsx.rows and len(from_xls.rows) >= 2
    assert (from_xls.layout, from_xls.account_number, from_xls.skipped) == \
        (from_xlsx.layout, from_xlsx.account_number, from_xlsx.skipped)


def test_what_the_trait_fixtures_read_as():
    multi = parse_statement(TRAITS["multi_sheet"](), BUILTIN)
    assert [(row.bank_reference, row.amount) for row in multi.rows] == [
        ("S1", D("500.00")), ("S2", D("-20.50")), ("S3", D("1234.56"))]
    flags = parse_statement(TRAITS["direction_flag"](), BUILTIN)
    assert [(row.bank_reference, row.amount) for row in flags.rows] == [("F1", D("12800.00")), ("F2", D("-2000.00"))]
    assert flags.account_number == ACCOUNT
    teller = parse_statement(TRAITS["teller_reference"](), BUILTIN)
    assert teller.layout.code == "cn-teller-reference"
    assert [(row.bank_reference, row.value_date, row.amount) for row in teller.rows] == [
        ("T01-R1", datetime.date(2025, 12, 3), D("300.00")), ("T01-R2", datetime.date(2025, 12, 3), D("-45.00"))]


def test_a_cover_sheet_is_skipped_and_a_statement_continued_on_the_next_sheet_is_read():
    # given a cover sheet, then the statement over two sheets (the second repeats the header)
    header = ["交易日期", "流水号", "金额", "摘要"]
    data = workbook(("说明", [["本文件由企业网银导出"], ["请勿修改"]]),
                    ("第1页", [header, ["2025-12-01", "A1", 10.0, "x"], ["2025-12-01", "A2", -2.5, "y"]]),
                    ("第2页", [header, ["2025-12-02", "A3", 7.0, "z"], ["2025-12-02", "A4", "abc", "bad"]]))

    # when it is read
    parsed = parse_statement(data)

    # then both statement sheets are read and an error names its sheet
    assert [(row.bank_reference, row.amount) for row in parsed.rows] == [
        ("A1", D("10.00")), ("A2", D("-2.50")), ("A3", D("7.00"))]
    assert [(e.sheet, e.line, e.code) for e in parsed.errors] == [("第2页", 3, "bad_amount")]


@pytest.mark.parametrize(("value", "expected"), [
    (1234.5, "1234.50"), (0.1 + 0.2, "0.30"), (1e11 + 0.01, "100000000000.01"), (-12.3, "-12.30"), (7, "7.00"),
    (999999999999.99, "999999999999.99"), (-0.0, "0.00"),
])
def test_excel_numbers_become_exact_two_decimal_amounts(value, expected):
    amount = amount_from_number(value)
    assert amount == D(expected) and amount.as_tuple().exponent == -2


@pytest.mark.parametrize("value", [1234.567, 0.001, float("nan"), float("inf"), 1e13, True])
def test_excel_numbers_that_are_not_whole_fen_are_refused(value):
    with pytest.raises(ValueError):
        amount_from_number(value)


@pytest.mark.parametrize(("value", "expected"), [
    (datetime.datetime(2025, 12, 3, 23, 59, 59), (2025, 12, 3)), (datetime.date(2025, 12, 3), (2025, 12, 3)),
    (46000, (2025, 12, 9)), (46000.75, (2025, 12, 9)), (20251203, (2025, 12, 3)), (20251203.0, (2025, 12, 3)),
    ("2025/12/03  14:06:51", (2025, 12, 3)), ("2025-12-03T14:06", (2025, 12, 3)), ("２０２５－１２－０３", (2025, 12, 3)),
])
def test_excel_dates_serials_and_texts_become_dates(value, expected):
    assert date_cell(value) == datetime.date(*expected)


@pytest.mark.parametrize("value", [12, 3.5, 99999999, "٢٠٢٥-١٢-٠٣", "2025/13/03", True])
def test_cells_that_are_not_dates_are_refused(value):
    with pytest.raises(ValueError):
        date_cell(value)


def test_a_bad_excel_amount_and_a_reference_excel_already_rounded_are_row_errors():
    # given a float with three decimals, and a 19-digit reference stored as a number
    data = workbook(("s", [["流水号", "交易日期", "金额"], ["R1", "2025-12-01", 1.005 + 1e-3],
                           [6222020200112233445, "2025-12-01", 5.0], ["R3", "2025-12-01", True]]))

    # when it is read, then each is an error on its row
    parsed = parse_statement(data)
    assert [(e.line, e.code) for e in parsed.errors] == [(2, "bad_amount"), (3, "bad_reference"), (4, "bad_amount")]


def test_csv_and_excel_versions_of_the_same_export_read_identically():
    # given the corporate export as the bank's CSV and as its workbook
    rows = corporate_rows(ACCOUNT, LINES)
    csv_lines = [(line[0] if not isinstance(line[0], datetime.datetime) else line[0], *line[1:]) for line in LINES]
    from_csv = parse_statement(as_csv(corporate_rows(ACCOUNT, csv_lines)), BUILTIN)
    from_excel = parse_statement(workbook(("s", rows)), BUILTIN)

    # then the lines are the same (46000 is an Excel serial only in Excel: compare the others)
    assert [r for r in from_csv.rows if r.bank_reference != "T0003"] == \
        [r for r in from_excel.rows if r.bank_reference != "T0003"]
    assert from_csv.account_number == from_excel.account_number == ACCOUNT


def test_a_damaged_workbook_is_refused():
    with pytest.raises(StatementFileError) as refused:
        parse_statement(b"PK\x03\x04" + b"\x00" * 200)
    assert refused.value.code == "bad_workbook"


def test_a_damaged_xls_that_would_abort_the_reader_is_refused_and_the_process_lives_on():
    # given a corrupted .xls whose record lengths make calamine ask for ~30 GB and abort
    data = (FIXTURES / "damaged.xls").read_bytes()

    # when it is read (first tried in a child process under a memory limit)
    with pytest.raises(StatementFileError) as refused:
        parse_statement(data)

    # then it is refused like any damaged workbook, and this process is still here to say so
    assert refused.value.code == "bad_workbook"


def test_a_workbook_without_a_statement_header_is_refused_with_the_headers_it_has():
    # given a workbook whose table the layouts do not know
    data = workbook(("s", [["客户对账单"], ["日期", "单号", "数额", "说明"], ["2025-12-01", "X1", 5.0, "x"]]))

    # when it is read, then the message lists the headers found and where
    with pytest.raises(StatementFileError) as refused:
        parse_statement(data, BUILTIN)
    assert refused.value.code == "no_header"
    assert "“日期”, “单号”, “数额”, “说明”" in refused.value.message and "line 2" in refused.value.message


def test_an_xml_spreadsheet_saved_as_xls_is_refused_with_what_to_do():
    # given what some banks download as ".xls": Excel 2003 XML (SpreadsheetML)
    with pytest.raises(StatementFileError) as refused:
        parse_statement(b'\xef\xbb\xbf<?xml version="1.0"?><Workbook><Worksheet></Worksheet></Workbook>')
    # then the message says what it is and how to make a workbook of it
    assert refused.value.code == "xml_spreadsheet" and ".xlsx" in refused.value.message


HTML_XLS = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<style>td {{ mso-number-format: "\\@"; }}</style></head><body>
<table><tr><td colspan="6">账户交易明细</td></tr><tr><td>账号：{account}</td><td></td></tr></table>
<table border="1">
<tr><th>交易时间</th><th>交易流水号</th><th colspan="2">发生额/元</th><th>对方户名</th><th>附言</th></tr>
<tr><th></th><th></th><th>借方</th><th>贷方</th><th></th><th></th></tr>
<tr><td>2025-12-03 14:06:51</td><td>H1</td><td></td><td>1,234.50</td><td>济南鲁味&amp;食品</td><td>货款<br>RC7KQ2M9X</td></tr>
<tr><td>2025-12-03 15:00:00</td><td>H2</td><td>20.00</td><td>&nbsp;</td><td>张三</td><td>手续费</td></tr>
<tr><td>人民币合计</td><td></td><td>20.00</td><td>1,234.50</td><td></td><td></td></tr>
</table><script>var x = "<tr><td>2025-12-03</td><td>X</td><td>9</td></tr>";</script></body></html>"""


def test_a_web_page_saved_as_xls_is_read_like_a_workbook():
    # given the HTML table some online banking downloads as ".xls", in GBK, with a title table,
    # a two-row header with colspan, entities, a <br> in a remark, a total and a script
    data = HTML_XLS.format(account=ACCOUNT).encode("gbk")

    # when it is read
    parsed = parse_statement(data, BUILTIN)

    # then its lines are read like a workbook's, and the script's text is not a line
    assert parsed.file_format == "html" and parsed.errors == [] and parsed.account_number == ACCOUNT
    assert [(row.bank_reference, row.amount, row.counterparty_name, row.remark) for row in parsed.rows] == [
        ("H1", D("1234.50"), "济南鲁味&食品", "货款 RC7KQ2M9X"), ("H2", D("-20.00"), "张三", "手续费")]
    assert parsed.skipped_summary == 1


def test_an_empty_workbook_is_refused_as_empty():
    with pytest.raises(StatementFileError) as refused:
        parse_statement(workbook(("s", [])))
    assert refused.value.code == "empty"


def test_rows_come_out_as_statement_rows():
    parsed = parse_statement(workbook(("s", [["reference", "date", "amount"], ["R1", "2025-12-01", "1,000.00"]])))
    assert parsed.rows == [StatementRow(2, "R1", datetime.date(2025, 12, 1), D("1000.00"), "", "", "", "", None)]


def test_line_numbers_are_excel_s_own_when_the_table_does_not_start_in_a1():
    # given a table that starts in C3 (two empty rows, two empty columns)
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row, values in ((3, ("流水号", "交易日期", "金额")), (4, ("R1", "2025-12-01", 5.0)), (6, ("R2", "2025-12-01", "x"))):
        for column, value in enumerate(values, start=3):
            sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)

    # when it is read, then rows and errors carry the line Excel shows
    parsed = parse_statement(out.getvalue())
    assert [row.line for row in parsed.rows] == [4] and [e.line for e in parsed.errors] == [6]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='<>/="trdhablecolspn 交易日期流水号金额0123456789.,-²&;#x', max_size=300))
def test_any_web_page_is_read_or_refused_never_a_crash(body):
    try:
        parsed = parse_statement(("<html><table>" + body).encode())
    except StatementFileError:
        return
    assert all(isinstance(error, RowError) for error in parsed.errors)
