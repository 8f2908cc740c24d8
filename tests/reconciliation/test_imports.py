"""Statement import: real-looking files in, lines stored and matched, or the file refused."""
from decimal import Decimal

import pytest

from core.models import AuditEvent
from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances, prove_merchant
from ledger.services.accounts import member_accounts
from reconciliation.models import StatementBatch, StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english, gbk_debit_credit

pytestmark = pytest.mark.django_db
D = Decimal


def do_import(merchant, data, **kw):
    return statement_import(account_number=merchant.supervision_account_number, stream=data, actor=None,
                            file_name=kw.pop("file_name", "statement.csv"), **kw)


def balance(member):
    available, _ = member_accounts(member)
    available.refresh_from_db()
    return available.balance


@pytest.fixture
def merchant():
    return f.active_merchant()


def test_a_gbk_file_with_chinese_headers_debit_credit_columns_and_a_summary_row(merchant):
    # given two announced deposits and the bank's GBK export with 借方/贷方 columns
    buyer, seller = f.member(merchant), f.member(merchant)
    d1 = announce(merchant, buyer, "1234.50", "D-1")
    d2 = announce(merchant, seller, "3000.00", "D-2")
    data = gbk_debit_credit([
        ("SR001", "2026/11/24", "", "1,234.50", "张三", "6222020200112233445", f"货款 {d1.payment_code}", "1,234.50"),
        ("SR002", "20261124", "", "￥3,000.00", "山东粮油有限公司", "3700161880105", f"附言{d2.payment_code.lower()}",
         "4,234.50"),
        ("SR003", "2026-11-24", "100.00", "", "某某", "62170000", "手续费", "4,134.50"),
    ])
    # when it is imported
    result = do_import(merchant, data)
    # then every line is stored, both deposits are credited and the money out waits unbooked
    assert result.as_json() == {"rows": 3, "imported": 3, "duplicates": 0, "matched": 2, "unmatched": 1,
                                "errors": []}
    assert result.encoding == "gb18030"
    batch = result.batch
    assert batch.status == StatementBatch.Status.POSTED and batch.closing_balance == D("4134.50")
    assert batch.skipped_summary == 1
    line1, line2, line3 = StatementLine.objects.filter(batch=batch).order_by("line_no")
    assert (line1.status, line1.deposit_id, line1.amount) == ("posted", d1.pk, D("1234.50"))
    assert line1.counterparty_name == "张三"
    assert (line2.status, line2.deposit_id) == ("posted", d2.pk)
    assert (line3.status, line3.amount, line3.entry_id) == ("unmatched", D("-100.00"), None)
    assert balance(buyer) == D("1234.50") and balance(seller) == D("3000.00")
    d1.refresh_from_db()
    assert (d1.status, d1.proof_kind, d1.proof_reference) == (Deposit.Status.SUCCEEDED, "statement_line", "SR001")
    assert account_balances(merchant)["supervision"] == D("4234.50")
    assert prove_merchant(merchant).ok


def test_utf8_with_bom_thousands_separators_and_a_total_row(merchant):
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "12345.60", "D-3")
    data = english([("R1", "2026-11-24", "12,345.60", "Wang", "1", "B", f"code {deposit.payment_code}", "12,345.60")],
                   bom=True, footer="Total,,12345.60,,,,,\r\n\r\n")
    result = do_import(merchant, data)
    assert result.as_json()["matched"] == 1 and result.rows == 1
    assert result.encoding == "utf-8-sig"
    assert balance(buyer) == D("12345.60")


def test_reimporting_a_file_books_nothing_twice(merchant):
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "10.00", "D-4")
    data = english([
        ("R1", "2026-11-24", "10.00", "A", "1", "B", deposit.payment_code, "10.00"),
        ("R2", "2026-11-24", "20.00", "Nobody", "1", "B", "no code", "30.00"),
    ])
    first = do_import(merchant, data)
    entries = JournalEntry.objects.count()
    # when the same file comes again
    again = do_import(merchant, data)
    # then both lines are duplicates and nothing more is booked
    assert (first.imported, again.imported, again.duplicates, again.matched, again.unmatched) == (2, 0, 2, 0, 0)
    assert again.errors == [] and not again.refused
    assert JournalEntry.objects.count() == entries
    assert account_balances(merchant)["supervision"] == D("30.00")
    assert StatementLine.objects.filter(merchant=merchant).count() == 2


