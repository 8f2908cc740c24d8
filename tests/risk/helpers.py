"""Risk test helpers: balances made through the ledger's own services (payments, holds, suspense;
deposits are tests.factories.funded), a reserve funded by a balanced adjustment (no service funds
it yet), and monitors saved through the service."""
import itertools
from decimal import Decimal

from django.db import transaction

from ledger.models import Account, AccountKind, EntryType
from ledger.posting import Leg, Order, post_entry
from ledger.services.deposits_bulk import Parked, suspense_receive_bulk
from ledger.services.holds import hold_create
from ledger.services.payments import payment_create
from merchants.models import Merchant
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
    Merchant.objects.filter(pk=merchant.pk).update(risk_reserve_required=D(amount))
    merchant.refresh_from_db()


def fund_reserve(merchant, amount, *, business_date=None):
    """Money into the risk reserve (supervision up, reserve up): an adjustment, as no service
    funds the reserve yet (issue 16, item 1)."""
    def platform_account(kind):
        return Account.objects.get(merchant=merchant, kind=kind, member__isnull=True)

    with transaction.atomic():
        return post_entry(merchant=merchant, entry_type=EntryType.ADJUSTMENT, idempotency_ref=f"reserve-{next(_seq)}",
                          legs=[Leg(platform_account(AccountKind.SUPERVISION), D(amount)),
                                Leg(platform_account(AccountKind.RISK_RESERVE), D(amount))],
                          actor=None, order=Order(order_no=f"RES-{next(_seq)}", amount=D(amount)),
                          business_date=business_date)


def monitor(merchant=None, *, field="available", operator="lt", threshold="100.00", member=None, **kw):
    return balance_monitor_save(monitor=BalanceMonitor(
        merchant=merchant, member=member, field=field, operator=operator, threshold=D(threshold),
        description=kw.pop("description", f"{field} {operator} {threshold}"), **kw), actor=f.risk())
