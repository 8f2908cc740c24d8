"""The selectors behind each role's dashboard, on known data (tests/backoffice/world.py),
with the figures worked out by hand, and their query counts bounded."""
import datetime
from decimal import Decimal

import pytest

from backoffice.selectors import dashboards
from core.workflow import transition
from ledger.models import Withdrawal
from merchants.models import WebhookDelivery
from merchants.services.lifecycle import merchant_freeze, merchant_submit
from merchants.services.members import member_freeze
from reconciliation.models import EodRun, StatementBatch, StatementLine
from tests import factories as f
from tests.reconciliation.builders import withdrawal as make_withdrawal

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 11, 30)


def test_the_rm_dashboard_shows_my_merchants_balances_inflow_and_daily_total(world, django_assert_max_num_queries):
    # given Alice's merchant M1 (see world.py) and Bob's M2
    # when Alice's dashboard is read on 2026-11-30
    with django_assert_max_num_queries(6):
        d = dashboards.rm_dashboard(world.alice, as_of=DAY)
    # then only M1 is there: 100 + 1000 + 500 − 200 = 1,400.00 now; inflow since 11-01: 1000 + 500 in 2 deposits
    assert [m.pk for m in d.merchants] == [world.m1.pk]
    m1 = d.merchants[0]
    assert (m1.balance, m1.inflow_30, m1.inflow_30_count) == (D("1400.00"), D("1500.00"), 2)
    assert d.total_balance == D("1400.00") and d.total_inflow == D("1500.00")
    # and the chart runs 30 days: 100.00 on 11-01, 1,100.00 from 11-02, 1,600.00 from 11-10, 1,400.00 from 11-20
    labels, data = d.balance_chart["labels"], d.balance_chart["datasets"][0]["data"]
    assert len(labels) == 30 and labels[0] == "2026-11-01" and labels[-1] == "2026-11-30"
    assert data[0] == "100.00" and data[1] == "1100.00" and data[9] == "1600.00" and data[19] == "1400.00"
    # and the overdue bill: 400.00 drawn, 150.00 repaid → 250.00 (once the sweep marks it overdue)
    assert d.overdue_bills == []


def test_the_rm_dashboard_lists_what_waits_on_me_and_my_overdue_bills(world, clock):
    # given a draft merchant of Alice's, a draft credit application, and the bill marked overdue
    draft = f.draft_merchant(manager=world.alice)
    from credit import services as credit_services

    second_buyer = f.member(world.m1, roles=("buyer",))
    credit_services.credit_application_create(merchant=world.m1, actor=world.alice, member=second_buyer,
                                              proposed_limit="5000.00", term_days=30, grace_days=3,
                                              penalty_rate="0.0005", creditor_member=world.seller,
                                              creditor_is_platform=False)
    world.bill.refresh_from_db()
    transition(world.bill, "mark_overdue", actor=None)
    f.draft_merchant(manager=world.bob)  # Bob's: not Alice's business
    # when Alice reads her dashboard
    d = dashboards.rm_dashboard(world.alice, as_of=DAY)
    # then she sees her draft, her draft application and the overdue bill with 250.00 outstanding
    assert [m.pk for m in d.merchant_drafts] == [draft.pk]
    assert [a.member_id for a in d.credit_drafts] == [second_buyer.pk]
    assert [(b.order_no, b.owed) for b in d.overdue_bills] == [("CR-7001", D("250.00"))]
    assert d.overdue_total == D("250.00")


def test_the_risk_dashboard_shows_approvals_frozen_aging_and_last_eod_differences(world, django_assert_max_num_queries):
    # given a submitted merchant, a large withdrawal waiting, a frozen merchant and member,
    # an overdue bill (due 11-08, 250.00 outstanding) and end-of-day runs
    submitted = f.draft_merchant(manager=world.alice)
    merchant_submit(merchant=submitted, actor=world.alice)
    officer = f.risk()
    merchant_freeze(merchant=world.m2, actor=officer, reason="court order 2026-88")
    member_freeze(member=world.buyer, actor=officer, reason="fraud report")
    waiting = make_withdrawal(world.m1, world.seller, "80000.00", "WD-BIG", status="pending_approval")
    EodRun.objects.create(merchant=world.m1, business_date=datetime.date(2026, 11, 26), status="balanced")
    EodRun.objects.create(merchant=world.m1, business_date=datetime.date(2026, 11, 27), status="discrepancies",
                          differences=3)
    EodRun.objects.create(merchant=world.m2, business_date=datetime.date(2026, 11, 26), status="discrepancies")
    EodRun.objects.create(merchant=world.m2, business_date=datetime.date(2026, 11, 27), status="balanced")
    # when a risk officer reads the dashboard
    with django_assert_max_num_queries(12):  # eleven, and one spare
        d = dashboards.risk_dashboard(officer, as_of=DAY)
    # then each list holds exactly what waits
    assert [m.pk for m in d.merchants_submitted] == [submitted.pk] and d.counts["merchants"] == 1
    assert [w.pk for w in d.withdrawals] == [waiting.pk] and d.counts["withdrawals"] == 1
    assert [(m.pk, m.freeze_reason, m.age_days) for m in d.frozen_merchants] == [(world.m2.pk, "court order 2026-88",
                                                                                  d.frozen_merchants[0].age_days)]
    assert [m.pk for m in d.frozen_members] == [world.buyer.pk]
    # and the aging: 2026-11-30 − 2026-11-08 = 22 days past due → the 1–30 bucket, 250.00
    buckets = {b["key"]: (b["count"], b["outstanding"]) for b in d.aging}
    assert buckets["1_30"] == (1, D("250.00")) and buckets["current"] == (0, D("0"))
    assert d.aging_chart["datasets"][0]["data"][1] == "250.00"
    # and only M1's LAST run found differences (M2's differences were on an earlier day)
    assert [(r.merchant_id, r.differences) for r in d.eod_differences] == [(world.m1.pk, 3)]


