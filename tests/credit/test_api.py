"""The credit endpoints of API.md, through the project's client with real signing."""
from decimal import Decimal

import pytest
from django.core.cache import cache

from jianguan_client import JianguanError
from ledger.selectors import prove_merchant
from merchants.models import Member
from merchants.services.lifecycle import merchant_freeze
from tests import factories as f
from tests.api.conftest import add_member, fund, make_platform

from .helpers import open_line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # throttle counters
    yield
    cache.clear()


@pytest.fixture
def shop(db):
    platform = make_platform()
    add_member(platform, "buyer", roles=("buyer",))
    add_member(platform, "core", roles=("seller",))
    add_member(platform, "seller", roles=("seller",))
    members = {m.user_id: m for m in Member.objects.filter(merchant=platform.merchant)}
    open_line(platform.merchant, members["buyer"], creditor=members["core"], limit="5000.00", term_days=30,
              grace_days=3)
    return platform


def refused(call):
    with pytest.raises(JianguanError) as err:
        call()
    return err.value.status, err.value.code


def test_the_credit_line_and_the_balance_show_the_limit(shop):
    line = shop.client.get_credit_line("buyer")
    assert line == {"status": "active", "limit": "5000.00", "used": "0.00", "available": "5000.00",
                    "term_days": 30, "grace_days": 3, "penalty_rate": "0.000500", "creditor_user_id": "core",
                    "creditor_is_platform": False}
    assert shop.client.get_balance("buyer")["credit"] == {"limit": "5000.00", "used": "0.00",
                                                          "available": "5000.00"}
    assert refused(lambda: shop.client.get_credit_line("seller")) == (404, "not_found")
    assert shop.client.get_balance("seller")["credit"] is None
    assert refused(lambda: shop.client.get_credit_line("nobody")) == (404, "not_found")


def test_draw_list_and_repay_over_the_api(shop):
    # when the buyer draws 1,200.00 to pay the core enterprise
    bill = shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="1200.00", order_no="PO-1")
    assert shop.client.last_response.status_code == 201
    assert (bill["amount"], bill["outstanding"], bill["status"], bill["user_id"], bill["payee_user_id"]) == (
        "1200.00", "1200.00", "open", "buyer", "core")
    assert shop.client.get_credit_line("buyer")["available"] == "3800.00"
    # the same order again answers the same bill (200); another amount is a duplicate order
    again = shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="1200.00", order_no="PO-1")
    assert again == bill and shop.client.last_response.status_code == 200
    assert refused(lambda: shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="1.00",
                                                       order_no="PO-1")) == (409, "duplicate_order")
    # the list filters by member and status
    assert shop.client.list_credit_bills(user_id="buyer")["results"] == [bill]
    assert shop.client.list_credit_bills(status="repaid")["results"] == []
    # when the buyer repays 200.00, then the rest
    fund(shop, "buyer", "1200.00")
    repayment = shop.client.credit_repay(bill["id"], amount="200.00")
    assert (repayment["penalty_part"], repayment["principal_part"]) == ("0.00", "200.00")
    assert repayment["bill"]["status"] == "partially_repaid" and repayment["bill"]["outstanding"] == "1000.00"
    assert refused(lambda: shop.client.credit_repay(bill["id"], amount="1000.01")) == (400, "invalid_amount")
    final = shop.client.credit_repay(bill["id"], amount="1000.00")
    assert final["bill"]["status"] == "repaid"
    assert shop.client.get_balance("core")["available"] == "1200.00"
    assert shop.client.get_credit_line("buyer")["used"] == "0.00"
    assert prove_merchant(shop.merchant).ok


def test_refusals_answer_the_contract_codes(shop):
    assert refused(lambda: shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="5000.01",
                                                       order_no="PO-1")) == (422, "credit_limit_exceeded")
    assert refused(lambda: shop.client.credit_drawdown(user_id="seller", payee_user_id="core", amount="1.00",
                                                       order_no="PO-2")) == (422, "credit_line_inactive")
    assert refused(lambda: shop.client.credit_drawdown(user_id="buyer", payee_user_id="ghost", amount="1.00",
                                                       order_no="PO-3")) == (404, "not_found")
    assert refused(lambda: shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="1e3",
                                                       order_no="PO-4")) == (400, "invalid_amount")
    assert refused(lambda: shop.client.list_credit_bills(status="lost")) == (400, "invalid_request")
    bill = shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="100.00", order_no="PO-5")
    assert refused(lambda: shop.client.credit_repay(bill["id"], amount="100.00")) == (422, "insufficient_funds")
    assert refused(lambda: shop.client.credit_repay(999999, amount="1.00")) == (404, "not_found")


def test_another_platform_sees_none_of_it(shop):
    bill = shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="100.00", order_no="PO-1")
    other = make_platform()
    add_member(other, "buyer")
    assert refused(lambda: other.client.get_credit_line("buyer")) == (404, "not_found")
    assert refused(lambda: other.client.credit_repay(bill["id"], amount="1.00")) == (404, "not_found")
    assert other.client.list_credit_bills()["results"] == []


def test_a_frozen_merchant_draws_nothing_but_still_reads(shop):
    merchant_freeze(merchant=shop.merchant, actor=f.risk(), reason="Investigation")
    assert refused(lambda: shop.client.credit_drawdown(user_id="buyer", payee_user_id="core", amount="1.00",
                                                       order_no="PO-1")) == (403, "merchant_frozen")
    assert Decimal(shop.client.get_credit_line("buyer")["limit"]) == Decimal("5000.00")
