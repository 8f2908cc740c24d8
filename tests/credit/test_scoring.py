"""Scoring on known histories built through the ledger's own services, on a fixed as_of."""
from datetime import date
from decimal import Decimal

import pytest

from credit import services
from credit.scoring import score_member
from ledger.services.payments import payment_create, payment_refund, payment_release
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
_orders = iter(range(1, 10_000))


def _pay(clock, day, payer, payee, amount, mode="direct"):
    clock.day = day
    payment, _created = payment_create(merchant=payer.merchant, actor=None, payer=payer, amount=amount,
                                       order_no=f"SO-{next(_orders)}", mode=mode, splits=[(payee, amount)])
    return payment


def _factors(result):
    return {factor.key: (factor.value, factor.points) for factor in result.factors}


def test_no_history_scores_only_the_clean_record(world):
    result = score_member(world.buyer, as_of=AS_OF)
    assert result.score == 15 and result.suggested_limit == 0
    assert _factors(result) == {
        "volume_90": ("0.00", Decimal("0.00")), "volume_180": ("0.00", Decimal("0.00")),
        "counterparties": ("0", Decimal("0.00")), "months_active": ("0", Decimal("0.00")),
        "repaid_on_time": ("0", Decimal("0.00")), "overdue": ("0", Decimal("15.00")),
    }


def test_a_mixed_history_with_refunds_guaranteed_payments_and_bills(world, clock):
    # given a member who buys and sells, and pays on credit
    m = f.member(world.merchant, roles=("buyer", "seller"), name="Mixed Trader")
    s1, s2, s3 = world.core, world.seller, f.member(world.merchant, roles=("seller",))
    b1 = f.member(world.merchant, roles=("buyer",))
    clock.day = date(2025, 6, 1)
    f.funded(m, "100000.00")
    f.funded(b1, "30000.00")
    _pay(clock, date(2025, 6, 30), m, s1, "1000.00")  # outside the 12 months
    _pay(clock, date(2025, 8, 10), m, s1, "1000.00")  # 12 months only
    _pay(clock, date(2026, 1, 15), m, s1, "10000.00")  # 180 days only
    held = _pay(clock, date(2026, 3, 10), m, s2, "20000.00", mode="guaranteed")
    clock.day = date(2026, 3, 12)
    payment_release(payment=held, actor=None)
    sale = _pay(clock, date(2026, 5, 20), b1, m, "30000.00")  # m sells
    clock.day = date(2026, 6, 1)
    payment_refund(payment=sale, actor=None, amount="5000.00", reason="Damaged", idempotency_ref="RF-1")
    _pay(clock, date(2026, 6, 30), m, s3, "5000.00")  # as_of itself counts
    _pay(clock, date(2026, 7, 1), m, s1, "9999.00")  # after as_of: never counts
    # and three bills on a line from s1, who sells on account
    clock.day = date(2026, 1, 2)
    open_line(world.merchant, m, creditor=s1, limit="50000.00", term_days=30, grace_days=3)
    bills = {}
    for order_no, day, amount in (("A", date(2026, 2, 2), "2000.00"), ("B", date(2026, 4, 1), "3000.00"),
                                  ("C", date(2026, 6, 20), "1000.00")):
        clock.day = day
        bills[order_no] = services.credit_drawdown(merchant=world.merchant, actor=None, member=m, payee=s1,
                                                   amount=amount, order_no=order_no)
    clock.day = date(2026, 3, 1)  # A: due 03-04, repaid early → on time
    services.credit_repay(bill=bills["A"], actor=None, amount="2000.00", idempotency_ref="RA")
    clock.day = date(2026, 5, 10)  # B: grace ended 05-04, repaid late → overdue
    services.credit_repay(bill=bills["B"], actor=None, amount="3000.00", idempotency_ref="RB")

    # when m is scored on 2026-06-30
    result = score_member(m, as_of=AS_OF)
    # then: V90 = 30,000 − 5,000 + 5,000 + 1,000 (bill C); V180 adds 10,000 + 20,000 + 2,000 + 3,000;
    # counterparties s1, s2 (named on the held payment), b1, s3; months 2025-08 and 2026-01…06
    assert _factors(result) == {
        "volume_90": ("31000.00", Decimal("1.24")),
        "volume_180": ("66000.00", Decimal("1.32")),
        "counterparties": ("4", Decimal("6.00")),
        "months_active": ("7", Decimal("8.75")),
        "repaid_on_time": ("1", Decimal("3.00")),
        "overdue": ("1", Decimal("10.00")),
    }
    assert result.score == 30 and result.suggested_limit == 0  # below 40: not recommended


def test_a_steady_trader_scores_and_gets_a_suggested_limit(world, clock):
    # given a buyer paying 100,000.00 on the 15th of each of the last 12 months, to 10 sellers in turn
    trader = f.member(world.merchant, roles=("buyer",))
    sellers = [f.member(world.merchant, roles=("seller",)) for _ in range(10)]
    clock.day = date(2025, 7, 1)
    f.funded(trader, "1200000.00")
    for k in range(12):
        year, month = (2025, 7 + k) if k < 6 else (2026, k - 5)
        _pay(clock, date(year, month, 15), trader, sellers[k % 10], "100000.00")
    # when scored on 2026-06-30 for a 30-day term
    result = score_member(trader, as_of=AS_OF, term_days=30)
    # then: V90 = 300,000 (12.00), V180 = 600,000 (12.00), 6 sellers in 180 days (9.00),
    # 12 months (15.00), no bills (0.00), clean record (15.00) → 63
    assert _factors(result) == {
        "volume_90": ("300000.00", Decimal("12.00")),
        "volume_180": ("600000.00", Decimal("12.00")),
        "counterparties": ("6", Decimal("9.00")),
        "months_active": ("12", Decimal("15.00")),
        "repaid_on_time": ("0", Decimal("0.00")),
        "overdue": ("0", Decimal("15.00")),
    }
    assert result.score == 63
    # suggested: 600,000 / 180 × 30 × 0.63 = 63,000.00 (rounded down to a multiple of 100)
    assert result.suggested_limit == Decimal("63000.00")
    assert score_member(trader, as_of=AS_OF, term_days=45).suggested_limit == Decimal("94500.00")


def test_the_score_is_deterministic_and_ignores_what_came_after_as_of(world, clock, django_assert_max_num_queries):
    m = world.buyer
    clock.day = date(2026, 1, 1)
    f.funded(m, "50000.00")
    _pay(clock, date(2026, 5, 5), m, world.core, "20000.00")
    first = score_member(m, as_of=AS_OF)
    _pay(clock, date(2026, 7, 2), m, world.seller, "20000.00")
    with django_assert_max_num_queries(3):
        again = score_member(m, as_of=AS_OF)
    assert again == first
    assert score_member(m, as_of=date(2026, 7, 2)) != first


def test_many_overdue_bills_floor_the_record_and_the_score_stays_within_0_100(world, clock):
    m = world.buyer
    clock.day = date(2026, 1, 5)
    open_line(world.merchant, m, creditor=world.core, limit="50000.00", term_days=1, grace_days=0)
    for n in range(6):
        services.credit_drawdown(merchant=world.merchant, actor=None, member=m, payee=world.core, amount="10.00",
                                 order_no=f"OD-{n}")
    result = score_member(m, as_of=AS_OF)
    assert _factors(result)["overdue"] == ("6", Decimal("-15.00"))
    assert result.score == 0  # 0.00 + 0.00 + 1.50 + 1.25 + 0.00 − 15.00 = −12.25, held at 0
