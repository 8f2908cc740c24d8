"""Importing Excel statements as operations download them: booked like CSV, refused whole when
anything is wrong, the account in the preamble checked, from the admin and the command line."""
import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances, prove_merchant
from reconciliation.models import StatementBatch, StatementLayout, StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce
from .test_commands import run_import
from .workbooks import FIXTURES, corporate_rows, header_row_index, workbook

pytestmark = pytest.mark.django_db
D = Decimal
IMPORT_URL = "admin:reconciliation_statementbatch_import"
CONFIRM_URL = "admin:reconciliation_statementbatch_import_confirm"


@pytest.fixture
def merchant():
    return f.active_merchant()


def corporate(merchant, lines, *, account=None):
    rows = corporate_rows(account or merchant.supervision_account_number, lines)
    top = header_row_index(rows) + 1
    return workbook(("明细", rows, ["A1:H1", f"C{top}:D{top}"]))


def do_import(merchant, data, **kw):
    return statement_import(account_number=merchant.supervision_account_number, stream=data, actor=None,
                            file_name=kw.pop("file_name", "statement.xlsx"), **kw)


def test_an_xlsx_export_is_booked_like_a_csv(merchant):
    # given an announced deposit and the bank's workbook with its code, unknown money in and money out
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "1234.50", "D-1")
    data = corporate(merchant, [
        (datetime.datetime(2025, 12, 3, 9, 0), "T1", None, 1234.5, "张三", "6222", f"货款 {deposit.payment_code}", 1234.5),
        ("2025/12/03  10:00:00", "T2", None, 99.0, "李四", "6223", "无附言", 1333.5),
        (46000, "T3", 12.3, "-", "", "", "手续费", 1321.2),
        ("2025-12-03", "T4", "0.00", "0.00", "", "", "利息税", 1321.2),
    ])
    # when it is imported
    result = do_import(merchant, data)
    # then the deposit is credited, the rest waits, the zero line is skipped and reported
    assert result.as_json() == {"rows": 3, "imported": 3, "duplicates": 0, "matched": 1, "unmatched": 2, "errors": []}
    assert result.skipped_zero == 1 and result.file_format == "xlsx" and result.layout_name
    batch = result.batch
    assert (batch.status, batch.file_format, batch.layout.code, batch.skipped_zero) == (
        "posted", "xlsx", "cn-debit-credit", 1)
    assert batch.statement_account == merchant.supervision_account_number
    assert (batch.period_start, batch.period_end) == (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))
    assert batch.closing_balance == D("1321.20")
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    lines = StatementLine.objects.filter(batch=batch).order_by("line_no")
    assert [(line.bank_reference, line.amount) for line in lines] == [
        ("T1", D("1234.50")), ("T2", D("99.00")), ("T3", D("-12.30"))]
    assert account_balances(merchant)["supervision"] == D("1333.50") and prove_merchant(merchant).ok


def test_a_payment_code_the_bank_exported_in_full_width_forms_still_credits_its_deposit(merchant):
    # given a deposit and a remark where the bank wrote its code in full-width letters and digits
    deposit = announce(merchant, f.member(merchant), "88.00", "D-FW")
    wide = deposit.payment_code.translate({ord(c): ord(c) + 0xFEE0 for c in deposit.payment_code})
    data = workbook(("s", [["交易日期", "流水号", "金额", "附言"], ["2025-12-03", "S1", "８８．００", f"货款{wide}"]]))
    # when it is imported, then the deposit is credited and the remark is kept as the bank wrote it
    result = do_import(merchant, data)
    assert result.matched == 1 and StatementLine.objects.get().remark == f"货款{wide}"
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED


def test_a_web_page_saved_as_xls_is_imported(merchant):
    from .test_excel import HTML_XLS

    result = do_import(merchant, HTML_XLS.format(account=merchant.supervision_account_number).encode("gbk"),
                       file_name="明细.xls")
    assert not result.refused and result.file_format == "html" and result.imported == 2
    assert result.batch.file_format == "html"


def test_a_statement_of_another_account_is_refused_and_books_nothing(merchant):
    # given a workbook whose preamble names another account
    buyer = f.member(merchant)
    deposit = announce(merchant, buyer, "10.00", "D-1")
    data = corporate(merchant, [("2025-12-03", "T1", None, 10.0, "", "", deposit.payment_code, 10.0)],
                     account="6228480000000001")
    # when it is imported into this merchant's account
    result = do_import(merchant, data)
    # then it is refused with both numbers, and nothing is booked
    assert result.refused and "6228480000000001" in str(result.errors[0]["reason"])
    assert merchant.supervision_account_number in str(result.errors[0]["reason"])
    assert StatementLine.objects.count() == 0 and JournalEntry.objects.filter(merchant=merchant).count() == 0
    assert StatementBatch.objects.get().status == "refused"


