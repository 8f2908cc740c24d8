"""risk.services: monitors and assessments move no money; saving a monitor, an alert raised or
cleared, an acknowledgement and an assessment each leave an audit record. The merchant's risk
level (merchants.services.risk_level) is a decision too."""
from decimal import Decimal

from core.errors import InsufficientFunds, InvalidState, PermissionRefused, ValidationFailed
from ledger.services import deposits
from ledger.services import reserve as ledger_reserve
from merchants.models import RiskLevel
from merchants.services import risk_level
from risk.models import BalanceMonitor
from risk.services import assessments, monitors, reserve
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, ENTRY, NOT_SERVICES, refusal, scenario

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


# --- the risk reserve (风险保证金): policies, compensations and releases, each by maker-checker ---------

def _funded_reserve(amount="1000.00"):
    from tests.risk.helpers import fund_reserve

    merchant = f.active_merchant()
    fund_reserve(merchant, amount)
    return merchant


def _wronged_buyer(merchant):
    from ledger.services.payments import payment_create

    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "30.00")
    order_no = f"ORD-TRACE-{buyer.pk}"
    payment_create(merchant=merchant, actor=None, payer=buyer, amount="30.00", order_no=order_no, mode="direct",
                   splits=[(seller, "30.00")])
    return buyer, order_no


def _compensation(amount="30.00"):
    merchant = _funded_reserve()
    buyer, order_no = _wronged_buyer(merchant)
    return reserve.reserve_compensation_request(merchant=merchant, actor=f.risk(), member=buyer, amount=amount,
                                                order_no=order_no, reason="never delivered")


def _closing_with_reserve():
    from ledger.calendar import business_date_for
    from merchants.services.lifecycle import merchant_start_closing
    from reconciliation.models import EodRun

    merchant = _funded_reserve()
    merchant_start_closing(merchant=merchant, actor=f.risk(), reason="shut down")
    merchant.refresh_from_db()
    EodRun.objects.create(merchant=merchant, business_date=business_date_for(), status="balanced")
    return merchant


def _release():
    merchant = _closing_with_reserve()
    return reserve.reserve_release_request(merchant=merchant, actor=f.risk(), payee_account_name=merchant.legal_name,
                                           payee_account_number="370016188000", reason="closing")


NOT_SERVICES.update({
    "risk.services.reserve.reserve_required_for": "arithmetic: what a policy requires on a day, from the books",
    "risk.services.reserve.policy_in_force": "read: the merchant's policy in force",
    "risk.services.reserve.release_blockers": "read: why the reserve can't be released now",
    "ledger.services.deposits.deposit_entry_type": "which entry type a deposit books; writes nothing",
    "ledger.services.deposits.credited_account": "reads the account a deposit credits (opens it inside a writer's "
                                                 "transaction if missing)",
    "ledger.services.withdrawals.reserve_shortfall_limit": "reads the withdrawal limit setting while a reserve is short",
    "ledger.services.withdrawals.ensure_reserve_allows": "a check: refuses a large withdrawal while the reserve is "
                                                         "short; writes nothing",
})


@scenario(reserve.reserve_policy_request, leaves=AUDIT)
def a_risk_officer_asks_for_a_fixed_reserve():
    return dict(merchant=f.active_merchant(), actor=f.risk(), basis="amount", amount="1000.00", reason="new platform")


@refusal(reserve.reserve_policy_request, error=PermissionRefused)
def an_rm_asks_for_a_reserve():
    return dict(merchant=f.active_merchant(), actor=f.rm(), basis="amount", amount="1000.00", reason="x")


def _requested_policy(**kw):
    return reserve.reserve_policy_request(merchant=f.active_merchant(), actor=f.risk(), basis="amount",
                                          amount="1000.00", reason="new platform", **kw)


@scenario(reserve.reserve_policy_approve, leaves=AUDIT)
def a_second_risk_officer_puts_the_policy_in_force():
    return dict(policy=_requested_policy(), actor=f.risk())


@refusal(reserve.reserve_policy_approve, error=PermissionRefused)
def the_requester_approves_their_own_policy():
    maker = f.risk()
    policy = reserve.reserve_policy_request(merchant=f.active_merchant(), actor=maker, basis="amount",
                                            amount="1000.00", reason="x")
    return dict(policy=policy, actor=maker)


