"""Statement layouts: the header words, direction values, dates, footers and references banks
use, read through the built-in layouts; one fixture per trait, written from the
traits, not copied from a bank. No database except where a test says so."""
import csv
import datetime
import io
from decimal import Decimal

import pytest

from reconciliation.parsing import STANDARD, StatementFileError, layout_from_data, parse_statement

from .test_parsing import GBK_DIRECTION_STATEMENT, GBK_STATEMENT, SAMPLE
from .workbooks import BUILTIN, workbook

D = Decimal
DAY = datetime.date(2025, 12, 3)


def read(header, *rows, layouts=BUILTIN, encoding="gb18030"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return parse_statement(out.getvalue().encode(encoding), layouts)


@pytest.mark.parametrize("date_header", ["交易时间", "记账时间", "入账日期"])
def test_date_headers_with_a_time(date_header):
    parsed = read([date_header, "流水号", "金额"], ["2025/12/03  14:06:51", "R1", "5.00"])
    assert [(row.value_date, row.amount) for row in parsed.rows] == [(DAY, D("5.00"))]


@pytest.mark.parametrize("reference_header", ["凭证号", "交易流水号", "账户明细编号-交易流水号", "交易参考号", "柜员流水号"])
def test_reference_headers(reference_header):
    parsed = read(["交易日期", reference_header, "金额"], ["2025-12-03", "X-0001", "5.00"])
    assert [row.bank_reference for row in parsed.rows] == ["X-0001"] and parsed.errors == []


def test_of_two_references_the_one_unique_per_account_is_used():
    # given 凭证号 (one voucher may cover several lines) and 交易流水号 (unique per account)
    parsed = read(["凭证号", "交易日期", "交易流水号", "金额"], ["V1", "2025-12-03", "S1", "5.00"],
                  ["V1", "2025-12-03", "S2", "6.00"])
    assert [row.bank_reference for row in parsed.rows] == ["S1", "S2"]


def test_two_references_neither_unique_make_a_composite_reference():
    # given a bank that gives 柜员流水号 and 交易参考号, neither unique on its own
    parsed = read(["交易日期", "柜员流水号", "交易参考号", "借方发生额", "贷方发生额"],
                  ["2025-12-03", "T1", "R1", "", "5.00"], ["2025-12-03", "T1", "R2", "3.00", ""])
    assert parsed.layout.code == "cn-teller-reference"
    assert [(row.bank_reference, row.amount) for row in parsed.rows] == [("T1-R1", D("5.00")), ("T1-R2", D("-3.00"))]


@pytest.mark.parametrize(("credit", "debit"), [("转入金额", "转出金额"), ("收入金额", "支出金额"),
                                               ("贷方发生额（收入）", "借方发生额（支取）"),
                                               ("贷方发生额/元", "借方发生额/元"), ("记账金额(收入)", "记账金额(支出)")])
def test_money_in_and_money_out_headers(credit, debit):
    parsed = read(["交易日期", "流水号", debit, credit], ["2025-12-03", "R1", "-", "+10000.00"],
                  ["2025-12-03", "R2", "\t12.50 ", "0.00"])
    assert parsed.errors == [] and [row.amount for row in parsed.rows] == [D("10000.00"), D("-12.50")]


@pytest.mark.parametrize("header", ["借贷标志", "借/贷", "借贷", "收支标识"])
@pytest.mark.parametrize(("flag", "sign"), [("贷 Cr", 1), ("借 Dr", -1), ("收", 1), ("支", -1), ("C", 1), ("D", -1)])
def test_direction_columns_and_values(header, flag, sign):
    parsed = read(["交易日期", "流水号", "发生额", header], ["2025-12-03", "R1", "1,000.00", flag])
    assert parsed.errors == [] and [row.amount for row in parsed.rows] == [D("1000.00") * sign]


def test_numbered_directions_only_where_the_layout_documents_them():
    # given 1/2 under 收支标识 (the built-in layout that documents 1 = in, 2 = out) …
    parsed = read(["交易日期", "流水号", "发生额", "收支标识"], ["2025-12-03", "R1", "5.00", "1"],
                  ["2025-12-03", "R2", "5.00", "2"])
    assert parsed.layout.code == "cn-direction-1-2" and [row.amount for row in parsed.rows] == [D("5.00"), D("-5.00")]
    # … and under any other direction header, where nothing says what 1 means: a row error
    other = read(["交易日期", "流水号", "发生额", "借贷标志"], ["2025-12-03", "R1", "5.00", "1"])
    assert other.rows == [] and [e.code for e in other.errors] == ["bad_direction"]


def test_numbered_directions_stored_as_excel_numbers():
    data = workbook(("s", [["交易日期", "流水号", "发生额", "收支标识"], ["2025-12-03", "R1", 5.0, 1],
                           ["2025-12-03", "R2", 5.0, 2.0]]))
    assert [row.amount for row in parse_statement(data, BUILTIN).rows] == [D("5.00"), D("-5.00")]


@pytest.mark.parametrize(("header", "field"), [("交易摘要", "remark"), ("附言", "remark"), ("用途", "remark"),
                                               ("客户摘要", "remark"), ("交易附言", "remark"), ("备注", "remark"),
                                               ("对方账户", "counterparty_account"),
                                               ("对方账户名称", "counterparty_name"), ("收/付方名称", "counterparty_name"),
                                               ("对方开户机构", "counterparty_bank")])
def test_remark_and_counterparty_headers(header, field):
    parsed = read(["交易日期", "流水号", "金额", header], ["2025-12-03", "R1", "5.00", "山东某某"])
    assert getattr(parsed.rows[0], field) == "山东某某" and parsed.columns[field] == header


def test_cell_shapes_banks_write():
    # given dashes and empties for "no amount", 0.00 on the unused side, a plus sign, padding,
    # ¥, full-width digits and punctuation, and a zero-amount interest-tax line
    parsed = read(["交易日期", "流水号", "借方发生额", "贷方发生额", "摘要"],
                  ["2025-12-03", "R1", "-", "+10000.00", "a"],
                  ["\t2025-12-03 ", " R2\t", "0.00", "¥1,234.50", "b"],
                  ["２０２５－１２－０３", "Ｒ３", "１２３．４５", "", "c"],
                  ["2025-12-03", "R4", "￥１，２３４．５０", "-", "d"],
                  ["2025-12-03", "R5", "0.00", "0.00", "利息税"])
    assert parsed.errors == []
    assert [(row.bank_reference, row.amount) for row in parsed.rows] == [
        ("R1", D("10000.00")), ("R2", D("1234.50")), ("R3", D("-123.45")), ("R4", D("-1234.50"))]
    assert [(skip.line, skip.code) for skip in parsed.skipped] == [(6, "zero_amount")]


@pytest.mark.parametrize("amount", ["١٢٣.٤٥", "१२३", "12٣", "¥١,٠٠٠.00"])
def test_digits_of_other_scripts_are_a_bad_amount_with_a_clear_message(amount):
    parsed = read(["交易日期", "流水号", "金额"], ["2025-12-03", "R1", amount], encoding="utf-8")
    assert parsed.rows == [] and [e.code for e in parsed.errors] == ["bad_amount"]
    assert "another script" in str(parsed.errors[0].reason)


def test_an_unsigned_amount_without_a_direction_names_the_column_and_what_is_needed():
    with pytest.raises(StatementFileError) as refused:
        read(["交易日期", "流水号", "发生额", "摘要"], ["2025-12-03", "R1", "5.00", "x"])
    assert refused.value.code == "unsigned_amount"
    assert "“发生额”" in refused.value.message and "借方发生额" in refused.value.message


def test_footers_by_shape_and_by_pattern():
    parsed = read(["交易日期", "流水号", "金额"], ["2025-12-03", "R1", "5.00"], ["人民币合计", "", "5.00"],
                  ["本页小计", "", "5.00"], ["====", "====", "===="], ["以上数据仅供参考", "", ""],
                  ["打印时间：2025-12-31 18:00", "", ""], ["第 1 页 / 共 1 页", "", ""], ["经办：张三", "复核：李四", ""])
    assert parsed.errors == [] and [row.bank_reference for row in parsed.rows] == ["R1"]
    assert parsed.skipped_summary == 6


def test_a_header_below_a_long_preamble_and_a_marker_line():
    preamble = [[f"查询条件{i}：全部"] for i in range(30)] + [["[HISTORYDETAIL]"]]
    data = workbook(("s", preamble + [["交易日期", "流水号", "金额"], ["2025-12-03", "R1", 5.0]]))
    assert [row.line for row in parse_statement(data, BUILTIN).rows] == [33]


def test_two_row_header_amount_over_income_and_expense():
    data = workbook(("s", [["交易日期", "流水号", "金额", None, "摘要"], [None, None, "收入", "支出", None],
                           ["2025-12-03", "R1", 5.0, None, "a"], ["2025-12-03", "R2", None, 3.0, "b"]], ["C1:D1"]))
    parsed = parse_statement(data)
    assert [(row.line, row.amount) for row in parsed.rows] == [(3, D("5.00")), (4, D("-3.00"))]


@pytest.mark.parametrize("data", [SAMPLE, GBK_STATEMENT.encode("gbk"), GBK_DIRECTION_STATEMENT.encode("gbk")])
def test_the_built_in_layouts_never_change_how_a_standard_file_reads(data):
    standard, with_layouts = parse_statement(data), parse_statement(data, BUILTIN)
    assert with_layouts.layout is STANDARD
    assert (with_layouts.rows, with_layouts.errors, with_layouts.columns) == (standard.rows, standard.errors,
                                                                            standard.columns)


def test_a_layout_operations_add_reads_their_bank_s_words_and_dates():
    # given a layout for a bank that writes 入账日 as 03/12/2025 and 收付标记 R/P
    layout = layout_from_data({"code": "x-bank", "name": "X Bank", "headers": {
        "value_date": ["入账日"], "bank_reference": ["记录号"], "amount": ["笔额"], "direction": ["收付标记"]},
        "date_formats": ["%d/%m/%Y"], "direction_values": {"R": "in", "P": "out"}, "footer_patterns": ["^END$"]})
    parsed = read(["入账日", "记录号", "笔额", "收付标记"], ["03/12/2025", "N1", "8.00", "R"],
                  ["03/12/2025", "N2", "2.00", "p"], ["END", "", "", ""], layouts=[layout])
    assert parsed.layout.code == "x-bank"
    assert [(row.value_date, row.amount) for row in parsed.rows] == [(DAY, D("8.00")), (DAY, D("-2.00"))]


# --- the StatementLayout records (database) ----------------------------------------------------

@pytest.mark.django_db
def test_the_built_in_layouts_are_rows_operations_can_see():
    from reconciliation.models import StatementLayout
    from reconciliation.selectors import statement_layouts

    codes = set(StatementLayout.objects.filter(built_in=True).values_list("code", flat=True))
    assert {layout.code for layout in BUILTIN} <= codes
    assert {layout.code for layout in statement_layouts()} == codes


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("direction_values", {"贷": "out"}),  # the standard table's 贷 is money in: never redefined
    ("direction_values", {"1": "sideways"}),
    ("date_formats", ["%H:%M"]),
    ("footer_patterns", ["(unclosed"]),
    ("footer_patterns", [".*"]),  # would skip every row
    ("headers", {"amountz": ["x"]}),
])
def test_a_layout_that_could_misread_money_is_refused(field, value):
    from django.core.exceptions import ValidationError

    from reconciliation.models import StatementLayout

    layout = StatementLayout(code="bad", name="Bad", **{field: value})
    with pytest.raises(ValidationError) as refused:
        layout.full_clean()
    assert field in refused.value.message_dict
