"""The daily overdue sweep on a fixed clock: overdue after due date + grace, daily penalty
(ROUND_HALF_UP to 0.01), the line suspended, the RM notified, the webhook event, safe reruns."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.errors import InvalidState
from core.models import AuditEvent
from credit import services, tasks
from credit.models import CreditBill, CreditNotification, PenaltyAccrual
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(world):
    """The events in the platform's webhook outbox."""
    return f.listening(world.merchant)


@pytest.fixture
def bill(world, clock):
    # Drawn on Monday 2026-03-02, 30-day term, 3 grace days: due 2026-04-01, grace until 2026-04-04.
    open_line(world.merchant, world.buyer, creditor=world.core, limit="20000.00", term_days=30, grace_days=3,
              penalty_rate="0.0005")
    return services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="1010.00", order_no="PO-1")


def _sweep(day, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.credit_sweep_overdue(as_of=day)


def test_nothing_happens_until_due_date_plus_grace_has_passed(world, bill, sent, django_capture_on_commit_callbacks):
    for day in (date(2026, 4, 1), date(2026, 4, 4)):
        result = _sweep(day, django_capture_on_commit_callbacks)
        assert result.newly_overdue == 0
    bill.refresh_from_db()
    assert bill.status == CreditBill.Status.OPEN and bill.penalty_accrued == 0 and not sent()


def test_the_day_after_grace_the_bill_is_overdue_the_line_suspended_and_the_rm_told(
        world, bill, sent, django_capture_on_commit_callbacks):
    # when the sweep runs for 2026-04-05
    result = _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    # then the bill is overdue since that day, with one day of penalty:
    # 1,010.00 × 0.0005 = 0.505 → 0.51 (ROUND_HALF_UP)
    bill.refresh_from_db()
    assert bill.status == CreditBill.Status.OVERDUE and bill.overdue_since == date(2026, 4, 5)
    assert bill.penalty_accrued == Decimal("0.51") and bill.last_accrual_date == date(2026, 4, 5)
    accrual = PenaltyAccrual.objects.get()
    assert (accrual.accrual_date, accrual.principal_base, accrual.amount) == (date(2026, 4, 5), Decimal("1010.00"),
                                                                              Decimal("0.51"))
    # and the line is suspended by the system, with the bill as the reason
    line = bill.line
    line.refresh_from_db()
    assert line.status == "suspended" and "PO-1" in line.status_reason
    event = AuditEvent.objects.get(content_type__model="creditline", object_id=str(line.pk), action="suspend")
    assert event.actor_label == "credit-overdue-sweep" and event.actor_id is None
    # and the merchant's RM has a notification, and the platform a webhook
    notification = CreditNotification.objects.get()
    assert notification.recipient == world.merchant.relationship_manager and notification.bill == bill
    assert notification.read_at is None and "PO-1" in notification.message
    assert sent() == [("credit.bill.overdue", {
        "id": bill.pk, "user_id": world.buyer.user_id, "order_no": "PO-1", "amount": "1010.00",
        "outstanding": "1010.51", "due_date": "2026-04-01", "overdue_since": "2026-04-05"})]
    assert result.as_dict() == {"as_of": "2026-04-05", "bills_seen": 1, "newly_overdue": 1, "accrual_days": 1,
                                "lines_suspended": 1}


def test_a_rerun_for_the_same_date_changes_nothing(world, bill, sent, django_capture_on_commit_callbacks):
    _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    audit_count = AuditEvent.objects.count()
    # when the same date is swept again (a redelivered task)
    result = _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    # then no penalty, notification, event or audit record is added
    bill.refresh_from_db()
    assert bill.penalty_accrued == Decimal("0.51") and PenaltyAccrual.objects.count() == 1
    assert CreditNotification.objects.count() == 1 and len(sent()) == 1
    assert AuditEvent.objects.count() == audit_count
    assert (result.newly_overdue, result.accrual_days, result.lines_suspended) == (0, 0, 0)


def test_penalty_accrues_daily_on_the_outstanding_principal_and_catches_up_missed_days(
        world, clock, bill, django_capture_on_commit_callbacks):
    _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    # given the buyer repays 0.51 penalty + 10.00 principal on 2026-04-06
    f.funded(world.buyer, "10.51")
    clock.day = date(2026, 4, 6)
    services.credit_repay(bill=bill, actor=None, amount="10.51", idempotency_ref="R-1")
    # when the sweep runs for 04-06 and then, having missed two days, for 04-09
    _sweep(date(2026, 4, 6), django_capture_on_commit_callbacks)
    _sweep(date(2026, 4, 9), django_capture_on_commit_callbacks)
    # then each day accrued once on 1,000.00 outstanding: 0.50 a day
    days = list(PenaltyAccrual.objects.order_by("accrual_date").values_list("accrual_date", "amount"))
    assert days == [(date(2026, 4, 5), Decimal("0.51"))] + [
        (date(2026, 4, d), Decimal("0.50")) for d in (6, 7, 8, 9)]
    bill.refresh_from_db()
    assert bill.penalty_accrued == Decimal("2.51") and bill.penalty_outstanding == Decimal("2.00")
    # and an earlier date swept late adds nothing
    _sweep(date(2026, 4, 7), django_capture_on_commit_callbacks)
    assert PenaltyAccrual.objects.count() == 5


@pytest.mark.parametrize("principal, daily", [
    ("1234.57", "0.62"),  # 0.617285 → 0.62
    ("1001.00", "0.50"),  # 0.5005 → 0.50
    ("1010.00", "0.51"),  # 0.505 → 0.51: half up, not half even
    ("9.99", "0.00"),  # 0.004995 → 0.00: no row at all
])
def test_daily_penalty_rounds_half_up_to_the_cent(world, clock, principal, daily,
                                                 django_capture_on_commit_callbacks):
    open_line(world.merchant, world.buyer, creditor=world.core, term_days=1, grace_days=0)
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount=principal, order_no="PO-R")
    _sweep(bill.grace_until + timedelta(days=1), django_capture_on_commit_callbacks)
    bill.refresh_from_db()
    assert bill.status == CreditBill.Status.OVERDUE and bill.penalty_accrued == Decimal(daily)
    assert PenaltyAccrual.objects.count() == (1 if Decimal(daily) else 0)


