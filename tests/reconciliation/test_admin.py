"""The screens, through the Django test client: upload → preview → confirm, the exception
queue's buttons, end-of-day runs with their differences, and the case workflow."""
import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances
from reconciliation.models import DiscrepancyCase, EodRun, OrderFile, StatementBatch, StatementLine
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english, gbk_debit_credit

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 24)
IMPORT_URL = "admin:reconciliation_statementbatch_import"
CONFIRM_URL = "admin:reconciliation_statementbatch_import_confirm"


@pytest.fixture
def merchant():
    return f.active_merchant()


@pytest.fixture
def ops_client(client):
    client.force_login(f.ops())
    return client


def upload(client, merchant, data, name="statement.csv"):
    return client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                             "file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_previews_and_confirm_books(ops_client, merchant):
    deposit = announce(merchant, f.member(merchant), "1234.50", "D-1")
    data = gbk_debit_credit([
        ("SR001", "2026-11-24", "", "1,234.50", "张三", "622202", f"货款 {deposit.payment_code}", "1,234.50"),
        ("SR002", "2026-11-24", "", "99.00", "李四", "622203", "无附言", "1,333.50"),
    ])
    # when the file is uploaded
    response = upload(ops_client, merchant, data)
    # then the preview shows each row's outcome, and nothing is booked yet
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="ready"' in page and 'data-outcome="deposit"' in page and 'data-outcome="suspense"' in page
    assert 'id="count-matched">1<' in page and 'id="count-unmatched">1<' in page
    assert StatementBatch.objects.count() == 0 and JournalEntry.objects.filter(merchant=merchant).count() == 0
    token = response.context["token"]
    assert f'action="{reverse(CONFIRM_URL)}"' in page  # the preview's button: the one confirm path
    # when it is confirmed
    response = ops_client.post(reverse(CONFIRM_URL), {"token": token})
    # then the import job books it, and the batch page shows its lines
    batch = StatementBatch.objects.get()
    assert response.status_code == 302 and "/jobs/" in response.url
    assert (batch.status, batch.imported, batch.matched, batch.unmatched) == ("posted", 2, 1, 1)
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    assert account_balances(merchant)["supervision"] == Decimal("1333.50")
    page = ops_client.get(reverse("admin:reconciliation_statementbatch_change", args=[batch.pk])).content.decode()
    assert "SR001" in page and "SR002" in page
    # and the token can't be used twice
    response = ops_client.post(reverse(CONFIRM_URL), {"token": token})
    assert response.status_code == 302 and response.url == reverse(IMPORT_URL)
    assert StatementBatch.objects.count() == 1


def test_with_no_app_to_run_it_the_confirm_imports_in_the_request(ops_client, merchant, monkeypatch):
    """reconciliation.hooks.statement_import_starters is how the back office takes the confirmed
    file as a background job; reconciliation itself needs nothing from it."""
    from reconciliation import hooks

    # given no app registered to run confirmed imports
    monkeypatch.setattr(hooks, "statement_import_starters", [])
    deposit = announce(merchant, f.member(merchant), "10.00", "D-3")
    token = upload(ops_client, merchant, english([("R1", "2026-11-24", "10.00", "A", "1", "B",
                                                   f"x {deposit.payment_code}", "")])).context["token"]
    # when the preview is confirmed
    response = ops_client.post(reverse(CONFIRM_URL), {"token": token})
    # then the request books it and shows the batch
    batch = StatementBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:reconciliation_statementbatch_change",
                                                                   args=[batch.pk])
    assert (batch.imported, batch.matched) == (1, 1)
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED


def test_the_confirm_takes_only_a_post(ops_client):
    assert ops_client.get(reverse(CONFIRM_URL)).status_code == 405


def test_the_import_screen_itself_books_nothing_whatever_is_posted(ops_client, merchant):
    """The preview screen only previews: a confirm token posted back to it is not an import."""
    announce(merchant, f.member(merchant), "1.00", "D-2")
    token = upload(ops_client, merchant, english([("R1", "2026-11-24", "1.00", "A", "1", "B", "x", "")])).context["token"]
    response = ops_client.post(reverse(IMPORT_URL), {"token": token})
    assert response.status_code == 200 and StatementBatch.objects.count() == 0


