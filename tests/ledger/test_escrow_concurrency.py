"""Releases from escrow take no exclusive lock on the escrow row: one in flight never makes
another wait, while a freeze of the escrow waits for those in flight and stops every later one."""
import pytest

from core.errors import AccountFrozen
from ledger.models import AccountKind, Payment
from ledger.selectors import prove_merchant
from ledger.services.accounts import account_freeze, platform_account
from ledger.services.payments import payment_create, payment_release
from tests import factories as f
from tests.faults.helpers import holding, in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held():
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "100.00")
    payments = [payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no=f"G-{i}",
                               mode="guaranteed", splits=[(seller, "10.00")])[0] for i in range(3)]
    return merchant, payments


def test_a_release_in_flight_makes_no_other_release_wait(held):
    # given a release in flight: its transaction holds what a release holds on the escrow row
    merchant, payments = held
    escrow = platform_account(merchant, AccountKind.ESCROW)
    with holding("SELECT frozen FROM ledger_account WHERE id = %s FOR SHARE", [escrow.pk]):
        # when another payment is released meanwhile
        thread, out = in_thread(lambda _: payment_release(payment=payments[0], actor=None))
        thread.join(60)
        # then it was booked without waiting for the first
        assert not thread.is_alive() and "error" not in out, out
    assert Payment.objects.get(pk=payments[0].pk).status == Payment.Status.RELEASED
    assert prove_merchant(merchant).ok


def test_a_freeze_of_the_escrow_waits_for_releases_in_flight_and_stops_later_ones(held):
    merchant, payments = held
    escrow = platform_account(merchant, AccountKind.ESCROW)
    officer = f.risk()
    with holding("SELECT frozen FROM ledger_account WHERE id = %s FOR SHARE", [escrow.pk]) as in_flight:
        # when risk freezes the escrow account while a release is in flight
        pid = in_flight.one("SELECT pg_backend_pid()")[0]
        thread, out = in_thread(lambda _: account_freeze(account=escrow, actor=officer, reason="investigation"))
        # then the freeze waits for it (the release in flight completes as it began)
        _wait_for_a_waiter(exclude=pid)
        assert thread.is_alive()
    thread.join(60)
    assert "error" not in out, out
    # and a release after the freeze is refused
    with pytest.raises(AccountFrozen):
        payment_release(payment=payments[1], actor=None)
    assert Payment.objects.get(pk=payments[1].pk).status == Payment.Status.HELD
    assert prove_merchant(merchant).ok


def _wait_for_a_waiter(*, exclude: int, timeout: float = 60):
    import time

    from tests.faults.helpers import Session

    session = Session(autocommit=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = session.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s",
                                   [exclude])
            if rows:
                return rows[0][0]
            time.sleep(0.05)
        raise AssertionError("nobody waited on the escrow row")
    finally:
        session.conn.close()
