"""The risk queue in a real browser, in Chinese: a payment an outflow rule held for review waits
in the queue with its rule hit; the rule's author sees no button on it and a decision they force
is refused on the page; a second risk officer refuses it with a reason, and the payer's money is
available again."""
import pytest

from ledger.models import Payment
from ledger.selectors import prove_merchant
from risk.models import RiskReview
from tests import factories as f
from tests.risk.rules_helpers import pay, rule, shop

from .conftest import log_in, screenshot
from .test_payouts import _post_from_the_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUE = "/admin/risk/riskreview/"


def test_a_second_risk_officer_refuses_a_held_payment_in_the_queue_and_the_author_may_not(browser_page):
    page = browser_page
    # given a rule reviewing payments above 1,000, written by one risk officer, and a payment of 1,500
    merchant, buyer, seller = shop()
    author, checker = f.risk(username="risk_author"), f.risk(username="risk_checker")
    rule(merchant, name="大额支付审核", author=author)
    payment = pay(buyer, seller, "1500.00")
    review = RiskReview.objects.get(payment=payment)

    # when the author opens the queue, then the payment waits there, and its page offers them no button
    log_in(page, author)
    page.goto(QUEUE)
    assert page.get_by_role("heading", name="风控队列").count() >= 1 or "风控队列" in page.content()
    assert page.get_by_text(payment.order_no).count() >= 1
    page.goto(f"{QUEUE}{review.pk}/change/")
    assert page.get_by_text("大额支付审核").count() >= 1 and page.get_by_text("待风控专员处理").count() >= 1
    assert page.locator('[data-transition="approve"]').count() == 0
    assert page.locator('[data-transition="refuse"]').count() == 0
    # and an approval they force is refused on the page
    _post_from_the_page(page, f"{QUEUE}{review.pk}/transition/approve/")
    page.wait_for_url(f"**{QUEUE}{review.pk}/change/")
    page.get_by_text("已拒绝：您目前不能对此记录执行“批准”").wait_for()
    screenshot(page, "risk-queue-author-refused")
    review.refresh_from_db()
    assert review.status == "open"

    # when a second risk officer refuses it with a reason
    log_in(page, checker)
    page.goto(f"{QUEUE}{review.pk}/change/")
    assert page.locator('[data-transition="approve"]').count() == 1
    page.locator('[data-transition="refuse"]').click()
    page.fill("textarea[name=reason]", "虚假订单")
    screenshot(page, "risk-queue-refuse-reason")
    page.locator("form [type=submit]").last.click()
    page.wait_for_url(f"**{QUEUE}{review.pk}/change/")
    page.get_by_text("已完成：拒绝。").wait_for()
    screenshot(page, "risk-queue-refused")

    # then the review is refused with its reason, the payment too, and the money is back
    review.refresh_from_db()
    assert (review.status, review.reason, review.decided_by) == ("refused", "虚假订单", checker)
    assert Payment.objects.get(pk=payment.pk).status == "refused"
    proof = prove_merchant(merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts
