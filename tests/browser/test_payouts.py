"""Payout batches in a real browser, in Chinese: an operations user builds the day's batch from
the approved withdrawals with the admin's own add button and submits it; they are refused as its
checker; a second operations user approves and releases it, which sends the withdrawals to
processing; the CSV and pain.001 files download from the batch's page and say what was built."""
import csv
import io
from decimal import Decimal

import pytest
from lxml import etree

from core.admin_display import money
from ledger.models import Withdrawal
from merchants.models import BankCard, MicroDeposit
from payouts.files import PAIN_NS
from payouts.models import PayoutBatch
from tests import factories as f
from tests.payouts.helpers import world as payouts_due

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BATCHES = "/admin/payouts/payoutbatch/"


def _statuses(withdrawals) -> set[str]:
    return set(Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals]).values_list("status", flat=True))


def _field(page, label) -> str:
    """A read-only field's shown value on an admin page, found by its (Chinese) label."""
    line = page.locator(".field-line").filter(has=page.locator("label").get_by_text(label, exact=True))
    return line.locator(".readonly").inner_text().strip()


def _post_from_the_page(page, url):
    """What a stale page or a hand-made request would send: a POST with the page's own CSRF token."""
    with page.expect_navigation():
        page.evaluate("""url => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = url;
            const token = document.createElement("input");
            token.type = "hidden";
            token.name = "csrfmiddlewaretoken";
            token.value = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            form.appendChild(token);
            document.body.appendChild(form);
            form.submit();
        }""", url)


def _download(page, selector) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator(selector).click()
    download = info.value
    with open(download.path(), "rb") as data:
        return download.suggested_filename, data.read()


def test_operations_build_a_payout_batch_and_a_second_user_releases_it_and_downloads_its_files(browser_page):
    page = browser_page
    # given two approved withdrawals (and a corporate card's micro-deposit) due for payout, and
    # two operations users
    merchant, withdrawals, card = payouts_due(("100.00", "250.50"))
    assert _statuses(withdrawals) == {"approved"}
    value_date = withdrawals[0].value_date
    expected_sum = Decimal("350.50") + card.micro_deposit_amount
    maker, checker = f.ops(username="ops_maker"), f.ops(username="ops_checker")

    # when the maker opens the payout batches and builds one with the add button
    log_in(page, maker)
    page.goto(BATCHES)
    page.locator(f'a[href="{BATCHES}add/"]').first.click()
    page.wait_for_url(f"**{BATCHES}add/")
    assert page.get_by_role("heading", name="生成付款批次").count() == 1
    assert page.get_by_text("由另一名运营人员审批并发出。").count() == 1
    page.select_option("select[name=merchant]", str(merchant.pk))
    page.fill("input[name=value_date]", value_date.isoformat())
    screenshot(page, "payout-batch-build")
    page.locator("#admin-form [type=submit]").click()
    page.wait_for_url(f"**{BATCHES}*/change/")

    # then a draft batch holds the two withdrawals and the micro-deposit, counted and summed
    batch = PayoutBatch.objects.get(merchant=merchant)
    assert (batch.status, batch.created_by, batch.count, batch.control_sum) == ("draft", maker, 3, expected_sum)
    lines = list(batch.lines.order_by("pk"))
    assert [line.withdrawal for line in lines[:2]] == withdrawals and lines[2].bank_card == card
    assert page.get_by_text(f"付款批次 {batch.reference} 已生成：3 笔，合计 {batch.control_sum}。").count() == 1
    table = page.locator("#payout-lines")
    assert table.locator("tbody tr").count() == 3
    for line, withdrawal in zip(lines[:2], withdrawals, strict=True):
        row = table.locator(f'tr[data-line="{line.end_to_end_id}"]')
        assert row.get_by_text(f"{withdrawal.amount:.2f}", exact=True).count() == 1
        assert row.get_by_text(withdrawal.bank_card.masked_number).count() == 1
    assert withdrawals[0].bank_card.account_number not in page.content()  # masked on the screen
    assert _field(page, "总笔数") == "3" and _field(page, "总金额") == money(expected_sum)
    assert _field(page, "状态") == "草稿"
    # and nothing has moved yet, and no file is offered before release
    assert _statuses(withdrawals) == {"approved"}
    assert page.locator("#download-csv").count() == 0

    # when the maker submits it for approval
    page.locator('#workflow-actions button[data-transition="submit"]').click()
    page.wait_for_url(f"**{BATCHES}{batch.pk}/change/")
    page.get_by_text("已完成：提交审批。").wait_for()
    batch.refresh_from_db()
    assert (batch.status, batch.submitted_by) == ("submitted", maker)
    assert _statuses(withdrawals) == {"approved"}
    # then they are offered no release, and a release they force is refused on the page
    assert page.locator('[data-transition="release"]').count() == 0
    _post_from_the_page(page, f"{BATCHES}{batch.pk}/transition/release/")
    page.wait_for_url(f"**{BATCHES}{batch.pk}/change/")
    # (the message names the step by its label, as its button would)
    page.get_by_text("已拒绝：您目前不能对此记录执行“审批并发出”").wait_for()
    screenshot(page, "payout-batch-maker-refused")
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by) == ("submitted", None)
    assert _statuses(withdrawals) == {"approved"}

    # when the second operations user opens it and approves and releases it
    log_in(page, checker)
    page.goto(f"{BATCHES}{batch.pk}/change/")
    release = page.locator('#workflow-actions button[data-transition="release"]')
    assert release.inner_text().strip() == "审批并发出"
    release.click()
    page.wait_for_url(f"**{BATCHES}{batch.pk}/change/")
    page.get_by_text("已完成：审批并发出。").wait_for()

    # then the batch is released by them, the withdrawals are processing, the micro-deposit sent
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by, batch.released_at is not None) == ("released", checker, True)
    assert _statuses(withdrawals) == {"processing"}
    assert BankCard.objects.get(pk=card.pk).micro_deposit_status == MicroDeposit.SENT
    assert _field(page, "状态") == "已发出（文件已出具）" and _field(page, "审批发出人") == checker.username
    screenshot(page, "payout-batch-released")

    # when they download the CSV, then it names the batch, its count and control sum, and each payment
    name, data = _download(page, "#download-csv")
    assert name == f"{batch.reference}.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["批次号", "付款日期", "总笔数", "总金额"]
    assert rows[1][:4] == [batch.reference, value_date.isoformat(), "3", f"{expected_sum:.2f}"]
    assert rows[1][4] == merchant.supervision_account_number
    assert [r[0] for r in rows[3:]] == [line.end_to_end_id for line in lines]
    assert [r[1] for r in rows[3:5]] == [w.bank_card.account_number for w in withdrawals]
    assert [Decimal(r[4]) for r in rows[3:]] == [Decimal("100.00"), Decimal("250.50"), card.micro_deposit_amount]

    # when they download the pain.001, then its header and payment block carry the same totals
    name, data = _download(page, "#download-xml")
    assert name == f"{batch.reference}.xml"
    doc = etree.fromstring(data)
    ns = {"p": PAIN_NS}
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) == batch.reference
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "3"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == f"{expected_sum:.2f}"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:CtrlSum", namespaces=ns) == f"{expected_sum:.2f}"
    assert [e.text for e in doc.iterfind(".//p:EndToEndId", ns)] == [line.end_to_end_id for line in lines]

    # and the list shows the released batch with its count and control sum
    page.goto(BATCHES)
    row = page.locator("#result_list tbody tr", has_text=batch.reference)
    assert row.get_by_text("已发出（文件已出具）").count() == 1
    assert row.get_by_text(money(expected_sum)).count() == 1
    screenshot(page, "payout-batch-list")
