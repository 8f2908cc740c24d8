"""Reads the API and the admin share: the member's line and summary, bills, aging; and the
database's own guard on a line's limit."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.errors import ValidationFailed
from credit import selectors, services
from credit.models import CreditLine
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


def test_line_and_summary_of_a_member(world, clock):
    assert selectors.credit_line_for(world.buyer) is None and selectors.credit_summary(world.buyer) is None
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="5000.00")
    services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                             amount="1200.00", order_no="PO-1")
    assert selectors.credit_line_for(world.buyer) == line
    assert selectors.credit_summary(world.buyer) == {"limit": Decimal("5000.00"), "used": Decimal("1200.00"),
                                                     "available": Decimal("3800.00")}
    services.credit_line_suspend(line=line, actor=f.risk(), reason="Review")
    assert selectors.credit_summary(world.buyer)["available"] == 0  # nothing can be drawn


def test_bills_for_a_merchant_by_member_and_status(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    other = f.member(world.merchant, roles=("buyer",))
    open_line(world.merchant, other, creditor=world.core)
    a = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                 amount="100.00", order_no="A")
    b = services.credit_drawdown(merchant=world.merchant, actor=None, member=other, payee=world.core,
                                 amount="100.00", order_no="B")
    f.funded(world.buyer, "100.00")
    services.credit_repay(bill=a, actor=None, amount="100.00", idempotency_ref="R")
    assert list(selectors.bills_for(world.merchant)) == [b, a]
    assert list(selectors.bills_for(world.merchant, user_id=world.buyer.user_id)) == [a]
    assert list(selectors.bills_for(world.merchant, status="open")) == [b]
    assert list(selectors.bills_for(f.active_merchant())) == []
    with pytest.raises(ValidationFailed):
        selectors.bills_for(world.merchant, status="lost")
    assert selectors.bill_for(world.merchant, b.pk) == b and selectors.bill_for(f.active_merchant(), b.pk) is None


def test_aging_summary_counts_outstanding_principal_and_penalty(world, clock, django_assert_num_queries):
    open_line(world.merchant, world.buyer, creditor=world.core, limit="10000.00", term_days=10, grace_days=0)
    as_of = date(2026, 6, 30)
    for order_no, past_due, amount in (("A", -1, "100.00"), ("B", 1, "200.00"), ("C", 30, "300.00"),
                                       ("D", 31, "400.00"), ("E", 91, "500.00")):
        clock.day = as_of - timedelta(days=past_due + 10)
        services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                 amount=amount, order_no=order_no)
    services.credit_sweep_overdue(as_of=as_of)
    qs = selectors.bills_for(world.merchant)
    with django_assert_num_queries(1):
        summary = {row["key"]: (row["count"], row["outstanding"]) for row in selectors.aging_summary(qs, as_of)}
    # B: 1 day of 0.10; C: 30 days of 0.15; D: 31 days of 0.20; E: 91 days of 0.25
    assert summary == {
        "current": (1, Decimal("100.00")),
        "1_30": (2, Decimal("200.10") + Decimal("304.50")),
        "31_60": (1, Decimal("406.20")),
        "61_90": (0, Decimal("0")),
        "90_plus": (1, Decimal("522.75")),
    }


def test_the_database_keeps_used_within_the_limit(world):
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLine.objects.filter(pk=line.pk).update(used=Decimal("100.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLine.objects.filter(pk=line.pk).update(used=Decimal("-0.01"))


def test_a_merchant_with_outstanding_bills_cannot_close(world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core)
    services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                             amount="100.00", order_no="A")
    assert selectors.close_blockers(world.merchant)
