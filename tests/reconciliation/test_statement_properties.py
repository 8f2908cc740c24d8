"""Properties of statement import over generated statements (hypothesis):

- the Excel and the CSV version of the same statement import to identical lines;
- no outflow is ever read as an inflow, whatever the layout, file format and cell shapes;
- a refused file books nothing: no line, no entry, no credited deposit, no balance moved."""
import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances
from reconciliation.models import StatementBatch, StatementLine
from reconciliation.parsing import RowError, parse_statement
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce
from .workbooks import BUILTIN, as_csv, workbook

D = Decimal
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.text(alphabet="张三李四王五山东粮油有限公司 abcXYZ", max_size=12).map(str.strip)


@st.composite
def statements(draw, min_size=1, max_size=8):
    """Lines with unique references: (reference, date, signed amount, name, remark)."""
    n = draw(st.integers(min_size, max_size))
    references = draw(st.lists(st.from_regex(r"[A-Z]{1,3}[0-9]{4,12}", fullmatch=True), min_size=n, max_size=n,
                               unique=True))
    return [(reference, draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))),
             draw(st.decimals(D("-99999999.99"), D("99999999.99"), places=2).filter(bool)), draw(NAMES), draw(NAMES))
            for reference in references]


def render(lines, *, layout, excel, draw):
    """The statement as a bank would write it, in one layout, as sheet rows (cells typed the
    way that format stores them: numbers and dates in Excel, text in CSV)."""
    def money(value: Decimal):
        if excel and draw(st.booleans()):
            return float(value)
        text = draw(st.sampled_from(["{:.2f}", "{:,.2f}", "¥{:,.2f}", "CNY {:.2f}"])).format(value)
        if draw(st.booleans()):
            text = text.translate({ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789.,"})  # full-width
        return text

    def day(value: datetime.date):
        if excel:
            return draw(st.sampled_from([value, datetime.datetime.combine(value, datetime.time(14, 6, 51)),
                                         value.strftime("%Y/%m/%d"), int(value.strftime("%Y%m%d"))]))
        return draw(st.sampled_from([value.isoformat(), value.strftime("%Y/%m/%d"), value.strftime("%Y%m%d"),
                                     value.strftime("%Y/%m/%d  14:06:51")]))

    def empty():
        return draw(st.sampled_from([None, "", "-", "0.00"] if excel else ["", "-", "0.00"]))

    preamble = [["账户交易明细"], ["起止日期", "2000-01-01 至 2099-12-31"], []]
    if layout == "pair":
        rows = [["交易时间", "交易流水号", "借方发生额", "贷方发生额", "对方户名", "摘要"]]
        rows += [[day(d), ref, money(-a) if a < 0 else empty(), money(a) if a > 0 else empty(), name, remark]
                 for ref, d, a, name, remark in lines]
    elif layout == "two_rows":
        rows = [["交易日期", "流水号", "发生额/元", None, "对方户名", "摘要"], [None, None, "借方", "贷方", None, None]]
        rows += [[day(d), ref, money(-a) if a < 0 else empty(), money(a) if a > 0 else empty(), name, remark]
                 for ref, d, a, name, remark in lines]
    elif layout == "flag":
        ins, outs = ["贷", "C", "收", "贷 Cr", "Credit"], ["借", "D", "支", "借 Dr", "Debit"]
        rows = [["交易日期", "流水号", "发生额", "借贷标志", "对方户名", "摘要"]]
        rows += [[day(d), ref, money(abs(a)), draw(st.sampled_from(ins if a > 0 else outs)), name, remark]
                 for ref, d, a, name, remark in lines]
    else:  # signed
        rows = [["交易日期", "流水号", "交易金额", "对方户名", "摘要"]]
        rows += [[day(d), ref, money(a), name, remark] for ref, d, a, name, remark in lines]
    return preamble + rows + [["合计"], ["以上数据仅供参考"]]


def encode(rows, excel):
    return workbook(("明细", rows)) if excel else as_csv(rows, encoding="gb18030")


LAYOUTS = st.sampled_from(["pair", "two_rows", "flag", "signed"])


# --- no outflow is ever read as an inflow -------------------------------------------------------

@FAST
@given(lines=statements(max_size=12), layout=LAYOUTS, excel=st.booleans(), data=st.data())
def test_no_outflow_is_ever_read_as_an_inflow(lines, layout, excel, data):
    # given a statement of money in and money out, written in some layout and format
    payload = encode(render(lines, layout=layout, excel=excel, draw=data.draw), excel)

    # when it is read with every built-in layout
    parsed = parse_statement(payload, BUILTIN)

    # then each line comes back with its own amount and sign, exactly
    assert parsed.errors == []
    assert [(row.bank_reference, row.value_date, row.amount) for row in parsed.rows] == \
        [(ref, d, a) for ref, d, a, _n, _r in lines]


@FAST
@given(amount=st.decimals(D("0.01"), D("99999999.99"), places=2), layout=st.sampled_from(["pair", "flag"]),
       noise=st.sampled_from(["贷", "C", "收", "转", "1", "?", "", "+", "借贷", "Cr Dr"]), excel=st.booleans())
def test_an_outflow_with_any_flag_is_money_out_or_a_row_error(amount, layout, noise, excel):
    # given money out whose direction cell says anything at all
    if layout == "pair":
        rows = [["交易日期", "流水号", "借方发生额", "贷方发生额", "借贷标志"], ["2025-12-03", "R1", f"{amount:.2f}", "", noise]]
    else:
        rows = [["交易日期", "流水号", "发生额", "借贷标志"], ["2025-12-03", "R1", f"{amount:.2f}", noise]]
    truly_out = layout == "pair"  # in the flag layout the flag is the only word on direction

    # when it is read
    parsed = parse_statement(encode(rows, excel), BUILTIN)

    # then it is never money in unless the flag itself says so (and a pair's debit never is)
    for row in parsed.rows:
        assert row.amount < 0 if truly_out else (row.amount > 0) == (noise in ("贷", "C", "收"))
    assert parsed.rows or all(isinstance(e, RowError) for e in parsed.errors)


# --- Excel and CSV versions import to identical lines ------------------------------------------

@FAST
@given(lines=statements(), layout=LAYOUTS, data=st.data())
def test_excel_and_csv_versions_read_to_identical_rows(lines, layout, data):
    # given one statement as a workbook (numbers and dates stored as such) and as CSV text
    as_excel = encode(render(lines, layout=layout, excel=True, draw=data.draw), True)
    as_text = encode(render(lines, layout=layout, excel=False, draw=data.draw), False)
    # when both are read, then the rows are identical, line numbers included
    excel, text = parse_statement(as_excel, BUILTIN), parse_statement(as_text, BUILTIN)
    assert excel.errors == text.errors == [] and excel.rows == text.rows and len(excel.rows) == len(lines)


def _lines_of(batch):
    return list(StatementLine.objects.filter(batch=batch).order_by("line_no").values_list(
        "line_no", "bank_reference", "value_date", "business_date", "amount", "counterparty_name", "remark", "status"))


@pytest.mark.django_db
@SLOW
@given(lines=statements(), layout=LAYOUTS, data=st.data())
def test_excel_and_csv_versions_of_the_same_statement_import_to_identical_lines(lines, layout, data):
    with transaction.atomic():
        # given two merchants, and one statement rendered as the bank's CSV and as its workbook
        as_excel, as_text = f.active_merchant(), f.active_merchant()
        files = {excel: encode(render(lines, layout=layout, excel=excel, draw=data.draw), excel)
                 for excel in (True, False)}

        # when each merchant imports one version
        results = [statement_import(account_number=m.supervision_account_number, stream=files[excel],
                                    actor=None, file_name="s") for m, excel in ((as_excel, True), (as_text, False))]

        # then both are taken and store the very same lines with the same outcome
        assert [r.refused for r in results] == [False, False]
        assert _lines_of(results[0].batch) == _lines_of(results[1].batch)
        assert len(_lines_of(results[0].batch)) == len(lines)
        assert account_balances(as_excel)["supervision"] == account_balances(as_text)["supervision"]
        transaction.set_rollback(True)


# --- a refused file books nothing ---------------------------------------------------------------

BAD_CELLS = {  # how a row goes wrong: (column to spoil, what the bank wrote)
    "date": (0, "2025-13-45"), "amount": (2, "1.234"), "foreign": (2, "١٢٣.٤٥"), "text": (2, "abc"),
    "reference": (1, ""), "three_decimals": (2, 12.345),
}


@pytest.mark.django_db
@SLOW
@given(lines=statements(min_size=2), where=st.integers(0, 50), how=st.sampled_from(sorted(BAD_CELLS) + ["reused"]),
       excel=st.booleans(), data=st.data())
def test_a_refused_file_books_nothing(lines, where, how, excel, data):
    with transaction.atomic():
        # given a merchant with open deposits whose codes the good lines carry
        merchant = f.active_merchant()
        member = f.member(merchant)
        money_in = [(i, line) for i, line in enumerate(lines) if 0 < line[2] <= 50000]
        deposits = [announce(merchant, member, str(line[2]), f"D-{i}") for i, line in money_in]
        for (i, line), deposit in zip(money_in, deposits):
            lines[i] = (*line[:4], f"货款 {deposit.payment_code}")
        rows = render(lines, layout="signed", excel=False, draw=data.draw)
        first = next(i for i, row in enumerate(rows) if row and row[0] == "交易日期") + 1
        target = first + where % len(lines)
        if how == "reused":  # the reference of another line, with another amount
            other = lines[(where + 1) % len(lines)]
            rows[target] = [rows[target][0], other[0], f"{other[2] + (D('0.01') if other[2] != D('-0.01') else 2):.2f}",
                            "x", "y"]
        else:
            column, bad = BAD_CELLS[how]
            rows[target] = list(rows[target])
            rows[target][column] = bad if excel or not isinstance(bad, float) else f"{bad}"
        entries, before = JournalEntry.objects.count(), account_balances(merchant)["supervision"]

        # when the file is imported
        result = statement_import(account_number=merchant.supervision_account_number, stream=encode(rows, excel),
                                  actor=None, file_name="bad")

        # then it is refused, and nothing of it is booked or stored
        assert result.refused and result.errors
        assert StatementLine.objects.filter(merchant=merchant).count() == 0
        assert JournalEntry.objects.count() == entries
        assert account_balances(merchant)["supervision"] == before
        assert all(d.status == Deposit.Status.AWAITING_FUNDS for d in Deposit.objects.filter(merchant=merchant))
        assert list(StatementBatch.objects.filter(merchant=merchant).values_list("status", flat=True)) == ["refused"]
        transaction.set_rollback(True)
