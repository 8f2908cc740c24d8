"""Demo risk reserves (风险保证金): each merchant's required reserve, requested by one risk officer and
approved by another; qilu-mall funds its reserve in full (a reserve deposit credited on a statement
line), huanghe-grain only in part — the shortfall merchant the dashboards show. Through the services."""
from decimal import Decimal

from ledger.services import deposits
from risk.services.reserve import reserve_policy_approve, reserve_policy_request

# code -> (policy, funded amount)
RESERVES = {
    "qilu-mall": ({"basis": "amount", "amount": "10000.00"}, Decimal("10000.00")),
    "huanghe-grain": ({"basis": "percent", "percent": "10.00", "minimum": "5000.00"}, Decimal("2000.00")),
}


def add_reserve(merchant, users):
    spec = RESERVES.get(merchant.code)
    if spec is None:
        return
    policy_fields, funded = spec
    policy = reserve_policy_request(merchant=merchant, actor=users["risk_zhao"], reason="平台准入时设定的风险保证金",
                                    **policy_fields)
    reserve_policy_approve(policy=policy, actor=users["risk_sun"], reason="同意")
    deposit = deposits.reserve_deposit_announce(merchant=merchant, actor=users["ops_chen"], amount=funded,
                                                order_no=f"RSV-{merchant.code}-001")
    deposits.deposit_credit(deposit=deposit, actor=users["ops_chen"], amount=funded, proof_kind="statement_line",
                            proof_reference=f"DEMO-RSV-{merchant.code}-001")
