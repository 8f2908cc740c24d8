"""risk.services: monitors and assessments move no money; saving a monitor, an alert raised or
cleared, an acknowledgement and an assessment each leave an audit record. The merchant's risk
level (merchants.services.risk_level) is a decision too."""
from decimal import Decimal

from core.errors import ValidationFailed
from merchants.models import RiskLevel
from merchants.services import risk_level
from risk.models import BalanceMonitor
from risk.services import assessments, monitors
from tests import factories as f
from tests.core.trace import AUDIT, NOT_SERVICES, refusal, scenario

NOT_SERVICES.update({
    "risk.services.monitors.balance_monitor_check": "a check: refuses a monitor that can't be evaluated "
                                                    "(the service and the admin form share it)",
})


def _watched_member():
    merchant = f.active_merchant()
    member = f.member(merchant)
    f.funded(member, "50.00")
    return merchant, member


def _monitor(merchant, member=None, **fields):
    fields = {"field": "available", "operator": "lt", "threshold": Decimal("100.00"), "description": "low", **fields}
    return monitors.balance_monitor_save(monitor=BalanceMonitor(merchant=merchant, member=member, **fields),
                                         actor=f.risk())


@scenario(monitors.balance_monitor_save, leaves=AUDIT)
def risk_sets_a_monitor_on_a_member_s_available_balance():
    merchant, member = _watched_member()
    return dict(monitor=BalanceMonitor(merchant=merchant, member=member, field="available", operator="lt",
                                       threshold=Decimal("100.00"), description="below 100"), actor=f.risk())


@refusal(monitors.balance_monitor_save, error=ValidationFailed)
def a_member_monitor_on_the_escrow_account():
    merchant, member = _watched_member()
    return dict(monitor=BalanceMonitor(merchant=merchant, member=member, field="escrow_held", operator="gt",
                                       threshold=Decimal("1.00"), description="wrong"), actor=f.risk())


@scenario(monitors.monitor_evaluate, leaves=AUDIT)
def a_member_s_balance_has_fallen_below_the_monitor_s_line():
    merchant, member = _watched_member()
    return dict(monitor=_monitor(merchant, member), actor=None)


@scenario(monitors.monitors_evaluate_all, leaves=AUDIT)
def the_beat_evaluates_every_monitor():
    merchant, member = _watched_member()
    _monitor(merchant, member)
    return dict(actor=None)


@scenario(monitors.alert_acknowledge, leaves=AUDIT)
def operations_acknowledge_an_alert():
    merchant, member = _watched_member()
    alert = monitors.monitor_evaluate(monitor=_monitor(merchant, member)).raised[0]
    return dict(alert=alert, actor=f.ops(), reason="called the platform")


@refusal(monitors.alert_acknowledge, error=ValidationFailed)
def an_acknowledgement_without_a_reason():
    merchant, member = _watched_member()
    alert = monitors.monitor_evaluate(monitor=_monitor(merchant, member)).raised[0]
    return dict(alert=alert, actor=f.ops(), reason="  ")


@scenario(assessments.merchant_assess, leaves=AUDIT)
def risk_recomputes_a_merchant_s_level():
    merchant, _member = _watched_member()
    return dict(merchant=merchant, actor=f.risk())


@scenario(assessments.merchants_assess_all, leaves=AUDIT)
def the_daily_assessment_of_every_merchant():
    _watched_member()
    return dict(actor=None)


@scenario(risk_level.merchant_risk_level_set, leaves=AUDIT)
def the_computed_level_changes_the_merchant_s():
    merchant = f.active_merchant()
    return dict(merchant=merchant, level=RiskLevel.HIGH, actor=None, data={"assessment": 1})


@refusal(risk_level.merchant_risk_level_set, error=ValidationFailed)
def an_unknown_level():
    return dict(merchant=f.active_merchant(), level="extreme", actor=None)
