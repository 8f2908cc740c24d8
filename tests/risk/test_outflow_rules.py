"""Outflow rules: each condition on the movements it judges, each outcome
(allow records, review holds, refuse stops), observe mode, scope (merchant, risk level), the
trace every decision leaves, and what the rules cost the payment path."""
from datetime import timedelta

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.utils import timezone

from ledger.models import EntryType, JournalEntry, Payment, Withdrawal
from ledger.outflows import RuleRefused
from ledger.selectors import prove_merchant
from ledger.services.accounts import member_accounts
from merchants.models import Member, Merchant, RiskLevel
from risk.models import RiskReview, RuleHit
from risk.services import rules as rule_services
from tests import factories as f

from .rules_helpers import D, card, pay, release, rule, shop, withdraw

pytestmark = pytest.mark.django_db


def balances(member):
    available, frozen = member_accounts(member)
    available.refresh_from_db()
    frozen.refresh_from_db()
    return available.balance, frozen.balance


def proven(merchant):
    proof = prove_merchant(merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts
    return proof


# --- outcomes on a payment -------------------------------------------------------------------

def test_no_rule_books_as_before_and_records_nothing():
    merchant, buyer, seller = shop()
    payment = pay(buyer, seller, "2000.00")
    assert payment.status == Payment.Status.SETTLED and not RuleHit.objects.exists()
    proven(merchant)


def test_an_amount_limit_under_the_limit_allows_without_a_hit():
    merchant, buyer, seller = shop()
    rule(merchant, amount=D("1000.00"), outcome="refuse")
    payment = pay(buyer, seller, "999.99")
    assert payment.status == Payment.Status.SETTLED and not RuleHit.objects.exists()


def test_an_allow_rule_records_its_hit_and_books_normally():
    # given an enforced rule whose outcome is allow (a tripwire)
    merchant, buyer, seller = shop()
    r = rule(merchant, outcome="allow")
    # when a payment crosses it
    payment = pay(buyer, seller, "1500.00")
    # then it books and the hit is recorded against the payment
    assert payment.status == Payment.Status.SETTLED
    hit = RuleHit.objects.get()
    assert (hit.rule, hit.payment, hit.outcome, hit.mode, hit.applied) == (r, payment, "allow", "enforce", True)
    proven(merchant)


def test_a_refusing_amount_limit_books_nothing_and_keeps_the_refusal():
    # given a rule refusing payments above 1,000
    merchant, buyer, seller = shop()
    r = rule(merchant, name="big payments", outcome="refuse")
    entries = JournalEntry.objects.count()
    # when a payment of 1,500 is made
    with pytest.raises(RuleRefused) as err:
        pay(buyer, seller, "1500.00", order_no="BIG-1")
    # then nothing is booked, the error names the rule, and the refusal is recorded
    assert err.value.code == "rule_refused" and err.value.status == 422
    assert err.value.details["rule"] == "big payments"
    assert JournalEntry.objects.count() == entries and not Payment.objects.filter(order_no="BIG-1").exists()
    hit = RuleHit.objects.get()
    assert (hit.rule, hit.outcome, hit.applied, hit.order_no, hit.payment) == (r, "refuse", True, "BIG-1", None)
    assert balances(buyer) == (D("5000.00"), D("0.00"))
    proven(merchant)


def test_a_reviewing_amount_limit_holds_the_money_and_queues_the_payment():
    # given a rule reviewing payments above 1,000
    merchant, buyer, seller = shop()
    r = rule(merchant, name="review big")
    # when a payment of 1,500 is made
    payment = pay(buyer, seller, "1500.00")
    # then it waits in review, the payer's money moved to frozen by a hold entry, nothing reached the payee
    assert payment.status == Payment.Status.IN_REVIEW and payment.entry is None
    assert balances(buyer) == (D("3500.00"), D("1500.00")) and balances(seller) == (D("0.00"), D("0.00"))
    assert JournalEntry.objects.filter(entry_type=EntryType.HOLD, order_no=payment.order_no).count() == 1
    review = RiskReview.objects.get()
    assert (review.movement, review.payment, review.rule, review.amount, review.status) == (
        "payment", payment, r, D("1500.00"), "open")
    assert RuleHit.objects.get().review == review
    proven(merchant)


def test_the_strictest_enforced_outcome_decides_and_every_hit_is_kept():
    merchant, buyer, seller = shop()
    rule(merchant, amount=D("100.00"), outcome="allow")
    rule(merchant, amount=D("200.00"), outcome="review")
    refusing = rule(None, amount=D("300.00"), outcome="refuse")
    with pytest.raises(RuleRefused) as err:
        pay(buyer, seller, "500.00")
    assert err.value.details["rule"] == refusing.name
    assert RuleHit.objects.count() == 3 and RuleHit.objects.get(applied=True).rule == refusing


# --- observe mode ----------------------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["review", "refuse"])
def test_an_observing_rule_books_normally_and_records_what_it_would_have_done(outcome):
    merchant, buyer, seller = shop()
    r = rule(merchant, outcome=outcome, mode="observe")
    payment = pay(buyer, seller, "1500.00")
    assert payment.status == Payment.Status.SETTLED and not RiskReview.objects.exists()
    hit = RuleHit.objects.get()
    assert (hit.rule, hit.outcome, hit.mode, hit.applied, hit.payment) == (r, outcome, "observe", False, payment)
    assert balances(seller) == (D("1500.00"), D("0.00"))
    proven(merchant)


def test_an_inactive_rule_does_nothing():
    merchant, buyer, seller = shop()
    rule(merchant, outcome="refuse", active=False)
    assert pay(buyer, seller, "1500.00").status == Payment.Status.SETTLED and not RuleHit.objects.exists()


# --- scope ---------------------------------------------------------------------------------

def test_a_merchant_s_rule_does_not_touch_other_merchants():
    merchant, buyer, seller = shop()
    other, other_buyer, other_seller = shop()
    rule(merchant, outcome="refuse")
    assert pay(other_buyer, other_seller, "1500.00").status == Payment.Status.SETTLED
    with pytest.raises(RuleRefused):
        pay(buyer, seller, "1500.00")


def test_a_rule_for_every_merchant_applies_to_each():
    merchant, buyer, seller = shop()
    rule(None, outcome="refuse")
    with pytest.raises(RuleRefused):
        pay(buyer, seller, "1500.00")


@pytest.mark.parametrize(("level", "applies"), [("low", False), ("medium", False), ("high", True)])
def test_a_rule_for_high_risk_merchants_applies_only_at_or_above_that_level(level, applies):
    # given a stricter limit for high-risk platforms only
    merchant, buyer, seller = shop()
    Merchant.objects.filter(pk=merchant.pk).update(risk_level=level)
    merchant.refresh_from_db()
    buyer.merchant = merchant
    rule(None, min_risk_level=RiskLevel.HIGH, outcome="refuse")
    # when a payment above it is made, then only the high-risk merchant's is refused
    if applies:
        with pytest.raises(RuleRefused):
            pay(buyer, seller, "1500.00")
    else:
        assert pay(buyer, seller, "1500.00").status == Payment.Status.SETTLED


def test_a_rule_for_one_movement_kind_ignores_the_others():
    merchant, buyer, seller = shop()
    rule(merchant, movement="withdrawal", outcome="refuse")
    assert pay(buyer, seller, "1500.00").status == Payment.Status.SETTLED
    with pytest.raises(RuleRefused):
        withdraw(buyer, "1500.00")


# --- velocity ------------------------------------------------------------------------------

def test_velocity_count_per_member_per_hour():
    # given at most 2 payments per member per hour, then refused
    merchant, buyer, seller = shop()
    rule(merchant, kind="velocity_count", count=2, window="hour", amount=None, outcome="refuse")
    other_buyer = f.member(merchant)
    f.funded(other_buyer, "100.00")
    pay(buyer, seller, "10.00")
    pay(buyer, seller, "10.00")
    # when a third comes, then it is refused; another member still pays
    with pytest.raises(RuleRefused):
        pay(buyer, seller, "10.00")
    assert pay(other_buyer, seller, "10.00").status == Payment.Status.SETTLED
    # and payments older than the window don't count
    Payment.objects.filter(payer=buyer).update(created_at=timezone.now() - timedelta(hours=2))
    assert pay(buyer, seller, "10.00").status == Payment.Status.SETTLED


def test_velocity_sum_per_member_per_day_reviews():
    merchant, buyer, seller = shop()
    rule(merchant, kind="velocity_sum", amount=D("1000.00"), window="day")
    assert pay(buyer, seller, "600.00").status == Payment.Status.SETTLED
    assert pay(buyer, seller, "400.00").status == Payment.Status.SETTLED  # exactly 1,000: allowed
    assert pay(buyer, seller, "0.01").status == Payment.Status.IN_REVIEW
    proven(merchant)


def test_velocity_count_on_withdrawals_and_on_releases():
    merchant, buyer, seller = shop()
    rule(merchant, movement="withdrawal", kind="velocity_count", count=1, window="day", amount=None,
         outcome="refuse")
    rule(merchant, movement="release", kind="velocity_count", count=1, window="day", amount=None, outcome="review")
    bank_card = card(buyer)
    assert withdraw(buyer, "10.00", bank_card=bank_card).status == Withdrawal.Status.APPROVED
    with pytest.raises(RuleRefused):
        withdraw(buyer, "10.00", bank_card=bank_card)
    first, second = pay(buyer, seller, "10.00", mode="guaranteed"), pay(buyer, seller, "10.00", mode="guaranteed")
    assert release(first).status == Payment.Status.RELEASED
    second = release(second)
    assert second.status == Payment.Status.HELD and second.pending_review.kind == "release"


# --- new members, new cards, quick releases, new payers ------------------------------------

def test_new_member_limit():
    merchant, buyer, seller = shop()
    rule(merchant, kind="new_member", days=7, amount=D("500.00"), outcome="refuse")
    assert pay(buyer, seller, "500.00").status == Payment.Status.SETTLED
    with pytest.raises(RuleRefused):
        pay(buyer, seller, "500.01")
    Member.objects.filter(pk=buyer.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert pay(buyer, seller, "900.00").status == Payment.Status.SETTLED


def test_first_withdrawal_to_a_new_card_is_reviewed_then_the_card_is_known():
    merchant, buyer, _seller = shop()
    rule(merchant, kind="new_card", amount=None)
    bank_card = card(buyer)
    first = withdraw(buyer, "100.00", bank_card=bank_card)
    assert first.status == Withdrawal.Status.IN_REVIEW
    assert balances(buyer) == (D("4900.00"), D("100.00"))
    assert "first withdrawal" in RiskReview.objects.get(withdrawal=first).detail
    assert withdraw(buyer, "100.00", bank_card=bank_card).status == Withdrawal.Status.APPROVED
    proven(merchant)


def test_a_new_card_rule_with_days_ignores_cards_bound_long_ago():
    merchant, buyer, _seller = shop()
    rule(merchant, kind="new_card", days=30, amount=None, outcome="refuse")
    old = card(buyer)
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert withdraw(buyer, "100.00", bank_card=old).status == Withdrawal.Status.APPROVED
    with pytest.raises(RuleRefused):
        withdraw(buyer, "100.00")


def test_release_sooner_than_n_hours_after_the_hold():
    merchant, buyer, seller = shop()
    rule(merchant, kind="quick_release", hours=24, amount=None, outcome="refuse")
    payment = pay(buyer, seller, "300.00", mode="guaranteed")
    with pytest.raises(RuleRefused) as err:
        release(payment)
    assert "minutes after the payment" in err.value.details["detail"]
    hit = RuleHit.objects.get()
    assert (hit.movement, hit.payment) == ("release", payment)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert release(payment).status == Payment.Status.RELEASED
    proven(merchant)


def test_a_payee_paid_by_many_new_payers():
    # given a review when a payee has been paid by 3 members younger than 7 days within the day
    merchant, _buyer, seller = shop(funds=None)
    rule(merchant, kind="new_payers", count=3, days=7, window="day", amount=None)
    payers = [f.member(merchant) for _ in range(3)]
    for payer in payers:
        f.funded(payer, "100.00")
    # when two new payers pay, then both book; the third makes three: review
    assert [pay(p, seller, "10.00").status for p in payers] == ["settled", "settled", "in_review"]
    # and another payee, paid by an old member and two new ones, stays under the count
    other_payee, old = f.member(merchant), f.member(merchant)
    f.funded(old, "100.00")
    Member.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    old.refresh_from_db()
    assert [pay(p, other_payee, "10.00").status for p in (old, payers[0], payers[1])] == ["settled"] * 3


# --- refusals of release and withdrawal -----------------------------------------------------

def test_a_refused_withdrawal_books_nothing():
    merchant, buyer, _seller = shop()
    rule(merchant, movement="withdrawal", outcome="refuse")
    with pytest.raises(RuleRefused):
        withdraw(buyer, "1500.00", order_no="W-BIG")
    assert not Withdrawal.objects.filter(order_no="W-BIG").exists()
    assert RuleHit.objects.get().movement == "withdrawal"
    assert balances(buyer) == (D("5000.00"), D("0.00"))


# --- a rule's configuration -----------------------------------------------------------------

def test_saving_a_rule_is_audited_with_who_and_what_changed():
    from core.audit import timeline_for

    author = f.risk()
    r = rule(None, author=author)
    r.amount = D("2000.00")
    editor = f.risk()
    rule_services.outflow_rule_save(rule=r, actor=editor)
    events = list(timeline_for(r).order_by("id"))
    assert [e.action for e in events] == ["create", "change"]
    assert events[1].data == {"amount": ["1000.00", "2000.00"]} and events[1].actor_id == editor.pk
    r.refresh_from_db()
    assert (r.created_by, r.updated_by) == (author, editor)


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "velocity_count", "count": None, "window": "hour", "amount": None}, "count"),
    ({"kind": "velocity_sum", "window": ""}, "window"),
    ({"kind": "new_card", "movement": "payment", "amount": None}, "movement"),
    ({"kind": "quick_release", "hours": None, "amount": None}, "hours"),
])
def test_a_rule_that_cannot_be_evaluated_is_refused(fields, field):
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        rule(None, **fields)
    assert field in err.value.details


