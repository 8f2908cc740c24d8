"""A member is never closed with money or credit left behind: the refusal names each reason."""
import pytest

from core.errors import InvalidState
from credit import services as credit_services
from ledger.services import deposits
from merchants.models import Member
from merchants.services.members import member_close
from tests import factories as f
from tests.credit.helpers import open_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    merchant = f.active_merchant()
    return merchant, f.member(merchant, roles=("buyer",)), f.member(merchant, roles=("seller",))


def close(member):
    return member_close(member=member, actor=f.risk(), reason="Left the platform")


def test_a_member_with_a_balance_is_not_closed_and_is_told_why(shop):
    merchant, buyer, _seller = shop
    f.funded(buyer, "12.50")
    with pytest.raises(InvalidState) as err:
        close(buyer)
    assert "available 12.50" in err.value.message and "verified card" in err.value.message
    assert len(err.value.details["blockers"]) == 1
    buyer.refresh_from_db()
    assert buyer.status == Member.Status.ACTIVE


def test_a_member_with_an_announced_deposit_is_not_closed(shop):
    merchant, buyer, _seller = shop
    deposits.deposit_announce(merchant=merchant, actor=None, member=buyer, amount="5.00", order_no="D-OPEN",
                              method="offline_transfer")
    with pytest.raises(InvalidState) as err:
        close(buyer)
    assert "announced deposit" in err.value.message


def test_neither_the_debtor_nor_the_creditor_of_an_open_credit_bill_is_closed(shop):
    merchant, buyer, seller = shop
    open_line(merchant, buyer, creditor=seller, limit="1000.00")
    bill = credit_services.credit_drawdown(merchant=merchant, actor=None, member=buyer, payee=seller,
                                           amount="100.00", order_no="PO-1")
    with pytest.raises(InvalidState) as err:
        close(buyer)
    assert "credit bill(s) are still outstanding" in err.value.message
    with pytest.raises(InvalidState) as err:
        close(seller)  # the creditor is the payee: it lent its own goods, no money moved, it is owed
    assert "owed to them as creditor" in err.value.message
    assert len(err.value.details["blockers"]) == 1
    assert bill.status == "open"


def test_a_member_with_nothing_left_is_closed(shop):
    _merchant, buyer, _seller = shop
    closed = close(buyer)
    assert closed.status == Member.Status.CLOSED
