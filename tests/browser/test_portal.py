"""The portal in a real browser: each role's dashboard, a merchant from draft to active through
the buttons, a GBK statement through upload → preview → confirm, the complaint look-up, and the
RM report's export opened as a spreadsheet."""
import io

import pytest
from django.contrib.auth import get_user_model

from ledger.models import Deposit
from merchants.models import Merchant
from reconciliation.models import StatementBatch
from tests import factories as f
from tests.reconciliation.builders import announce, gbk_debit_credit

from .conftest import charts_drawn, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_role_logs_in_and_sees_its_dashboard(world, today, browser_page):
    page = browser_page
    superuser = get_user_model().objects.create_superuser("admin_root", "root@example.com",
                                                          "correct horse battery staple")
    users = {"rm": (world.alice, "#dashboard-rm"), "risk": (f.risk(username="risk_zhao"), "#dashboard-risk"),
             "ops": (f.ops(username="ops_chen"), "#dashboard-ops"), "auditor": (f.auditor(username="audit_zhou"),
                                                                                "#dashboard-audit"),
             "superuser": (superuser, "#dashboard-audit")}
    for role, (user, section) in users.items():
        log_in(page, user)
        page.locator(section).wait_for()
        if role == "rm":
            assert page.locator("#rm-total-balance").inner_text() == "1,400.00"
            assert page.locator("#rm-merchants").get_by_text(world.m1.legal_name).count() == 1
            assert page.locator("#dashboard-risk").count() == 0
        if role == "superuser":
            for other in ("#dashboard-rm", "#dashboard-risk", "#dashboard-ops"):
                assert page.locator(other).count() == 1
        if role in ("rm", "risk", "superuser"):
            assert charts_drawn(page) >= 1
        screenshot(page, f"dashboard-{role}")


def test_a_merchant_goes_from_draft_to_active_through_the_buttons(world, browser_page):
    page = browser_page
    draft = f.draft_merchant(manager=world.alice, legal_name="山东新商户电子商务有限公司")
    risk, ops = f.risk(username="risk_sun"), f.ops(username="ops_li")
    change = f"/admin/merchants/merchant/{draft.pk}/change/"
    # the RM submits it from the merchant's page
    log_in(page, world.alice)
    page.goto(change)
    page.locator('button[data-transition="submit"]').click()
    page.wait_for_url(f"**{change}")
    assert Merchant.objects.get(pk=draft.pk).status == "submitted"
    # a risk officer (not the submitter) approves it from the 360 page
    log_in(page, risk)
    page.goto(f"/backoffice/merchants/{draft.pk}/")
    page.locator('#m360-transitions button[data-transition="approve"]').click()
    page.wait_for_url(f"**{change}")
    assert Merchant.objects.get(pk=draft.pk).status == "approved"
    # operations activate it: the account is opened and the secret shown once
    log_in(page, ops)
    page.goto(f"/backoffice/merchants/{draft.pk}/")
    screenshot(page, "merchant-360-approved")
    page.locator('#m360-transitions button[data-transition="activate"]').click()
    page.wait_for_load_state()
    merchant = Merchant.objects.get(pk=draft.pk)
    assert merchant.status == "active" and merchant.supervision_account_number
    page.goto(f"/backoffice/merchants/{draft.pk}/")
    page.locator("#m360-proof-ok").wait_for()
    screenshot(page, "merchant-360-active")


def test_a_gbk_statement_is_imported_through_upload_preview_and_confirm(world, browser_page, tmp_path):
    page = browser_page
    member = world.buyer
    deposit = announce(world.m1, member, "1234.50", "DEP-GBK-1")
    data = gbk_debit_credit([("SR20261130001", "2026-11-30", "", "1,234.50", "张三", "6222020200001",
                              f"货款 {deposit.payment_code}", "2,634.50")])
    path = tmp_path / "对账单.csv"
    path.write_bytes(data)
    log_in(page, f.ops(username="ops_wu"))
    page.goto("/admin/reconciliation/statementbatch/import/")
    page.select_option("select[name=account]", world.m1.supervision_account_number)
    page.set_input_files("input[name=file]", str(path))
    page.locator("#upload-form [type=submit]").click()
    page.locator("#ready").wait_for()
    assert page.locator("#count-matched").inner_text() == "1"
    screenshot(page, "statement-preview")
    page.locator("#confirm-form [type=submit]").click()
    page.wait_for_url("**/admin/reconciliation/statementbatch/*/change/")
    page.locator("#batch-lines").wait_for()
    batch = StatementBatch.objects.get()
    assert (batch.status, batch.matched, batch.encoding.lower()) == ("posted", 1, batch.encoding.lower())
    assert Deposit.objects.get(pk=deposit.pk).status == "succeeded"
    assert page.locator("#batch-lines").get_by_text("DEP-GBK-1").count() == 1
    screenshot(page, "statement-imported")


def test_the_complaint_look_up_finds_an_order(world, browser_page):
    page = browser_page
    log_in(page, world.alice)
    page.fill("#dashboard-lookup input[name=q]", "ORD-8842")
    page.locator("#dashboard-lookup [type=submit]").click()
    story = page.locator('.bo-story[data-order="ORD-8842"]')
    story.wait_for()
    assert story.get_by_text("300.00").count() >= 1
    screenshot(page, "complaint-lookup")
    # and another RM finds nothing there
    log_in(page, world.bob)
    page.goto("/backoffice/complaints/?q=ORD-8842")
    page.locator("#complaint-nothing").wait_for()


def test_the_rm_report_exports_a_spreadsheet_that_opens(world, today, browser_page):
    from openpyxl import load_workbook

    page = browser_page
    log_in(page, f.risk(username="risk_report"))
    page.goto("/backoffice/performance/?period=2026-11")
    page.locator('#performance-table tr[data-rm="rm_alice"]').wait_for()
    assert charts_drawn(page) == 1
    screenshot(page, "rm-performance")
    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    download = info.value
    assert download.suggested_filename == "rm-performance-2026-11.xlsx"
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    names = [c.value for c in sheet[2]]
    alice = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == "rm_alice")
    assert str(alice[names.index("average_daily_balance")]) == "1343.33"


def test_one_click_switches_to_english(world, browser_page):
    page = browser_page
    log_in(page, world.alice)
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    page.locator("#dashboard-rm").wait_for()
    # the language switch in the user menu (a form posting to Django's set_language)
    with page.expect_navigation():
        page.locator("form:has(input[name=language][value=en]) button").evaluate("button => button.click()")
    assert page.evaluate("document.documentElement.lang") == "en"
