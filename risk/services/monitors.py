"""Balance monitors: saving one, evaluating them, acknowledging an alert.

Evaluation reads a monitor's state with one query over every account it targets
(risk.selectors.monitors.monitor_state); only a change writes. A crossing inserts its alert with
INSERT … ON CONFLICT DO NOTHING against the partial unique index on open alerts, so two
evaluators racing raise it once (the one whose row went in emits the webhook); a clearing is an
UPDATE … WHERE cleared_at IS NULL, so it is cleared once. Raised and cleared alerts are audited
in the same transaction, and each raised alert writes its `balance.alert` event to the outbox.

When it runs: the beat task every minute (risk.tasks.evaluate_balance_monitors) and the admin's
"evaluate now". Not after each booking: one statement could not read the monitors, evaluate them
and write the alerts, and a monitor over an escrow account would make every payment wait on the
alert rows of its hot account. A minute is soon enough for what monitors watch (balances drifting
below or above a line), and the payment path stays as it is (README, "Risk monitors")."""
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record, audit_record_many
from core.errors import InvalidState, ValidationFailed
from merchants.models import Member, Merchant
from merchants.services import events

from ..models import MEMBER_FIELDS, BalanceMonitor, MonitorAlert
from ..selectors import monitors as selectors

EDITABLE = ("merchant", "member", "field", "operator", "threshold", "enabled", "description")


@dataclass
class Evaluation:
    monitor_id: int
    raised: list = field(default_factory=list)  # MonitorAlert rows inserted by this call
    cleared: list = field(default_factory=list)  # ids of alerts cleared by this call


def balance_monitor_check(monitor: BalanceMonitor) -> None:
    """Refuse a monitor that can't be evaluated (ValidationFailed naming the field); a member's
    monitor takes the member's merchant. Writes nothing."""
    if monitor.member_id is not None:
        if monitor.field not in MEMBER_FIELDS:
            raise ValidationFailed(_("Only the available and frozen balances belong to a member; leave the member "
                                     "empty for the platform's accounts."), field="member")
        member_merchant = Member.objects.filter(pk=monitor.member_id).values_list("merchant_id", flat=True).first()
        if monitor.merchant_id is None:
            monitor.merchant_id = member_merchant
        elif monitor.merchant_id != member_merchant:
            raise ValidationFailed(_("The member belongs to another merchant."), field="member")
    if monitor.threshold is None or monitor.threshold < 0:
        raise ValidationFailed(_("The threshold must be zero or more."), field="threshold")
    if not (monitor.description or "").strip():
        raise ValidationFailed(_("Describe what the monitor watches for."), field="description")


@transaction.atomic
def balance_monitor_save(*, monitor: BalanceMonitor, actor) -> BalanceMonitor:
    """Create or change a monitor (audited with what changed). Switching it off clears its open
    alerts: nobody watches them any more."""
    balance_monitor_check(monitor)
    now = timezone.now()
    if monitor.pk is None:
        monitor.created_at = monitor.updated_at = now
        monitor.save()
        audit_record(actor=actor, obj=monitor, action="create", merchant_id=monitor.merchant_id,
                     data={"condition": monitor.condition_text, "merchant": monitor.merchant_id,
                           "member": monitor.member_id, "enabled": monitor.enabled})
        return monitor
    before = BalanceMonitor.objects.select_for_update(no_key=True).get(pk=monitor.pk)
    changes = {name: [str(getattr(before, f"{name}_id" if name in ("merchant", "member") else name)),
                      str(getattr(monitor, f"{name}_id" if name in ("merchant", "member") else name))]
               for name in EDITABLE
               if getattr(before, f"{name}_id" if name in ("merchant", "member") else name)
               != getattr(monitor, f"{name}_id" if name in ("merchant", "member") else name)}
    if not changes:
        return monitor
    monitor.updated_at = now
    monitor.save()
    audit_record(actor=actor, obj=monitor, action="update", merchant_id=monitor.merchant_id,
                 data={"changes": changes})
    if not monitor.enabled:
        _clear(monitor, list(MonitorAlert.objects.filter(monitor=monitor, cleared_at__isnull=True)
                             .values_list("pk", "merchant_id")), actor=actor, now=now, why="monitor_disabled")
    return monitor


