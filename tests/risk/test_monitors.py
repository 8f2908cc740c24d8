"""Balance monitors: every field and operator, one alert per crossing (raised, cleared, raised
again), one webhook per alert, the scopes (one member, every account, every merchant), switching a
monitor off, and the monitors the service refuses."""
import pytest

from core.errors import ValidationFailed
from core.models import AuditEvent
from ledger.models import HotBalanceDelta
from risk.models import BalanceMonitor, MonitorAlert
from risk.services.monitors import balance_monitor_save, monitor_evaluate, monitors_evaluate_all
from tests import factories as f

from .helpers import D, fund_reserve, hold, monitor, park_in_suspense, pay, require_reserve

pytestmark = pytest.mark.django_db

# Around a value of 50.00: (operator, threshold, crossed?)
CASES = [("lt", "50.01", True), ("lt", "50.00", False), ("lte", "50.00", True), ("lte", "49.99", False),
         ("gt", "49.99", True), ("gt", "50.00", False), ("gte", "50.00", True), ("gte", "50.01", False)]


def _fifty_in(field):
    """A merchant whose watched balance for `field` is exactly 50.00; returns (merchant, member or None)."""
    merchant = f.active_merchant()
    member = f.member(merchant)
    if field == "available":
        f.funded(member, "50.00")
    elif field == "frozen":
        f.funded(member, "80.00")
        hold(member, "50.00")
    elif field == "escrow_held":
        f.funded(member, "80.00")
        pay(member, f.member(merchant), "50.00", mode="guaranteed")
        assert HotBalanceDelta.objects.filter(merchant=merchant).exists()  # not rolled up: read with the deltas
    elif field == "suspense":
        park_in_suspense(merchant, "50.00")
    elif field == "reserve_shortfall":
        require_reserve(merchant, "150.00")
        fund_reserve(merchant, "100.00")
    return merchant, member if field in ("available", "frozen") else None


@pytest.mark.parametrize("field", ["available", "frozen", "escrow_held", "suspense", "reserve_shortfall"])
def test_each_field_and_operator_is_read_as_the_books_say(field):
    # given a balance of exactly 50.00 in the field, and one monitor per operator around it
    merchant, member = _fifty_in(field)
    monitors = {(op, threshold): monitor(merchant, field=field, operator=op, threshold=threshold)
                for op, threshold, _crossed in CASES}
    # when they are evaluated
    for m in monitors.values():
        monitor_evaluate(monitor=m)
    # then exactly the true conditions raised an alert, valued 50.00, on the field's account
    for op, threshold, crossed in CASES:
        alerts = list(MonitorAlert.objects.filter(monitor=monitors[op, threshold]))
        assert len(alerts) == (1 if crossed else 0), (field, op, threshold)
        for alert in alerts:
            assert alert.value == D("50.00") and alert.account.kind == monitors[op, threshold].account_kind
            assert alert.member_id == (member.pk if member else None)