def test_a_refused_file_shows_its_errors_and_can_t_be_confirmed(ops_client, merchant):
    data = english([("R1", "2026-11-31", "10.00", "A", "1", "B", "x", ""),
                    ("R2", "2026-11-24", "abc", "A", "1", "B", "x", "")])
    response = upload(ops_client, merchant, data)
    page = response.content.decode()
    assert 'id="refused"' in page and 'id="confirm-form"' not in page
    assert "token" not in response.context
    errors = response.context["result"].errors
    assert [e["line"] for e in errors] == [2, 3]
    assert StatementBatch.objects.count() == 0 and StatementLine.objects.count() == 0


def test_an_empty_upload_is_refused_with_a_message(ops_client, merchant):
    response = upload(ops_client, merchant, b"foo\r\n")
    assert 'id="refused"' in response.content.decode()


def test_a_forged_token_imports_nothing(ops_client, merchant):
    response = ops_client.post(reverse(CONFIRM_URL), {"token": "forged"})
    assert response.status_code == 302 and StatementBatch.objects.count() == 0


def test_staff_without_the_permission_cannot_import(client, merchant):
    client.force_login(f.auditor())
    assert client.get(reverse(IMPORT_URL)).status_code == 403


def test_the_exception_queue_lists_waiting_lines_and_its_buttons_work(ops_client, merchant):
    member = f.member(merchant, user_id="buyer-7")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("R1", "2026-11-24", "80.00", "Zhao", "1", "B", "mistyped", ""),
        ("R2", "2026-11-24", "-3.00", "Bank", "1", "B", "fee", "")]))
    page = ops_client.get(reverse("admin:reconciliation_exceptionqueueitem_changelist")).content.decode()
    assert "R1" in page and "R2" in page
    line = StatementLine.objects.get(bank_reference="R1")
    change = ops_client.get(reverse("admin:reconciliation_statementline_change", args=[line.pk])).content.decode()
    assert 'data-transition="match_member"' in change and 'data-transition="ignore"' not in change
    url = reverse("admin:reconciliation_statementline_queue", args=[line.pk, "match_member"])
    response = ops_client.post(url, {"user_id": "buyer-7", "reason": "Payer phoned in"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.status, line.member_id) == ("posted", member.pk)
    # money out: ignore with a reason
    out = StatementLine.objects.get(bank_reference="R2")
    ops_client.post(reverse("admin:reconciliation_exceptionqueueitem_queue", args=[out.pk, "ignore"]),
                    {"reason": "Bank fee"})
    out.refresh_from_db()
    assert out.status == "ignored"
    assert "R1" not in ops_client.get(reverse("admin:reconciliation_exceptionqueueitem_changelist")).content.decode()


def test_an_auditor_sees_the_queue_but_has_no_buttons(client, merchant):
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("R1", "2026-11-24", "80.00", "Zhao", "1", "B", "mistyped", "")]))
    line = StatementLine.objects.get()
    client.force_login(f.auditor())
    page = client.get(reverse("admin:reconciliation_statementline_change", args=[line.pk])).content.decode()
    assert "data-transition" not in page
    client.post(reverse("admin:reconciliation_statementline_queue", args=[line.pk, "return"]), {"reason": "x"})
    line.refresh_from_db()
    assert line.status == "unmatched"


def test_end_of_day_from_the_admin_with_drill_down(ops_client, merchant):
    response = ops_client.post(reverse("admin:reconciliation_eodrun_run"),
                               {"merchant": merchant.pk, "business_date": "2026-11-24"})
    run = EodRun.objects.get(merchant=merchant, business_date=DAY)
    assert response.status_code == 302 and run.status == EodRun.Status.DISCREPANCIES
    page = ops_client.get(reverse("admin:reconciliation_eodrun_change", args=[run.pk])).content.decode()
    assert 'id="eod-differences"' in page and "No order file" in page
    assert ops_client.get(reverse("admin:reconciliation_eodrun_changelist")).status_code == 200
    assert ops_client.get(reverse("admin:reconciliation_eoddifference_changelist")).status_code == 200
    ops_client.post(reverse("admin:reconciliation_eodrun_rerun", args=[run.pk]))
    run.refresh_from_db()
    assert run.runs == 2 and DiscrepancyCase.objects.filter(merchant=merchant).count() == 2