def test_an_account_number_written_with_spaces_is_the_same_account(merchant):
    number = merchant.supervision_account_number
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    result = do_import(merchant, corporate(merchant, [("2025-12-03", "T1", None, 5.0, "", "", "x", 5.0)],
                                           account=spaced))
    assert not result.refused and result.imported == 1


def test_a_reference_that_comes_back_with_another_amount_refuses_the_file(merchant):
    # given a file keyed on a column that is not unique: the same reference, two amounts
    data = workbook(("s", [["交易日期", "凭证号", "金额"], ["2025-12-03", "V1", 5.0], ["2025-12-03", "V1", 7.0],
                           ["2025-12-03", "V2", 1.0], ["2025-12-03", "V2", 1.0]]))
    # when it is imported
    result = do_import(merchant, data)
    # then it is refused (skipping the second V1 would lose 7.00), and names the first line
    assert result.refused and [e["line"] for e in result.errors] == [3]
    assert "line 2" in str(result.errors[0]["reason"]) and StatementLine.objects.count() == 0


def test_a_reference_not_unique_in_the_file_is_joined_with_the_other_reference_rather_than_refused(client, merchant):
    # given a file whose preferred reference (流水号) repeats, next to a voucher number (凭证号)
    data = workbook(("s", [["交易日期", "流水号", "凭证号", "金额"], ["2025-12-03", "S1", "V1", 5.0],
                           ["2025-12-03", "S1", "V2", 7.0], ["2025-12-03", "S2", "V3", 1.0]]))
    # when it is previewed in the admin, then the preview says the lines are keyed on both
    client.force_login(f.ops())
    response = client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                                 "file": SimpleUploadedFile("s.xlsx", data)})
    assert 'id="ready"' in response.content.decode() and 'id="composite-reference"' in response.content.decode()
    # and when it is imported, every line is kept under a composite of the two references
    result = do_import(merchant, data)
    assert not result.refused and result.composite_reference and result.imported == 3
    assert sorted(StatementLine.objects.values_list("bank_reference", "amount")) == [
        ("S1-V1", D("5.00")), ("S1-V2", D("7.00")), ("S2-V3", D("1.00"))]
    assert StatementBatch.objects.get().columns["bank_reference"] == "流水号 + 凭证号"


def test_the_same_line_twice_in_a_file_is_a_duplicate_not_an_error(merchant):
    data = workbook(("s", [["交易日期", "流水号", "金额"], ["2025-12-03", "S1", 5.0], ["2025-12-03", "S1", 5.0]]))
    result = do_import(merchant, data)
    assert not result.refused and (result.imported, result.duplicates) == (1, 1)


def test_the_command_imports_the_xls_fixture_and_a_second_run_books_nothing(tmp_path, capsys, merchant):
    # given the committed .xls, with its preamble's account changed to this merchant's
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(FIXTURES / "corporate.xls")).get_sheet_by_index(0).to_python()
    assert rows[1][1] == "37001618801050099999"
    path = tmp_path / "statement.xls"
    path.write_bytes((FIXTURES / "corporate.xls").read_bytes())
    # when it is imported into an account that is not the one it states, then it is refused
    code, out = run_import(capsys, path, merchant.supervision_account_number)
    assert code == 1 and "37001618801050099999" in out.err
    # and into the account it states, it is taken, and again: all duplicates
    other = f.active_merchant()
    type(other).objects.filter(pk=other.pk).update(supervision_account_number="37001618801050099999")
    code, out = run_import(capsys, path, "37001618801050099999", "--json")
    assert code == 0 and '"imported": 3' in out.out
    code, out = run_import(capsys, path, "37001618801050099999", "--json")
    assert code == 0 and '"duplicates": 3' in out.out


def test_the_admin_preview_shows_the_layout_and_how_each_column_was_read(client, merchant):
    # given operations staff uploading a workbook
    client.force_login(f.ops())
    data = corporate(merchant, [("2025/12/03  10:00:00", "T1", None, 1234.5, "李四", "6223", "无附言", 1234.5)])
    # when they upload it
    response = client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                                 "file": SimpleUploadedFile("明细.xlsx", data)})
    # then the preview names the layout, the sheet, the preamble and each column's reading
    page = response.content.decode()
    assert 'id="ready"' in page and "XLSX" in page
    layout = StatementLayout.objects.get(code="cn-debit-credit")
    assert f'id="layout-name">{layout.name}<' in page
    assert merchant.supervision_account_number in page and "2025-12-01" in page
    assert "发生额/元 贷方" in page and "+1234.50" in page and "2025/12/03  10:00:00" in page
    assert StatementBatch.objects.count() == 0  # nothing booked before the confirm
    # and when it is confirmed, it is booked with the layout it was previewed with
    response = client.post(reverse(CONFIRM_URL), {"token": response.context["token"]})
    batch = StatementBatch.objects.get()
    assert response.status_code == 302 and (batch.status, batch.layout, batch.imported) == ("posted", layout, 1)