def test_repaid_bills_are_left_alone(world, bill, django_capture_on_commit_callbacks):
    f.funded(world.buyer, "1010.00")
    services.credit_repay(bill=bill, actor=None, amount="1010.00", idempotency_ref="R-1")
    result = _sweep(date(2026, 6, 1), django_capture_on_commit_callbacks)
    bill.refresh_from_db()
    assert result.bills_seen == 0 and bill.status == CreditBill.Status.REPAID
    assert not CreditNotification.objects.exists()


def test_a_suspended_line_is_reactivated_only_once_nothing_is_overdue(world, bill, django_capture_on_commit_callbacks):
    _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    line = bill.line
    officer = f.risk()
    with pytest.raises(InvalidState):
        services.credit_line_reactivate(line=line, actor=officer, reason="Promised to pay")
    with pytest.raises(InvalidState):
        services.credit_line_close(line=line, actor=officer, reason="Write off")
    bill.refresh_from_db()
    f.funded(world.buyer, bill.outstanding)
    services.credit_repay(bill=bill, actor=None, amount=bill.outstanding, idempotency_ref="R-1")
    services.credit_line_reactivate(line=line, actor=officer, reason="Repaid in full")
    line.refresh_from_db()
    assert line.status == "active"


def test_the_beat_task_sweeps_the_given_date(world, bill):
    result = tasks.sweep_overdue_bills.delay("2026-04-05").get()
    assert result["newly_overdue"] == 1
    assert tasks.sweep_overdue_bills.name == "credit.tasks.sweep_overdue_bills"
    from config.celery import app

    assert app.conf.beat_schedule["credit-overdue-sweep"]["task"] == tasks.sweep_overdue_bills.name


def test_the_rm_marks_a_notification_read_and_nobody_else_can(world, bill, django_capture_on_commit_callbacks):
    _sweep(date(2026, 4, 5), django_capture_on_commit_callbacks)
    notification = CreditNotification.objects.get()
    from core.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        services.credit_notification_mark_read(notification=notification, actor=f.rm())
    services.credit_notification_mark_read(notification=notification, actor=world.merchant.relationship_manager)
    notification.refresh_from_db()
    assert notification.read_at is not None