def test_a_case_moves_through_its_workflow_buttons(ops_client, merchant):
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    case = DiscrepancyCase.objects.filter(kind="order_file_missing").get()
    url = reverse("admin:reconciliation_discrepancycase_change", args=[case.pk])
    assert 'data-transition="investigate"' in ops_client.get(url).content.decode()
    ops_client.post(reverse("admin:reconciliation_discrepancycase_transition", args=[case.pk, "investigate"]),
                    {"reason": ""})
    ops_client.post(reverse("admin:reconciliation_discrepancycase_transition", args=[case.pk, "write_off"]),
                    {"reason": "Platform not live yet"})
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("written_off", "Platform not live yet")


def test_an_order_file_csv_upload(ops_client, merchant):
    data = b"order_no,type,amount,payer_user_id,payee_user_id\r\nP-1,payment,10.00,a,b\r\n"
    response = ops_client.post(reverse("admin:reconciliation_orderfile_upload"), {
        "merchant": merchant.pk, "business_date": "2026-11-24", "file": SimpleUploadedFile("o.csv", data)})
    assert response.status_code == 302 and OrderFile.objects.get().line_count == 1
    bad = b"order_no,type,amount\r\nP-1,payment,-1\r\n"
    response = ops_client.post(reverse("admin:reconciliation_orderfile_upload"), {
        "merchant": merchant.pk, "business_date": "2026-11-24", "file": SimpleUploadedFile("o.csv", bad)})
    assert response.status_code == 200 and OrderFile.objects.count() == 1


@pytest.mark.parametrize("name", ["statementbatch", "statementline", "exceptionqueueitem", "orderfile",
                                  "orderfileline", "eodrun", "eoddifference", "discrepancycase"])
def test_every_list_renders(ops_client, merchant, name):
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("R1", "2026-11-24", "80.00", "Zhao", "1", "B", "mistyped", "80.00")]))
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert ops_client.get(reverse(f"admin:reconciliation_{name}_changelist")).status_code == 200


@pytest.mark.parametrize("name", ["statementbatch", "statementline", "orderfile", "orderfileline", "eodrun",
                                  "eoddifference", "discrepancycase"])
def test_every_change_page_renders(ops_client, merchant, name):
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("R1", "2026-11-24", "80.00", "Zhao", "1", "B", "mistyped", "80.00")]))
    from reconciliation.services.orders import order_file_create

    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[
        {"order_no": "P-9", "type": "payment", "amount": "9.00"}])
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    model = {m._meta.model_name: m for m in (StatementBatch, StatementLine, OrderFile, EodRun, DiscrepancyCase)}
    from reconciliation.models import EodDifference, OrderFileLine

    model.update(orderfileline=OrderFileLine, eoddifference=EodDifference)
    obj = model[name].objects.first()
    assert ops_client.get(reverse(f"admin:reconciliation_{name}_change", args=[obj.pk])).status_code == 200


def test_the_batch_page_shows_the_columns_read_as_a_table_not_json(ops_client, merchant):
    # given a GBK statement with Chinese headers, imported
    statement_import(account_number=merchant.supervision_account_number, actor=None, file_name="gbk.csv",
                     stream=gbk_debit_credit([("SR1", "2026-11-24", "", "5.00", "张三", "1", "x", "5.00")]))
    batch = StatementBatch.objects.get()

    # when its page is shown
    page = ops_client.get(reverse("admin:reconciliation_statementbatch_change", args=[batch.pk])).content.decode()

    # then each field is on a row of its own beside the header the bank wrote, readable
    table = page[page.index('id="batch-columns"'):]
    table = table[:table.index("</table>")]
    assert "bank reference</td>" in table and "流水号</td>" in table
    assert "money in (credit)</td>" in table and "贷方发生额</td>" in table
    assert "\\u" not in table and "{" not in table and "&quot;" not in table
    assert table.index("bank reference") < table.index("value date") < table.index("money in")


