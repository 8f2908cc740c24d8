"""Risk test helpers: balances made through the ledger's own services (payments, holds, suspense;
deposits are tests.factories.funded), a reserve required through the risk office's maker-checker
policy and funded the real way (a reserve deposit announced and credited on bank-side proof), and
monitors saved through the service."""
import itertools
from decimal import Decimal

from ledger.services.deposits_bulk import Parked, suspense_receive_bulk
from ledger.services.holds import hold_create
from ledger.services.payments import payment_create
from risk.models import BalanceMonitor
from risk.services.monitors import balance_monitor_save
from tests import factories as f

try:  # the release service is moving into its own module (staged releases)
    from ledger.services.releases import payment_release
except ImportError:  # pragma: no cover
    from ledger.services.payments import payment_release

D = Decimal
_seq = itertools.count(1)

__all__ = ["D", "hold", "monitor", "pay", "park_in_suspense", "payment_release", "fund_reserve",
           "require_reserve"]


def pay(payer, payee, amount, *, mode="direct"):
    payment, _created = payment_create(merchant=payer.merchant, actor=None, payer=payer, amount=str(amount),
                                       order_no=f"ORD-{next(_seq)}", mode=mode,
                                       splits=[(payee, str(amount))])
    return payment


def hold(member, amount):
    return hold_create(member=member, actor=f.risk(), amount=str(amount), reason="court freeze")


def park_in_suspense(merchant, amount):
    n = next(_seq)
    return suspense_receive_bulk(merchant=merchant, actor=None,
                                 items=[Parked(reference=f"SUSP-{n}", amount=D(amount), order_no=f"SUSP-{n}")])


def require_reserve(merchant, amount):
    """A fixed required reserve: requested by one risk officer, approved by a second."""
    from risk.services.reserve import reserve_policy_approve, reserve_policy_request

    policy = reserve_policy_request(merchant=merchant, actor=f.risk(), basis="amount", amount=str(D(amount)),
                                    reason="required by the risk office")
    reserve_policy_approve(policy=policy, actor=f.risk())
    merchant.refresh_from_db()
    return policy


def fund_reserve(merchant, amount, *, business_date=None):
    """Money into the risk reserve the way the bank takes it: a reserve deposit announced and credited
    on a statement line's proof (supervision up, reserve up). Returns the credited deposit."""
    from ledger.services.deposits import deposit_credit, reserve_deposit_announce

    n = next(_seq)
    deposit = reserve_deposit_announce(merchant=merchant, actor=None, amount=str(D(amount)), order_no=f"RES-{n}")
    return deposit_credit(deposit=deposit, actor=None, amount=str(D(amount)), proof_kind="statement_line",
                          proof_reference=f"RES-STMT-{n}", business_date=business_date)


def monitor(merchant=None, *, field="available", operator="lt", threshold="100.00", member=None, **kw):
    return balance_monitor_save(monitor=BalanceMonitor(
        merchant=merchant, member=member, field=field, operator=operator, threshold=D(threshold),
        description=kw.pop("description", f"{field} {operator} {threshold}"), **kw), actor=f.risk())