def monitor_evaluate(*, monitor: BalanceMonitor, actor=None) -> Evaluation:
    """Evaluate one monitor over every account it targets: raise an alert where the condition has
    become true, clear it where it has become false; nothing is written where nothing changed."""
    result = Evaluation(monitor_id=monitor.pk)
    if not monitor.enabled:
        return result
    states = selectors.monitor_state(monitor)
    to_raise = [s for s in states if s.crossed and s.open_alert_id is None]
    to_clear = [s for s in states if not s.crossed and s.open_alert_id is not None]
    if not to_raise and not to_clear:
        return result
    now = timezone.now()
    with transaction.atomic():
        if to_clear:
            result.cleared = _clear(monitor, [(s.open_alert_id, s.merchant_id) for s in to_clear],
                                    actor=actor, now=now, why="condition_false",
                                    values={s.open_alert_id: s.value for s in to_clear})
        if to_raise:
            result.raised = _raise(monitor, to_raise, actor=actor, now=now)
    return result


def monitors_evaluate_all(*, actor=None) -> list[Evaluation]:
    """Every enabled monitor, each in its own transaction (one monitor's trouble stops no other)."""
    return [monitor_evaluate(monitor=monitor, actor=actor)
            for monitor in BalanceMonitor.objects.filter(enabled=True).order_by("id")]


def _raise(monitor, states, *, actor, now) -> list[MonitorAlert]:
    condition = monitor.condition_text[:120]
    rows = [(monitor.pk, s.merchant_id, s.account_id, s.member_id, s.value, condition, now) for s in states]
    table = MonitorAlert._meta.db_table
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, '')"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (monitor_id, merchant_id, account_id, member_id, value, condition, crossed_at,
                                     acknowledge_reason)
                VALUES {placeholders}
                ON CONFLICT (monitor_id, account_id) WHERE cleared_at IS NULL DO NOTHING
                RETURNING id, account_id""",
            [value for row in rows for value in row])
        inserted = {account_id: alert_id for alert_id, account_id in cursor.fetchall()}
    if not inserted:
        return []
    alerts = [MonitorAlert(pk=inserted[s.account_id], monitor=monitor, merchant_id=s.merchant_id,
                           account_id=s.account_id, member_id=s.member_id, value=s.value, condition=condition,
                           crossed_at=now)
              for s in states if s.account_id in inserted]
    audit_record_many(actor=actor, records=[
        {"model": MonitorAlert, "object_id": a.pk, "object_repr": f"{condition} · {a.value}",
         "merchant_id": a.merchant_id, "action": "alert_raised", "to_state": "open",
         "data": {"monitor": monitor.pk, "account": a.account_id, "value": str(a.value), "condition": condition}}
        for a in alerts])
    merchants = {m.pk: m for m in Merchant.objects.filter(pk__in={a.merchant_id for a in alerts})}
    user_ids = dict(Member.objects.filter(pk__in={a.member_id for a in alerts if a.member_id})
                    .values_list("pk", "user_id"))
    for alert in alerts:
        events.emit(merchants[alert.merchant_id], "balance.alert",
                    selectors.alert_webhook_data(alert, monitor, user_ids.get(alert.member_id)))
    return alerts


def _clear(monitor, alerts: list[tuple], *, actor, now, why: str, values=None) -> list[int]:
    """Clear the given open alerts [(id, merchant id)]; returns the ids this call cleared."""
    if not alerts:
        return []
    values = values or {}
    merchant_of = dict(alerts)
    cleared = []
    for alert_id in sorted(merchant_of):
        # One UPDATE each: the value at clearing differs per alert, and clearings are rare.
        if MonitorAlert.objects.filter(pk=alert_id, cleared_at__isnull=True).update(
                cleared_at=now, cleared_value=values.get(alert_id)):
            cleared.append(alert_id)
    audit_record_many(actor=actor, records=[
        {"model": MonitorAlert, "object_id": alert_id, "object_repr": str(monitor)[:255],
         "merchant_id": merchant_of[alert_id], "action": "alert_cleared", "from_state": "open",
         "to_state": "cleared", "reason": why,
         "data": {"monitor": monitor.pk, "value": str(values[alert_id]) if alert_id in values else None}}
        for alert_id in cleared])
    return cleared


@transaction.atomic
def alert_acknowledge(*, alert: MonitorAlert, actor, reason: str) -> MonitorAlert:
    """A risk officer or operations say they have seen the alert and what they did (audited)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say what was done about the alert."), field="reason")
    alert = MonitorAlert.objects.select_for_update(no_key=True).get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise InvalidState(_("The alert was already acknowledged."))
    staff = as_actor(actor)
    alert.acknowledged_by = staff.user
    alert.acknowledged_at = timezone.now()
    alert.acknowledge_reason = reason
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledge_reason"])
    audit_record(actor=actor, obj=alert, action="acknowledge", reason=reason, merchant_id=alert.merchant_id)
    return alert
