"""Racing the risk reserve (PostgreSQL, real transactions, real threads): two compensations approved at
once against a reserve that can pay only one are paid once between them, and two approvers pressing
the same compensation pay it once; the reserve never goes below zero and 总分平衡 holds."""
import pytest

from core.errors import InsufficientFunds, InvalidState, PermissionRefused
from ledger.models import EntryType, JournalEntry
from ledger.selectors import prove_merchant, reserve_position
from ledger.services.accounts import member_accounts
from ledger.services.payments import payment_create
from risk.models import ReserveCompensation
from risk.services import reserve as rs
from tests import factories as f
from tests.ledger.test_payment_concurrency import run_together

from .helpers import D, fund_reserve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _wronged(merchant, order_no):
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "60.00")
    payment_create(merchant=merchant, actor=None, payer=buyer, amount="60.00", order_no=order_no, mode="direct",
                   splits=[(seller, "60.00")])
    return buyer


def test_two_compensations_racing_for_the_last_of_the_reserve_pay_one():
    # given a reserve of 100.00 and two requests of 60.00 for two wronged buyers
    merchant = f.active_merchant()
    fund_reserve(merchant, "100.00")
    buyers = [_wronged(merchant, f"ORD-R{i}") for i in range(2)]
    requests = [rs.reserve_compensation_request(merchant=merchant, actor=f.risk(), member=b, amount="60.00",
                                                order_no=f"ORD-R{i}", reason="never delivered")
                for i, b in enumerate(buyers)]
    approvers = [f.risk(), f.risk()]
    # when two risk officers approve them at the same moment
    results = run_together(2, lambda i: rs.reserve_compensation_approve(compensation=requests[i],
                                                                         actor=approvers[i]))
    # then one is paid, the other refused for want of reserve (and still waits)
    errors = [error for _r, error in results]
    assert sorted(type(e).__name__ for e in errors if e) == [InsufficientFunds.__name__]
    assert sum(1 for e in errors if e is None) == 1
    statuses = sorted(ReserveCompensation.objects.values_list("status", flat=True))
    assert statuses == [ReserveCompensation.Status.APPROVED, ReserveCompensation.Status.REQUESTED]
    assert reserve_position(merchant).balance == D("40.00")
    assert sorted(member_accounts(b)[0].balance for b in buyers) == [D("0.00"), D("60.00")]
    assert prove_merchant(merchant).ok


def test_two_approvers_pressing_one_compensation_pay_it_once():
    # given a reserve of 100.00 and one request of 60.00
    merchant = f.active_merchant()
    fund_reserve(merchant, "100.00")
    buyer = _wronged(merchant, "ORD-ONE")
    maker = f.risk()
    request = rs.reserve_compensation_request(merchant=merchant, actor=maker, member=buyer, amount="60.00",
                                              order_no="ORD-ONE", reason="never delivered")
    approvers = [f.risk(), f.risk()]
    # when two risk officers approve it at the same moment
    results = run_together(2, lambda i: rs.reserve_compensation_approve(compensation=request, actor=approvers[i]))
    # then it is paid once; the second approver finds it already decided
    errors = [error for _r, error in results]
    assert sum(1 for e in errors if e is None) == 1
    assert all(isinstance(e, (InvalidState, PermissionRefused)) for e in errors if e)
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.RESERVE_COMPENSATION).count() == 1
    assert reserve_position(merchant).balance == D("40.00")
    assert member_accounts(buyer)[0].balance == D("60.00")
    assert prove_merchant(merchant).ok
