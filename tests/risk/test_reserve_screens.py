"""The risk reserve where people and platforms see it: the API (the position, announcing a reserve
deposit, a withdrawal refused while short), the admin in Chinese (a request page, the second officer's
buttons, the requester refused), the merchant page's panel, the RM and risk dashboards and the RM
performance figures."""
import pytest
from django.urls import reverse

from backoffice.selectors import dashboards
from backoffice.selectors import performance as perf
from ledger.models import Deposit
from ledger.selectors import reserve_position
from merchants.models import Merchant
from risk.models import ReserveCompensation, ReservePolicy
from risk.selectors.reserve import merchant_reserve_panels
from risk.services import reserve as rs
from tests import factories as f
from tests.api.conftest import make_platform
from tests.payouts.helpers import seller_with_card

from .helpers import D, fund_reserve, require_reserve

pytestmark = pytest.mark.django_db


# --- API ------------------------------------------------------------------------------------------

def test_the_platform_reads_its_reserve_and_announces_money_for_it_but_can_not_credit_it():
    # given a platform whose reserve of 5,000.00 holds 1,000.00
    platform = make_platform()
    require_reserve(platform.merchant, "5000.00")
    fund_reserve(platform.merchant, "1000.00")
    # when it reads its reserve
    position = platform.client.get_risk_reserve()
    # then it sees what is required, held and missing
    assert position["required"] == "5000.00" and position["balance"] == "1000.00"
    assert position["shortfall"] == "4000.00" and position["currency"] == "CNY"
    # when it announces 4,000.00 for its reserve
    deposit = platform.client.create_reserve_deposit(amount="4000.00", order_no="RSV-API-1")
    # then it gets a payment code, nothing is credited, and the deposit reads back without a member
    assert deposit["status"] == "awaiting_funds" and deposit["purpose"] == "risk_reserve"
    assert deposit["user_id"] is None and len(deposit["payment_code"]) == 10
    assert platform.client.get_deposit(deposit["id"])["purpose"] == "risk_reserve"
    assert reserve_position(platform.merchant).balance == D("1000.00")
    assert Deposit.objects.get(pk=deposit["id"]).for_reserve


def test_a_withdrawal_above_the_limit_is_refused_over_the_api_while_the_reserve_is_short(settings):
    from jianguan_client import JianguanError

    # given a platform short of its reserve and a seller with 20,000.00 and a verified card
    settings.JIANGUAN = {**settings.JIANGUAN, "RESERVE_SHORTFALL_WITHDRAWAL_LIMIT": "1000.00"}
    platform = make_platform()
    require_reserve(platform.merchant, "5000.00")
    seller, card = seller_with_card(platform.merchant, amount="20000.00")
    # when it asks to pay out 2,000.00, then 422 reserve_shortfall, with the figures
    with pytest.raises(JianguanError) as err:
        platform.client.request("POST", "/withdrawals", idempotent=True, body={
            "user_id": seller.user_id, "amount": "2000.00", "bank_card_id": card.pk, "order_no": "WD-API-1"})
    assert err.value.status == 422 and err.value.code == "reserve_shortfall"
    assert err.value.details["shortfall"] == "5000.00"


# --- admin ------------------------------------------------------------------------------------------

def _zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def test_a_risk_officer_requests_a_compensation_in_the_admin_and_a_second_approves_it(client):
    from ledger.services.payments import payment_create

    # given a funded reserve and a buyer's order
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "200.00")
    payment_create(merchant=merchant, actor=None, payer=buyer, amount="200.00", order_no="ORD-ADM", mode="direct",
                   splits=[(seller, "200.00")])
    maker, checker = f.risk(), f.risk()
    # when the first officer opens the request page (in Chinese) and submits it
    client.force_login(maker)
    page = _zh(client).get(reverse("admin:risk_reservecompensation_add")).content.decode()
    assert "风险保证金" in page
    response = client.post(reverse("admin:risk_reservecompensation_add"), {
        "merchant": merchant.pk, "user_id": buyer.user_id, "amount": "200.00", "order_no": "ORD-ADM",
        "reason": "未发货"})
    compensation = ReserveCompensation.objects.get()
    assert response.status_code == 302
    # then the requester has no approve button, and pressing it anyway is refused
    change = reverse("admin:risk_reservecompensation_change", args=[compensation.pk])
    assert 'data-transition="approve"' not in client.get(change).content.decode()
    client.post(reverse("admin:risk_reservecompensation_transition", args=[compensation.pk, "approve"]),
                {"reason": ""})
    compensation.refresh_from_db()
    assert compensation.status == ReserveCompensation.Status.REQUESTED
    # when the second officer approves it from the page
    client.force_login(checker)
    assert 'data-transition="approve"' in client.get(change).content.decode()
    client.post(reverse("admin:risk_reservecompensation_transition", args=[compensation.pk, "approve"]),
                {"reason": "核实"})
    # then the buyer is paid from the reserve
    compensation.refresh_from_db()
    assert compensation.status == ReserveCompensation.Status.APPROVED
    assert reserve_position(merchant).balance == D("800.00")