def test_only_risk_officers_keep_rules():
    from core.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        rule(None, author=f.ops())


def test_rule_hits_count_in_the_computed_risk_level():
    from risk.level import assess

    merchant, buyer, seller = shop()
    rule(merchant, outcome="refuse")
    for _ in range(2):
        with pytest.raises(RuleRefused):
            pay(buyer, seller, "1500.00")
    factor = next(x for x in assess(merchant, as_of=timezone.localdate()).factors if x["key"] == "rule_hits")
    assert factor["value"] == "2" and factor["note"] == ""


# --- the cost on the payment path ------------------------------------------------------------
# A merchant some rule applies to books on the Python path (the rules see the payment's row before
# it books; ledger.booking), so these costs are measured there, against the same path without rules.

@pytest.fixture(autouse=False)
def python_path(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "BOOK_IN_DATABASE": False}


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def test_no_rules_cost_the_payment_path_no_query_once_cached_and_one_when_cold(python_path):
    # given a merchant without rules, a warm payment path
    merchant, buyer, seller = shop()
    pay(buyer, seller, "1.00")
    warm = _queries(lambda: pay(buyer, seller, "1.00"))
    # when the cache of rules is cold, then the same payment costs one query more (the rules' read)
    rule_services.rules_cache_clear()
    cold = _queries(lambda: pay(buyer, seller, "1.00"))
    assert cold == warm + 1
    # and once read, none again
    assert _queries(lambda: pay(buyer, seller, "1.00")) == warm