def test_a_duplicate_line_inside_one_file_is_skipped(merchant):
    data = english([
        ("R1", "2026-11-24", "5.00", "A", "1", "B", "x", "5.00"),
        ("R1", "2026-11-24", "5.00", "A", "1", "B", "x", "5.00"),
    ])
    result = do_import(merchant, data)
    assert (result.rows, result.imported, result.duplicates) == (2, 1, 1)


def test_the_duplicate_check_is_one_query_per_chunk_not_per_row(merchant, django_assert_max_num_queries):
    rows = [(f"R{i}", "2026-11-24", "-1.00", "A", "1", "B", "fee", "") for i in range(300)]
    data = english(rows)
    with django_assert_max_num_queries(40):
        result = do_import(merchant, data)
    assert result.imported == 300 and result.unmatched == 300


@pytest.mark.parametrize("bad_row, reason_word", [
    (("R2", "2026-13-45", "1.00", "A", "1", "B", "x", "1.00"), "date"),
    (("R2", "2026-11-24", "1.0.0", "A", "1", "B", "x", "1.00"), "amount"),
    (("", "2026-11-24", "1.00", "A", "1", "B", "x", "1.00"), "reference"),
])
def test_a_bad_row_refuses_the_whole_file(merchant, bad_row, reason_word):
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "10.00", "D-5")
    data = english([("R1", "2026-11-24", "10.00", "A", "1", "B", deposit.payment_code, "10.00"), bad_row,
                    ("R3", "2026-11-24", "bad", "A", "1", "B", "x", "1.00")])
    result = do_import(merchant, data)
    # then nothing is imported and every bad row is listed with its line number
    assert result.refused
    assert result.as_json()["imported"] == 0 and result.as_json()["matched"] == 0
    lines = [e["line"] for e in result.errors]
    assert lines == [3, 4]
    assert reason_word in str(result.errors[0]["reason"]).lower()
    assert StatementLine.objects.count() == 0
    assert JournalEntry.objects.filter(merchant=merchant).count() == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.AWAITING_FUNDS
    # and the refused batch is kept, with its errors, for the record
    batch = StatementBatch.objects.get()
    assert batch.status == StatementBatch.Status.REFUSED and [e["line"] for e in batch.errors] == [3, 4]
    assert AuditEvent.objects.filter(action="import_refused").count() == 1


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"\r\n\r\n", "empty"),
    (b"foo,bar,baz\r\n1,2,3\r\n", "header"),
])
def test_an_empty_file_or_one_without_a_header_is_refused_with_a_message(merchant, data, words):
    result = do_import(merchant, data)
    assert result.refused and result.errors[0]["line"] is None
    assert words in str(result.errors[0]["reason"]).lower()
    assert StatementLine.objects.count() == 0


def test_an_unknown_account_is_refused(merchant):
    result = statement_import(account_number="999", stream=english([]), actor=None)
    assert result.refused and "999" in str(result.errors[0]["reason"])
    assert StatementBatch.objects.count() == 0


def test_a_dry_run_shows_the_outcome_and_keeps_nothing(merchant):
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "10.00", "D-6")
    data = english([("R1", "2026-11-24", "10.00", "A", "1", "B", deposit.payment_code, "10.00"),
                    ("R2", "2026-11-24", "7.00", "A", "1", "B", "?", "17.00")])
    result = do_import(merchant, data, dry_run=True)
    assert (result.matched, result.unmatched, result.batch) == (1, 1, None)
    assert [p["outcome"] for p in result.preview] == ["deposit", "suspense"]
    assert StatementBatch.objects.count() == 0 and StatementLine.objects.count() == 0
    assert JournalEntry.objects.filter(merchant=merchant).count() == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.AWAITING_FUNDS


@pytest.mark.postgres
def test_statement_lines_are_evidence_the_database_refuses_to_alter(merchant):
    from django.db import IntegrityError, transaction

    do_import(merchant, english([("R1", "2026-11-24", "-5.00", "A", "1", "B", "x", "")]))
    line = StatementLine.objects.get()
    # workflow columns may change
    StatementLine.objects.filter(pk=line.pk).update(note="checked")
    # evidence may not
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.filter(pk=line.pk).update(amount=D("-6.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.filter(pk=line.pk).delete()
