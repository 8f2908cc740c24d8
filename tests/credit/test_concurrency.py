"""On PostgreSQL, with real threads and transactions: parallel drawdowns never exceed the limit,
parallel repayments never repay a bill twice, and the books still balance."""
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import CreditLimitExceeded, InvalidAmount, InvalidState
from credit import services
from credit.models import CreditBill
from ledger.selectors import member_balance, prove_merchant
from tests import factories as f

from .helpers import open_line

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(fn, n=THREADS):
    """Run fn(i) in n threads released together; returns each outcome (result or error code)."""
    barrier = threading.Barrier(n)
    outcomes = []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            outcome = fn(i)
        except Exception as err:  # noqa: BLE001 - the outcome is what the test looks at
            outcome = getattr(err, "code", repr(err))
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("creditor_pays", [False, True], ids=["on-account", "seller-financed"])
def test_parallel_drawdowns_never_exceed_the_limit(world, creditor_pays):
    # given a 1,000.00 line; when financed by a seller, the seller has 10,000.00
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="1000.00")
    f.funded(world.core, "10000.00")
    payee = world.seller if creditor_pays else world.core
    # when 8 drawdowns of 300.00 race
    outcomes = _race(lambda i: services.credit_drawdown(
        merchant=world.merchant, actor=None, member=world.buyer, payee=payee, amount="300.00", order_no=f"P-{i}"))
    # then exactly three succeed and the rest are refused for the limit
    assert sum(isinstance(o, CreditBill) for o in outcomes) == 3
    assert sorted(o for o in outcomes if not isinstance(o, CreditBill)) == [CreditLimitExceeded.code] * 5
    line.refresh_from_db()
    assert line.used == Decimal("900.00") and CreditBill.objects.filter(line=line).count() == 3
    if creditor_pays:
        assert member_balance(world.core)["available"] == Decimal("9100.00")
        assert member_balance(world.seller)["available"] == Decimal("900.00")
    assert prove_merchant(world.merchant).ok


def test_parallel_repayments_never_repay_a_bill_twice(world):
    open_line(world.merchant, world.buyer, creditor=world.core, limit="1000.00")
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="500.00", order_no="P-1")
    f.funded(world.buyer, "5000.00")
    # when 8 full repayments with different references race
    outcomes = _race(lambda i: services.credit_repay(bill=bill, actor=None, amount="500.00",
                                                     idempotency_ref=f"R-{i}"))
    # then one repays and the others find the bill repaid
    assert sum(not isinstance(o, str) for o in outcomes) == 1
    assert sorted(o for o in outcomes if isinstance(o, str)) == [InvalidState.code] * (THREADS - 1)
    bill.refresh_from_db()
    assert bill.status == CreditBill.Status.REPAID and bill.line.used == 0
    assert member_balance(world.buyer)["available"] == Decimal("4500.00")
    assert member_balance(world.core)["available"] == Decimal("500.00")
    assert prove_merchant(world.merchant).ok


def test_parallel_partial_repayments_never_over_repay(world):
    open_line(world.merchant, world.buyer, creditor=world.core, limit="1000.00")
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="1000.00", order_no="P-1")
    f.funded(world.buyer, "5000.00")
    outcomes = _race(lambda i: services.credit_repay(bill=bill, actor=None, amount="300.00",
                                                     idempotency_ref=f"R-{i}"))
    # three fit (900.00); the fourth onwards would exceed what is outstanding
    assert sum(not isinstance(o, str) for o in outcomes) == 3
    assert sorted(o for o in outcomes if isinstance(o, str)) == [InvalidAmount.code] * (THREADS - 3)
    bill.refresh_from_db()
    assert bill.principal_repaid == Decimal("900.00") and bill.line.used == Decimal("100.00")
    assert prove_merchant(world.merchant).ok
