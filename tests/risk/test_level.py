"""The platform's risk level: the same books give the same level, each factor moves it the right
way, every computation is kept and the latest sets the merchant's level (audited)."""
from datetime import timedelta

import pytest

from core.models import AuditEvent
from credit import services as credit
from ledger.calendar import business_date_for
from ledger.services.payments import payment_refund
from merchants.models import Merchant, RiskLevel
from risk import level
from risk.models import RiskAssessment
from risk.services.assessments import merchant_assess
from tests import factories as f
from tests.credit.helpers import open_line

from .helpers import fund_reserve, park_in_suspense, pay, payment_release, require_reserve

pytestmark = pytest.mark.django_db


def today():
    return business_date_for()  # the date today's bookings carry


def points(assessment, key):
    return next(float(x["points"]) for x in assessment.factors if x["key"] == key)


@pytest.fixture
def shop():
    """A platform with clean books: deposits, two direct payments, a reserve fully funded."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "5000.00")
    pay(buyer, seller, "100.00")
    pay(buyer, seller, "200.00")
    require_reserve(merchant, "1000.00")
    fund_reserve(merchant, "1000.00")
    return merchant, buyer, seller


def test_clean_books_are_low_risk(shop):
    merchant, _buyer, _seller = shop
    result = level.assess(merchant, as_of=today())
    assert (result.score, result.level) == (0, RiskLevel.LOW), result.factors
    assert [x["key"] for x in result.factors] == [spec.key for spec in level.FACTORS]
    assert sum(spec.weight for spec in level.FACTORS) == 100  # the weights are the score's scale


def test_the_same_books_give_the_same_level_and_later_books_do_not_change_an_earlier_day(shop):
    # given books with a refund and money in suspense, assessed as of today
    merchant, buyer, seller = shop
    payment = pay(buyer, seller, "300.00")
    payment_refund(payment=payment, actor=None, amount="300.00", reason="never shipped", idempotency_ref="R-1")
    park_in_suspense(merchant, "800.00")
    first = level.assess(merchant, as_of=today())
    # when it is computed again, and as of a day with its own books fixed
    assert level.assess(merchant, as_of=today()) == first
    yesterday = level.assess(merchant, as_of=today() - timedelta(days=1))
    pay(buyer, seller, "50.00")
    park_in_suspense(merchant, "10.00")
    # then the same books give the same answer, and today's bookings leave yesterday's alone
    assert level.assess(merchant, as_of=today() - timedelta(days=1)) == yesterday
    assert first.score > 0


def test_refunds_and_reversals_raise_the_level(shop):
    merchant, buyer, seller = shop
    before = level.assess(merchant, as_of=today())
    for n in range(2):
        payment = pay(buyer, seller, "40.00")
        payment_refund(payment=payment, actor=None, amount="40.00", reason="fake order", idempotency_ref=f"R-{n}")
    after = level.assess(merchant, as_of=today())
    assert points(after, "refund_reversal_rate") > points(before, "refund_reversal_rate")
    assert after.score > before.score


def test_guaranteed_payments_released_at_once_raise_the_level(shop):
    merchant, buyer, seller = shop
    held = pay(buyer, seller, "80.00", mode="guaranteed")
    before = level.assess(merchant, as_of=today())
    payment_release(payment=held, actor=None)  # the "buyer confirms receipt" a minute after paying
    after = level.assess(merchant, as_of=today())
    factor = next(x for x in after.factors if x["key"] == "quick_release_share")
    assert factor["value"] == "1 / 1" and points(after, "quick_release_share") == 25.0
    assert after.score > before.score


def test_inflows_parked_in_suspense_raise_the_level(shop):
    merchant, _buyer, _seller = shop
    before = level.assess(merchant, as_of=today())
    park_in_suspense(merchant, "300.00")
    after = level.assess(merchant, as_of=today())
    assert points(after, "suspense_inflow_share") > points(before, "suspense_inflow_share") == 0
    assert after.score > before.score


def test_a_reserve_short_of_its_requirement_raises_the_level(shop):
    merchant, _buyer, _seller = shop
    before = level.assess(merchant, as_of=today())
    require_reserve(merchant, "4000.00")  # 1000.00 of 4000.00 funded: 75 % short
    after = level.assess(merchant, as_of=today())
    assert points(after, "reserve_shortfall") == 11.25 and points(before, "reserve_shortfall") == 0
    assert after.score > before.score


def test_overdue_credit_raises_the_level(shop):
    merchant, buyer, seller = shop
    open_line(merchant, buyer, creditor=seller, limit="5000.00", term_days=30, grace_days=3)
    bill = credit.credit_drawdown(merchant=merchant, actor=None, member=buyer, payee=seller, amount="500.00",
                                  order_no="PO-1")
    after_grace = bill.grace_until + timedelta(days=1)
    assert points(level.assess(merchant, as_of=bill.grace_until), "overdue_credit") == 0
    assert points(level.assess(merchant, as_of=after_grace), "overdue_credit") == 3.0


def test_rule_hits_count_once_rules_exist_and_are_noted_until_then(shop, monkeypatch):
    merchant, _buyer, _seller = shop
    monkeypatch.setattr(level, "rule_hit_sources", [])  # no source of rule hits registered
    before = level.assess(merchant, as_of=today())
    assert next(x for x in before.factors if x["key"] == "rule_hits")["note"]
    monkeypatch.setattr(level, "rule_hit_sources", [lambda m, start, end: 4])
    after = level.assess(merchant, as_of=today())
    hits = next(x for x in after.factors if x["key"] == "rule_hits")
    assert (hits["value"], hits["points"], hits["note"]) == ("4", "2.00", "")


def test_levels_follow_the_score():
    assert [level.level_for(s) for s in (0, 19, 20, 49, 50, 100)] == ["low", "low", "medium", "medium", "high",
                                                                     "high"]


def test_every_computation_is_kept_and_the_latest_sets_the_merchant_s_level(shop):
    # given a platform whose reserve is unfunded and whose inflows went to suspense
    merchant, _buyer, _seller = shop
    officer = f.risk()
    first = merchant_assess(merchant=merchant, actor=officer)
    assert first.level == RiskLevel.LOW
    require_reserve(merchant, "100000.00")
    park_in_suspense(merchant, "5000.00")
    # when risk recomputes
    second = merchant_assess(merchant=merchant, actor=officer)
    # then both computations are kept, with their factors, and the merchant now carries the new level
    assert list(RiskAssessment.objects.filter(merchant=merchant).order_by("id")) == [first, second]
    assert second.score > first.score and second.level == RiskLevel.MEDIUM
    assert {x["key"] for x in second.factors} == {spec.key for spec in level.FACTORS}
    merchant.refresh_from_db()
    assert merchant.risk_level == RiskLevel.MEDIUM
    # and the change is audited on the merchant with the assessment behind it
    change = AuditEvent.objects.filter(action="risk_level", object_id=str(merchant.pk)).latest("id")
    assert (change.from_state, change.to_state, change.data["assessment"]) == ("low", "medium", second.pk)


def test_the_daily_task_assesses_every_live_merchant(shop):
    merchant, _buyer, _seller = shop
    draft = f.draft_merchant()
    from risk.tasks import assess_merchants

    assert assess_merchants() >= 1
    assert RiskAssessment.objects.filter(merchant=merchant).count() == 1
    assert not RiskAssessment.objects.filter(merchant=draft).exists()
    assert Merchant.objects.get(pk=merchant.pk).risk_level == RiskLevel.LOW