def test_a_built_in_layout_s_page_shows_its_words_one_per_line_and_the_standard_table(client):
    client.force_login(f.ops())
    layout = StatementLayout.objects.get(code="cn-direction-1-2")
    page = client.get(reverse("admin:reconciliation_statementlayout_change", args=[layout.pk])).content.decode()
    assert "direction: 收支标识" in page and "1 = in" in page and "2 = out" in page
    assert "贷方发生额" in page  # the standard table, read-only


def test_a_layout_changed_between_preview_and_confirm_refuses_the_confirm(client, merchant):
    # given a previewed workbook, read with a built-in layout
    client.force_login(f.ops())
    data = corporate(merchant, [("2025-12-03", "T1", None, 5.0, "", "", "x", 5.0)])
    token = client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                              "file": SimpleUploadedFile("s.xlsx", data)}).context["token"]
    # when someone edits a layout before the confirm
    layout = StatementLayout.objects.get(code="cn-debit-credit")
    layout.date_formats = [*layout.date_formats, "%d.%m.%Y"]
    layout.save()
    client.post(reverse(CONFIRM_URL), {"token": token})
    # then nothing is booked: the file must be previewed again as it is read now
    assert StatementLine.objects.count() == 0 and not StatementBatch.objects.filter(status="posted").exists()


def test_the_admin_refuses_an_unknown_layout_listing_its_headers(client, merchant):
    client.force_login(f.ops())
    data = workbook(("s", [["日期", "单号", "数额"], ["2025-12-03", "X1", 5.0]]))
    response = client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                                 "file": SimpleUploadedFile("x.xlsx", data)})
    page = response.content.decode()
    assert 'id="refused"' in page and "“日期”, “单号”, “数额”" in page


def test_operations_add_a_layout_in_the_admin_and_the_next_import_reads_it(client, merchant):
    # given a bank whose export the built-in layouts do not know
    client.force_login(f.ops())
    data = workbook(("s", [["入账日", "记录号", "笔额", "收付标记"], ["03/12/2025", "N1", 8.0, "R"],
                           ["03/12/2025", "N2", 2.0, "P"]]))
    assert do_import(merchant, data).refused
    # when operations add a layout for it, one item per line
    response = client.post(reverse("admin:reconciliation_statementlayout_add"), {
        "code": "x-bank", "name": "X Bank", "active": "on", "priority": "100", "notes": "",
        "headers_text": "value_date: 入账日\nbank_reference: 记录号\namount: 笔额\ndirection: 收付标记",
        "date_formats_text": "%d/%m/%Y", "direction_values_text": "R = in\nP = out", "required_headers_text": "",
        "footer_patterns_text": "", "reference_columns_text": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    layout = StatementLayout.objects.get(code="x-bank")
    assert layout.direction_values == {"R": "in", "P": "out"} and layout.headers["amount"] == ["笔额"]
    assert AuditEvent.objects.filter(action="layout_create", object_id=str(layout.pk)).exists()
    # then the file imports, money out as money out
    result = do_import(merchant, data)
    assert not result.refused and result.batch.layout == layout
    assert sorted(StatementLine.objects.values_list("amount", flat=True)) == [D("-2.00"), D("8.00")]


def test_a_layout_reversing_a_standard_direction_cannot_be_saved_in_the_admin(client):
    client.force_login(f.ops())
    response = client.post(reverse("admin:reconciliation_statementlayout_add"), {
        "code": "evil", "name": "Evil", "active": "on", "priority": "100", "headers_text": "",
        "direction_values_text": "贷 = out", "date_formats_text": "", "required_headers_text": "",
        "footer_patterns_text": "", "reference_columns_text": "", "notes": ""})
    assert response.status_code == 200 and not StatementLayout.objects.filter(code="evil").exists()


def test_an_auditor_sees_the_layouts_but_cannot_change_them(client):
    client.force_login(f.auditor())
    layout = StatementLayout.objects.first()
    assert client.get(reverse("admin:reconciliation_statementlayout_changelist")).status_code == 200
    client.post(reverse("admin:reconciliation_statementlayout_change", args=[layout.pk]),
                {"code": layout.code, "name": "changed"})
    layout.refresh_from_db()
    assert layout.name != "changed"


def test_a_switched_off_layout_is_not_used(merchant):
    f.statement_layout(code="only-bank", name="Only", headers={"bank_reference": ["记录号"]})
    data = workbook(("s", [["交易日期", "记录号", "金额"], ["2025-12-03", "N1", 5.0]]))
    assert not do_import(merchant, data, dry_run=True).refused
    StatementLayout.objects.filter(code="only-bank").update(active=False)
    assert do_import(merchant, data, dry_run=True).refused