def test_an_alert_is_raised_once_per_crossing_cleared_and_raised_again():
    # given a member with 50.00 under a monitor "available < 100.00", and a platform listening
    merchant = f.active_merchant()
    events = f.listening(merchant)
    member, other = f.member(merchant), f.member(merchant)
    f.funded(member, "50.00")
    low = monitor(merchant, field="available", operator="lt", threshold="100.00", member=member)
    # when it is evaluated twice
    first = monitor_evaluate(monitor=low)
    second = monitor_evaluate(monitor=low)
    # then one alert opened, and one webhook went out
    assert len(first.raised) == 1 and second.raised == [] and second.cleared == []
    alert = MonitorAlert.objects.get(monitor=low)
    assert alert.is_open and alert.value == D("50.00")
    assert [t for t, _d in events("balance.alert")] == ["balance.alert"]
    # when the balance rises above the line: the alert is cleared, once
    f.funded(member, "100.00")
    cleared = monitor_evaluate(monitor=low)
    assert cleared.cleared == [alert.pk] and monitor_evaluate(monitor=low).cleared == []
    alert.refresh_from_db()
    assert not alert.is_open and alert.cleared_value == D("150.00")
    # when it falls below again: a new alert and a second webhook
    pay(member, other, "100.00")
    again = monitor_evaluate(monitor=low)
    assert len(again.raised) == 1 and again.raised[0].pk != alert.pk and again.raised[0].value == D("50.00")
    assert MonitorAlert.objects.filter(monitor=low).count() == 2
    assert len(events("balance.alert")) == 2
    # and each raise and clear is audited
    actions = list(AuditEvent.objects.filter(content_type__model="monitoralert").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["alert_raised", "alert_cleared", "alert_raised"]


def test_the_webhook_names_the_monitor_the_value_and_the_platform_s_user():
    # given a listening platform and a member below the line
    merchant = f.active_merchant()
    events = f.listening(merchant)
    member = f.member(merchant, user_id="buyer-42")
    f.funded(member, "12.50")
    low = monitor(merchant, field="available", operator="lte", threshold="20.00", description="buyers running dry")
    # when the beat task evaluates every monitor
    from risk.tasks import evaluate_balance_monitors

    assert evaluate_balance_monitors() == 1
    # then the event says what crossed, and where
    [(kind, data)] = events("balance.alert")
    alert = MonitorAlert.objects.get()
    assert data == {"alert_id": alert.pk, "monitor_id": low.pk, "description": "buyers running dry",
                    "field": "available", "operator": "lte", "threshold": "20.00", "value": "12.50",
                    "account_kind": "member_available", "user_id": "buyer-42", "crossed_at": data["crossed_at"]}


def test_one_monitor_over_every_account_of_every_merchant():
    # given two merchants with members below and above the line
    a, b = f.active_merchant(), f.active_merchant()
    low_a, high_a, low_b = f.member(a), f.member(a), f.member(b)
    f.funded(low_a, "10.00")
    f.funded(high_a, "500.00")
    f.funded(low_b, "20.00")
    everywhere = monitor(None, field="available", operator="lt", threshold="100.00")
    only_a = monitor(a, field="available", operator="lt", threshold="100.00")
    # when the monitors are evaluated
    monitors_evaluate_all()
    # then the bank-wide monitor alerts on every low member (and on no one with money), the
    # merchant's only on its own; members with no money at all are below the line too
    alerted = set(MonitorAlert.objects.filter(monitor=everywhere).values_list("member_id", flat=True))
    assert {low_a.pk, low_b.pk} <= alerted and high_a.pk not in alerted
    assert set(MonitorAlert.objects.filter(monitor=only_a).values_list("member_id", flat=True)) == {low_a.pk}


def test_switching_a_monitor_off_clears_its_alerts_and_stops_it():
    # given an open alert
    merchant = f.active_merchant()
    member = f.member(merchant)
    low = monitor(merchant, member=member, field="available", operator="lt", threshold="100.00")
    monitor_evaluate(monitor=low)
    assert MonitorAlert.objects.filter(monitor=low, cleared_at__isnull=True).count() == 1
    # when risk switches the monitor off
    low.enabled = False
    balance_monitor_save(monitor=low, actor=f.risk())
    # then the alert is cleared and evaluating raises nothing
    assert not MonitorAlert.objects.filter(monitor=low, cleared_at__isnull=True).exists()
    assert monitor_evaluate(monitor=low).raised == []
    assert AuditEvent.objects.filter(content_type__model="balancemonitor", action="update").exists()


def test_closed_merchants_are_not_watched():
    # given a monitor on a merchant that is not live (a draft has no accounts; a closed one no money)
    merchant = f.active_merchant()
    member = f.member(merchant)
    low = monitor(merchant, member=member, field="available", operator="lt", threshold="1.00")
    from merchants.models import Merchant

    Merchant.objects.filter(pk=merchant.pk).update(status=Merchant.Status.CLOSED)
    # when evaluated, then nothing is raised
    assert monitor_evaluate(monitor=low).raised == []


@pytest.mark.parametrize("change, message", [
    ({"field": "escrow_held"}, "available and frozen"),
    ({"member": "other"}, "another merchant"),
    ({"description": " "}, "Describe"),
])
def test_a_monitor_that_can_t_be_evaluated_is_refused(change, message):
    # given a monitor on a member, spoiled one way
    merchant, elsewhere = f.active_merchant(), f.active_merchant()
    fields = dict(merchant=merchant, member=f.member(merchant), field="available", operator="lt",
                  threshold=D("1.00"), description="fine")
    if change.get("member") == "other":
        change = {"member": f.member(elsewhere)}
    fields.update(change)
    # when it is saved, then it is refused, naming what is wrong, and nothing is kept
    with pytest.raises(ValidationFailed, match=message):
        balance_monitor_save(monitor=BalanceMonitor(**fields), actor=f.risk())
    assert not BalanceMonitor.objects.exists()


def test_a_member_s_monitor_takes_the_member_s_merchant():
    merchant = f.active_merchant()
    member = f.member(merchant)
    saved = monitor(None, member=member)
    assert saved.merchant_id == merchant.pk