@scenario(reserve.reserve_policy_reject, leaves=AUDIT)
def a_second_risk_officer_rejects_the_policy():
    return dict(policy=_requested_policy(), actor=f.risk(), reason="too high")


@scenario(reserve.reserve_requirement_refresh, leaves=AUDIT)
def a_percentage_policy_is_recomputed_after_new_inflows():
    merchant = f.active_merchant()
    policy = reserve.reserve_policy_request(merchant=merchant, actor=f.risk(), basis="percent", percent="10",
                                            reason="x")
    reserve.reserve_policy_approve(policy=policy, actor=f.risk())
    f.funded(f.member(merchant), "1000.00")
    return dict(merchant=merchant, actor=None)


@scenario(reserve.reserve_requirements_refresh_all, leaves=AUDIT)
def the_daily_recomputation_of_percentage_policies():
    merchant = f.active_merchant()
    policy = reserve.reserve_policy_request(merchant=merchant, actor=f.risk(), basis="percent", percent="10",
                                            reason="x")
    reserve.reserve_policy_approve(policy=policy, actor=f.risk())
    f.funded(f.member(merchant), "1000.00")
    return dict(actor=None)


@scenario(reserve.reserve_compensation_request, leaves=AUDIT)
def a_risk_officer_asks_to_compensate_a_wronged_buyer():
    merchant = _funded_reserve()
    buyer, order_no = _wronged_buyer(merchant)
    return dict(merchant=merchant, actor=f.risk(), member=buyer, amount="30.00", order_no=order_no,
                reason="never delivered")


@scenario(reserve.reserve_compensation_approve, leaves=BOTH)
def a_second_risk_officer_pays_the_compensation_from_the_reserve():
    return dict(compensation=_compensation(), actor=f.risk())


@refusal(reserve.reserve_compensation_approve, error=InsufficientFunds)
def a_compensation_larger_than_the_reserve():
    return dict(compensation=_compensation("1500.00"), actor=f.risk())


@scenario(reserve.reserve_compensation_reject, leaves=AUDIT)
def a_second_risk_officer_rejects_the_compensation():
    return dict(compensation=_compensation(), actor=f.risk(), reason="refunded already")


@scenario(reserve.reserve_release_request, leaves=AUDIT)
def a_risk_officer_asks_to_release_a_closing_merchant_s_reserve():
    merchant = _closing_with_reserve()
    return dict(merchant=merchant, actor=f.risk(), payee_account_name=merchant.legal_name,
                payee_account_number="370016188000", reason="closing")


@scenario(reserve.reserve_release_approve, leaves=BOTH)
def a_second_risk_officer_releases_the_reserve_after_a_clean_end_of_day():
    return dict(release=_release(), actor=f.risk())


@refusal(reserve.reserve_release_request, error=InvalidState)
def a_release_for_a_merchant_that_is_not_closing():
    merchant = _funded_reserve()
    return dict(merchant=merchant, actor=f.risk(), payee_account_name="x", payee_account_number="1", reason="x")


@scenario(reserve.reserve_release_reject, leaves=AUDIT)
def a_second_risk_officer_rejects_the_release():
    return dict(release=_release(), actor=f.risk(), reason="wrong account")


@scenario(risk_level.merchant_reserve_required_set, leaves=AUDIT)
def the_approved_policy_sets_the_merchant_s_required_reserve():
    return dict(merchant=f.active_merchant(), amount="1000.00", actor=None, reason="policy #1")


@scenario(deposits.reserve_deposit_announce, leaves=AUDIT)
def the_platform_announces_money_for_its_reserve():
    return dict(merchant=f.active_merchant(), actor=None, amount="500.00", order_no="RSV-TRACE-1")


@scenario(ledger_reserve.reserve_compensation_book, leaves=ENTRY)
def the_books_pay_a_compensation_from_the_reserve():
    merchant = _funded_reserve()
    buyer, order_no = _wronged_buyer(merchant)
    return dict(merchant=merchant, member=buyer, amount="30.00", order_no=order_no, reason="never delivered",
                reference="trace-1", actor=f.risk())


@scenario(ledger_reserve.reserve_release_book, leaves=ENTRY)
def the_books_release_the_reserve():
    return dict(merchant=_funded_reserve(), reference="trace-1", actor=f.risk())