def test_the_operations_dashboard_shows_eod_queue_withdrawals_and_failed_webhooks(world, django_assert_max_num_queries):
    # given on Monday 2026-11-30: M1's run for Friday 11-27 found differences, M2 has none yet
    EodRun.objects.create(merchant=world.m1, business_date=datetime.date(2026, 11, 27), status="discrepancies",
                          differences=2)
    batch = StatementBatch.objects.create(merchant=world.m1, account_number=world.m1.supervision_account_number)
    for n, (amount, status, day) in enumerate([("88.00", "unmatched", 20), ("-12.50", "unmatched", 25),
                                               ("40.00", "posted", 21)]):
        StatementLine.objects.create(merchant=world.m1, batch=batch, account_number=batch.account_number, line_no=n,
                                     bank_reference=f"REF-{n}", value_date=datetime.date(2026, 11, day),
                                     business_date=datetime.date(2026, 11, day), amount=D(amount), status=status)
    make_withdrawal(world.m1, world.seller, "60000.00", "WD-Q1", status="pending_approval")
    make_withdrawal(world.m1, world.seller, "70.00", "WD-Q2", status="processing")
    WebhookDelivery.objects.create(merchant=world.m1, event_id="ev-1", event_type="deposit.succeeded", payload={},
                                   status="failed", attempts=6, last_status_code=500)
    WebhookDelivery.objects.create(merchant=world.m1, event_id="ev-2", event_type="deposit.succeeded", payload={},
                                   status="succeeded")
    ops = f.ops()
    # when operations read the dashboard
    with django_assert_max_num_queries(11):  # nine, and the permission check (user and group permissions)
        d = dashboards.ops_dashboard(ops, as_of=DAY)
    # then the end of day is the Friday's, per merchant
    assert d.eod_date == datetime.date(2026, 11, 27)
    assert {m.pk: m.run_status for m in d.eod_rows} == {world.m1.pk: "discrepancies", world.m2.pk: None}
    assert d.eod_counts == {"balanced": 0, "discrepancies": 1, "running": 0, "not_run": 1}
    # and two lines wait: 88.00 in, 12.50 out, the oldest from 11-20 (10 days)
    assert (d.unmatched["count"], d.unmatched["amount_in"], d.unmatched["amount_out"]) == (2, D("88.00"), D("-12.50"))
    assert [(l.bank_reference, l.age_days) for l in d.unmatched_lines] == [("REF-0", 10), ("REF-1", 5)]
    # and the queue: one waiting approval, one at the bank (the paid withdrawal of world.py is not queued)
    assert d.withdrawal_counts[Withdrawal.Status.PENDING_APPROVAL] == {"count": 1, "amount": D("60000.00")}
    assert d.withdrawal_counts[Withdrawal.Status.PROCESSING]["count"] == 1
    assert [w.order_no for w in d.withdrawal_queue] == ["WD-Q1", "WD-Q2"]
    assert [w.event_id for w in d.failed_webhooks] == ["ev-1"] and d.failed_webhook_count == 1


def test_the_last_working_day_follows_the_calendar(db):
    from ledger.models import BusinessDay

    # given Monday 2026-11-30 after an ordinary weekend, and a make-up working Saturday on 11-21
    assert dashboards.last_working_day_before(DAY) == datetime.date(2026, 11, 27)
    BusinessDay.objects.create(date=datetime.date(2026, 11, 27), is_working_day=False)
    BusinessDay.objects.create(date=datetime.date(2026, 11, 21), is_working_day=True)
    # then a holiday Friday falls back to Thursday, and a Monday after a make-up Saturday...
    assert dashboards.last_working_day_before(DAY) == datetime.date(2026, 11, 26)
    assert dashboards.last_working_day_before(datetime.date(2026, 11, 23)) == datetime.date(2026, 11, 21)


def test_the_auditor_dashboard_filters_by_actor_object_and_action(world, django_assert_max_num_queries):
    # given the audit trail of world.py plus a freeze by a named risk officer
    officer = f.risk(username="risk_qian")
    merchant_freeze(merchant=world.m2, actor=officer, reason="court order")
    auditor = f.auditor()
    # when the auditor filters by actor, by object and by action
    with django_assert_max_num_queries(2):
        by_actor = dashboards.audit_dashboard(auditor, actor="risk_qian")
    by_object = dashboards.audit_dashboard(auditor, obj=world.m2.code)
    by_action = dashboards.audit_dashboard(auditor, action="freeze")
    # then each finds the freeze, and the action list offers it
    assert [e.action for e in by_actor.events] == ["freeze"]
    assert by_object.events and all(world.m2.code in e.object_repr for e in by_object.events)
    assert [e.object_id for e in by_action.events] == [str(world.m2.pk)]
    assert "freeze" in by_actor.actions and by_actor.filters["actor"] == "risk_qian"


def test_each_role_gets_its_own_sections_and_a_superuser_all(world):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 16)
    assert set(dashboards.dashboards_for(world.alice)) == {"rm"}
    assert set(dashboards.dashboards_for(f.risk())) == {"risk", "alerts"}  # balance alerts: risk and ops share them
    assert set(dashboards.dashboards_for(f.ops())) == {"ops", "alerts", "overdue_payouts"}  # payouts not paid in time
    assert set(dashboards.dashboards_for(f.auditor())) == {"audit"}
    assert set(dashboards.dashboards_for(admin)) == {"rm", "risk", "ops", "alerts", "overdue_payouts", "audit"}