def test_rules_of_other_merchants_cost_nothing_an_amount_limit_nothing_and_a_hit_its_insert(python_path):
    merchant, buyer, seller = shop()
    other = f.active_merchant()
    rule(other, outcome="refuse")
    pay(buyer, seller, "1.00")
    base = _queries(lambda: pay(buyer, seller, "1.00"))
    # a rule for another merchant: nothing
    assert _queries(lambda: pay(buyer, seller, "1.00")) == base
    # a limit the payment stays under: nothing either (the rules are cached, the movement loaded)
    r = rule(merchant, amount=D("1000.00"))
    rule_services.active_rules()
    assert _queries(lambda: pay(buyer, seller, "1.00")) == base
    # an allow hit: its insert
    r.outcome, r.amount = "allow", D("0.50")
    rule_services.outflow_rule_save(rule=r, actor=f.risk())
    rule_services.active_rules()
    assert _queries(lambda: pay(buyer, seller, "1.00")) == base + 1


def test_velocity_rules_cost_the_member_s_lock_and_one_aggregate_for_every_window(python_path):
    merchant, buyer, seller = shop()
    pay(buyer, seller, "1.00")
    base = _queries(lambda: pay(buyer, seller, "1.00"))
    rule(merchant, kind="velocity_count", count=100, window="hour", amount=None)
    rule(merchant, kind="velocity_sum", amount=D("100000.00"), window="day")
    rule(merchant, kind="velocity_count", count=1000, window="day", amount=None)
    rule_services.active_rules()
    assert _queries(lambda: pay(buyer, seller, "1.00")) == base + 2
