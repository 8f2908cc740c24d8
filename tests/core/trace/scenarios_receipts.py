"""receipts.services: issuing a movement's receipt for the first time stores it, with an audit
record of who issued it for which movement; a movement with nothing to prove issues nothing."""
from core.errors import InvalidState
from ledger.services import deposits
from ledger.services.payments import payment_create
from receipts import services as s
from receipts.movements import deposit_movement, payment_movement
from tests import factories as f
from tests.core.trace import AUDIT, refusal, scenario


@scenario(s.receipt_issue, leaves=AUDIT)
def a_platform_downloads_a_payment_s_receipt_for_the_first_time():
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="10.00",
                                        order_no="TR-DEP", method="offline_transfer")
    deposits.deposit_credit(deposit=deposit, actor=None, amount="10.00", proof_kind="statement_line",
                            proof_reference="TR-SL")
    payment, _ = payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no="TR-P",
                                mode="direct", splits=[(seller, "10.00")])
    return {"movement": payment_movement(payment), "actor": f.ops()}


def _issue_for_an_announced_deposit(*, deposit, actor):
    return s.receipt_issue(movement=deposit_movement(deposit), actor=actor)


@refusal(_issue_for_an_announced_deposit, error=InvalidState)
def a_deposit_not_yet_credited_has_no_receipt():
    merchant = f.active_merchant()
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="5.00",
                                        order_no="TR-OPEN", method="offline_transfer")
    return {"deposit": deposit, "actor": f.ops()}