def test_a_refused_batch_lists_its_errors_as_a_table(ops_client, merchant):
    statement_import(account_number=merchant.supervision_account_number, actor=None, file_name="bad.csv",
                     stream=english([("R1", "2026-11-31", "10.00", "A", "1", "B", "x", ""),
                                     ("R2", "2026-11-24", "<b>1</b>", "A", "1", "B", "x", "")]))
    batch = StatementBatch.objects.get()
    assert batch.status == "refused"
    page = ops_client.get(reverse("admin:reconciliation_statementbatch_change", args=[batch.pk])).content.decode()
    table = page[page.index('id="batch-errors"'):]
    table = table[:table.index("</table>")]
    assert ">2</td>" in table and ">3</td>" in table and "2026-11-31" in table
    assert "&lt;b&gt;1&lt;/b&gt;" in table and "<b>1</b>" not in table  # the bank's text is escaped


def test_a_direction_column_file_previews_money_out_as_negative(ops_client, merchant):
    # given a GBK statement with an unsigned 发生额 and a 借贷标志 column
    data = ("流水号,交易日期,发生额,借贷标志,摘要,余额\r\n"
            "F1,2026-11-24,\"1,000.00\",贷,无附言,\"1,000.00\"\r\n"
            "F2,2026-11-24,30.00,借,手续费,970.00\r\n").encode("gbk")

    # when it is uploaded
    response = upload(ops_client, merchant, data)

    # then the preview reads the outflow as an outflow
    preview = {p["reference"]: p["amount"] for p in response.context["result"].preview}
    assert preview == {"F1": Decimal("1000.00"), "F2": Decimal("-30.00")}


def test_differences_and_cases_link_to_their_run_and_entry(ops_client, merchant):
    # given a day where the ledger booked a payment the platform did not report
    from reconciliation.models import EodDifference
    from reconciliation.services.orders import order_file_create

    from .builders import funded, payment

    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    funded(merchant, buyer, "100.00")
    entry = payment(merchant, buyer, seller, "10.00", "P-1", DAY)
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[])
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    diff = EodDifference.objects.get(run=run, kind="missing_in_orders")
    run_url = reverse("admin:reconciliation_eodrun_change", args=[run.pk])

    # then the difference page links its run (by date and merchant) and the ledger entry
    page = ops_client.get(reverse("admin:reconciliation_eoddifference_change", args=[diff.pk])).content.decode()
    assert f'<a href="{run_url}">2026-11-24 · {merchant.code}</a>' in page
    assert reverse("admin:ledger_journalentry_change", args=[entry.pk]) in page
    # and the case page links the run it was last seen in, with its opening on the timeline
    page = ops_client.get(reverse("admin:reconciliation_discrepancycase_change", args=[diff.case_id])).content.decode()
    assert f'<a href="{run_url}">2026-11-24 · {merchant.code}</a>' in page
    assert "Found by the end of day." in page
    assert 'data-transition="reopen"' not in page and 'data-transition="auto_resolve"' not in page


def test_a_reopened_case_shows_why_on_its_page(ops_client, merchant):
    from reconciliation.services.cases import case_resolve
    from reconciliation.services.orders import order_file_create

    from .builders import funded, payment

    # given an amount mismatch, resolved, gone on a rerun, then back on the next
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    funded(merchant, buyer, "100.00")
    payment(merchant, buyer, seller, "10.00", "P-1", DAY)

    def platform_says(amount):
        order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[
            {"order_no": "P-1", "type": "payment", "amount": amount}])
        eod_run(merchant=merchant, business_date=DAY, actor=None)

    platform_says("15.00")
    case = DiscrepancyCase.objects.get(merchant=merchant, kind="amount_mismatch")
    case_resolve(case=case, actor=f.ops(), reason="the platform will correct it")
    platform_says("10.00")
    platform_says("15.00")

    # then its page shows it open again, why, and the buttons to work it
    page = ops_client.get(reverse("admin:reconciliation_discrepancycase_change", args=[case.pk])).content.decode()
    assert "The difference returned on rerun." in page and "the platform will correct it" in page
    assert 'data-transition="investigate"' in page and 'data-transition="reopen"' not in page
