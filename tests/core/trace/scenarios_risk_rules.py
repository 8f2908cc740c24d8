"""risk.services.rules and risk.services.reviews (outflow rules and the risk queue): saving a rule
is audited; a decision in the queue is audited on the review and books its outcome (ledger.services
.reviews, its steps); a refused decision writes nothing. The checks the ledger calls (outflow_check)
leave their trace as rule hits with the movement (tests/risk/test_outflow_rules.py)."""
from core.errors import PermissionRefused
from risk.models import OutflowRule, RiskReview
from risk.services import reviews, rules
from tests import factories as f
from tests.core.trace import AUDIT, ENTRY, NOT_SERVICES, STEPS, refusal, scenario

NOT_SERVICES.update({
    "risk.services.rules.active_rules": "a reader: the active rules, cached per process",
    "risk.services.rules.rules_cache_clear": "forgets the cached rules (no row changes)",
    "risk.services.rules.rules_cache_prime": "sets the cached rules (tests; no row changes)",
    "risk.services.rules.outflow_rule_check": "a check: refuses a rule that can't be evaluated (service and form)",
    "risk.services.rules.outflow_scope": "a reader: whether any rule applies to a merchant (ledger hook)",
    "risk.services.rules.outflow_check": "a check the ledger calls in its booking; its hits are written with the movement",
    "risk.services.rules.rule_hits_in_window": "a reader: a merchant's enforced rule hits (risk level factor)",
    "risk.services.reviews.review_open": "a step of a booking held for review: the ledger's queue hook",
    "ledger.services.payments.book_payment": "a step of payment_create (and of passing a review)",
    "ledger.services.payments.payment_review_hold": "a step of payment_create: the hold of a payment in review",
    "ledger.services.reviews.payment_review_pass": "a step of review_approve",
    "ledger.services.reviews.withdrawal_review_pass": "a step of review_approve",
    "ledger.services.reviews.release_review_pass": "a step of review_approve",
    "ledger.services.reviews.payment_review_refuse": "a step of review_refuse",
    "ledger.services.reviews.withdrawal_review_refuse": "a step of review_refuse",
})
STEPS.update({
    "risk.services.reviews.review_open": "ledger.services.payments.payment_create",
    "ledger.services.payments.book_payment": "ledger.services.payments.payment_create",
    "ledger.services.payments.payment_review_hold": "ledger.services.payments.payment_create",
    "ledger.services.reviews.payment_review_pass": "risk.services.reviews.review_approve",
    "ledger.services.reviews.withdrawal_review_pass": "risk.services.reviews.review_approve",
    "ledger.services.reviews.release_review_pass": "risk.services.reviews.review_approve",
    "ledger.services.reviews.payment_review_refuse": "risk.services.reviews.review_refuse",
    "ledger.services.reviews.withdrawal_review_refuse": "risk.services.reviews.review_refuse",
})


def _payment_in_review():
    from tests.risk.rules_helpers import pay, rule, shop

    merchant, buyer, seller = shop()
    rule(merchant, name=f"review {merchant.pk}")
    pay(buyer, seller, "1500.00")
    return RiskReview.objects.get(merchant=merchant)


@scenario(rules.outflow_rule_save, leaves=AUDIT)
def risk_sets_an_amount_limit_for_every_merchant():
    return dict(rule=OutflowRule(name="limit", kind="amount_limit", amount="1000.00", outcome="review"),
                actor=f.risk())


@refusal(rules.outflow_rule_save, error=PermissionRefused)
def operations_set_a_rule():
    return dict(rule=OutflowRule(name="limit", kind="amount_limit", amount="1000.00"), actor=f.ops())


@scenario(reviews.review_approve, leaves=(AUDIT, ENTRY))
def a_second_risk_officer_approves_a_payment_in_review():
    return dict(review=_payment_in_review(), actor=f.risk(), reason="known customer")


@scenario(reviews.review_refuse, leaves=(AUDIT, ENTRY))
def a_second_risk_officer_refuses_a_payment_in_review():
    return dict(review=_payment_in_review(), actor=f.risk(), reason="fake order")


@refusal(reviews.review_approve, error=PermissionRefused)
def the_rule_s_author_approves_its_review():
    review = _payment_in_review()
    return dict(review=review, actor=review.rule.created_by)
