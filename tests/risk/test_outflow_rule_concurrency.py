"""Velocity limits under concurrent movements of one member (PostgreSQL, real transactions, real
threads): the rule locks the member's row before it counts, so the movements are counted one after
the other and a limit of N lets exactly N through, however many race; the refused ones book
nothing and each leaves its refusal as a rule hit."""
import time

import pytest

from ledger.models import Payment, Withdrawal
from ledger.outflows import RuleRefused
from ledger.selectors import prove_merchant
from risk.models import RuleHit
from risk.services import rules as rule_services
from tests.ledger.test_payment_concurrency import run_together

from .rules_helpers import D, card, pay, rule, shop, withdraw

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 8
LIMIT = 3


@pytest.fixture
def slow_count(monkeypatch):
    """Each count waits a moment after its read: without the member's lock, every racer would see
    the same count before any of them booked."""
    velocity = rule_services._Facts.velocity

    def read_then_wait(self, window):
        result = velocity(self, window)
        time.sleep(0.1)
        return result

    monkeypatch.setattr(rule_services._Facts, "velocity", read_then_wait)


def test_a_velocity_count_lets_exactly_n_concurrent_payments_of_one_member_through(slow_count):
    # given at most 3 payments per member per hour, refused above
    merchant, buyer, seller = shop()
    rule(merchant, kind="velocity_count", count=LIMIT, window="hour", amount=None, outcome="refuse")
    # when 8 payments of the member race
    results = run_together(RACERS, lambda i: pay(buyer, seller, "10.00", order_no=f"RACE-{i}"))
    # then exactly 3 booked, the others were refused by the rule, each refusal recorded
    booked = [r for r, error in results if error is None]
    refused = [error for _r, error in results if error is not None]
    assert len(booked) == LIMIT and all(isinstance(e, RuleRefused) for e in refused), refused
    assert Payment.objects.filter(payer=buyer).count() == LIMIT
    assert RuleHit.objects.filter(outcome="refuse", applied=True).count() == RACERS - LIMIT
    proof = prove_merchant(merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts


def test_a_velocity_sum_holds_for_concurrent_withdrawals(slow_count):
    # given at most 300.00 withdrawn per member per day; above, review
    merchant, member, _seller = shop()
    rule(merchant, movement="withdrawal", kind="velocity_sum", amount=D("300.00"), window="day")
    bank_card = card(member)
    # when 8 withdrawals of 100.00 race
    results = run_together(RACERS, lambda i: withdraw(member, "100.00", bank_card=bank_card, order_no=f"W-{i}"))
    # then 3 went on, the other 5 wait in review with their money frozen
    assert [error for _r, error in results] == [None] * RACERS
    statuses = sorted(Withdrawal.objects.filter(member=member).values_list("status", flat=True))
    assert statuses == ["approved"] * LIMIT + ["in_review"] * (RACERS - LIMIT)
    proof = prove_merchant(merchant)
    assert proof.supervision_balance == proof.virtual_total and not proof.mismatched_accounts