def test_a_policy_is_requested_on_its_page_and_an_rm_may_not_open_it(client):
    merchant = f.active_merchant()
    client.force_login(f.rm())
    assert client.get(reverse("admin:risk_reservepolicy_add")).status_code in (302, 403)
    client.force_login(f.risk())
    client.post(reverse("admin:risk_reservepolicy_add"), {
        "merchant": merchant.pk, "basis": "percent", "percent": "5.00", "minimum": "300.00", "reason": "新平台"})
    policy = ReservePolicy.objects.get()
    assert policy.basis == "percent" and policy.percent == D("5.00") and policy.minimum == D("300.00")


def test_the_merchant_page_shows_the_reserve_panel(client):
    # given a merchant short of its reserve
    merchant = f.active_merchant()
    require_reserve(merchant, "5000.00")
    fund_reserve(merchant, "1200.00")
    # then the panel says what is required, held and missing
    [panel] = merchant_reserve_panels(merchant)
    rows = dict((str(k), str(v)) for k, v in panel["rows"])
    assert panel["ok"] is False and rows["Shortfall"] == "3,800.00" and rows["Reserve balance"] == "1,200.00"
    # and the merchant's page shows it, in Chinese
    client.force_login(f.risk())
    page = _zh(client).get(reverse("admin:merchants_merchant_change", args=[merchant.pk])).content.decode()
    assert "风险保证金" in page and "3,800.00" in page


# --- dashboards and RM performance ---------------------------------------------------------------------

def test_the_rm_and_risk_dashboards_show_reserves_and_shortfalls():
    # given an RM's two merchants: one funded, one short; and a compensation waiting
    manager = f.rm()
    funded, short = f.active_merchant(manager=manager), f.active_merchant(manager=manager)
    require_reserve(funded, "1000.00")
    fund_reserve(funded, "1000.00")
    require_reserve(short, "3000.00")
    fund_reserve(short, "500.00")
    buyer, seller = f.member(funded), f.member(funded)
    f.funded(buyer, "10.00")
    from ledger.services.payments import payment_create

    payment_create(merchant=funded, actor=None, payer=buyer, amount="10.00", order_no="ORD-D", mode="direct",
                   splits=[(seller, "10.00")])
    rs.reserve_compensation_request(merchant=funded, actor=f.risk(), member=buyer, amount="10.00", order_no="ORD-D",
                                    reason="never shipped")
    # when the RM reads their dashboard
    rm = dashboards.rm_dashboard(manager)
    rows = {m.pk: m for m in rm.merchants}
    # then each merchant's reserve and shortfall, and their totals
    assert (rows[funded.pk].reserve_balance, rows[funded.pk].reserve_shortfall) == (D("1000.00"), D("0.00"))
    assert (rows[short.pk].reserve_balance, rows[short.pk].reserve_shortfall) == (D("500.00"), D("2500.00"))
    assert (rm.total_reserve, rm.total_shortfall) == (D("1500.00"), D("2500.00"))
    # when a risk officer reads theirs, then the short merchant and the waiting decision are listed
    risk = dashboards.risk_dashboard(f.risk())
    assert [m.pk for m in risk.reserve_shortfalls] == [short.pk]
    assert [d["merchant_code"] for d in risk.reserve_decisions] == [funded.code]


def test_the_rm_performance_figures_carry_the_reserve_and_its_shortfall():
    # given an RM whose merchant must hold 3,000.00 and holds 500.00
    manager = f.rm()
    merchant = f.active_merchant(manager=manager)
    require_reserve(merchant, "3000.00")
    fund_reserve(merchant, "500.00")
    # when the month's figures are computed on the business date the bookings carry
    from ledger.calendar import business_date_for

    day = business_date_for()
    rows = {r.rm_id: r for r in perf.performance(perf.current_period("month", as_of=day), as_of=day)}
    # then the reserve and the shortfall are among them (and in the export's columns)
    assert (rows[manager.pk].reserve_balance, rows[manager.pk].reserve_shortfall) == (D("500.00"), D("2500.00"))
    from backoffice.exports import COLUMNS

    assert {"reserve_balance", "reserve_shortfall"} <= set(COLUMNS)


def test_the_demo_shows_a_funded_reserve_and_a_shortfall_merchant():
    from demo.reserve import RESERVES, add_reserve

    # given the demo's two platforms and its risk officers
    users = {"risk_zhao": f.risk(), "risk_sun": f.risk(), "ops_chen": f.ops()}
    funded, short = (f.active_merchant(code=code) for code in RESERVES)
    # when their reserves are added as the demo does
    add_reserve(funded, users)
    add_reserve(short, users)
    # then one is funded in full and the other short of its minimum
    assert reserve_position(Merchant.objects.get(pk=funded.pk)).shortfall == 0
    assert reserve_position(Merchant.objects.get(pk=short.pk)).shortfall == D("3000.00")
