"""Every read of a member's balance adds the pending deltas of a hot account (a busy seller's
available account, credited without a row lock until the roll-up folds them), and a hot account's
statement shows a correct running balance although its postings store none."""
from decimal import Decimal

import pytest

from backoffice.selectors import complaints
from core.errors import InvalidState
from ledger.models import HotBalanceDelta, Posting
from ledger.posting import roll_up_hot_balances
from ledger.selectors import member_balance, member_close_blockers, members_balances, with_running_balances
from ledger.services import withdrawals as w
from ledger.services.accounts import member_accounts
from ledger.services.hot_flagging import account_set_hot
from ledger.services.payments import payment_create
from merchants.services.members import bank_card_add
from risk.selectors.monitors import monitor_state
from tests import factories as f
from tests.risk.helpers import monitor

pytestmark = pytest.mark.django_db
D = Decimal


def hot_seller(*credits, before=()):
    """A seller credited `before` as an ordinary account, then made hot and credited `credits`:
    the hot credits wait as deltas (no roll-up runs in tests)."""
    merchant = f.active_merchant()
    seller = f.member(merchant, name="Li Lei")
    for amount in before:
        f.funded(seller, amount)
    available = member_accounts(seller)[0]
    account_set_hot(account=available, hot=True, actor=f.risk(), reason="Sale day")
    for amount in credits:
        f.funded(seller, amount)
    assert HotBalanceDelta.objects.filter(account=available).count() == len(credits)
    return merchant, seller


def test_a_hot_sellers_balance_shows_its_pending_credits_in_one_query(django_assert_num_queries):
    # given a hot seller credited 30.00 before and 10.00 + 5.00 since, not yet rolled up
    _merchant, seller = hot_seller("10.00", "5.00", before=["30.00"])
    # when its balance is read
    with django_assert_num_queries(1):
        balance = member_balance(seller)
    # then the pending credits count at once, and the same after the roll-up
    assert balance == {"available": D("45.00"), "frozen": D("0.00")}
    roll_up_hot_balances()
    assert member_balance(seller) == balance


def test_several_members_balances_show_pending_credits(django_assert_num_queries):
    _merchant, seller = hot_seller("7.00")
    other = f.member(f.active_merchant())
    with django_assert_num_queries(1):
        balances = members_balances([seller.pk, other.pk])
    assert balances == {seller.pk: {"available": D("7.00"), "frozen": D("0.00")},
                        other.pk: {"available": D("0.00"), "frozen": D("0.00")}}


def test_a_hot_seller_with_only_pending_credits_can_not_be_closed():
    # given a hot seller whose whole balance is a pending credit
    _merchant, seller = hot_seller("12.00")
    # then closing it would strand that money, and says how much
    blockers = member_close_blockers(seller)
    assert blockers and "12.00" in str(blockers[0])


def test_a_closing_payout_pays_out_the_pending_credits_too():
    # given a hot seller with 20.00 rolled up and 3.50 pending, and a verified card
    merchant, seller = hot_seller("3.50", before=["20.00"])
    bank_card_add(member=seller, actor=None, account_number="6222020200112233445", account_name="Li Lei",
                  bank_name="ICBC")
    # when a risk officer opens its closing payout
    payout = w.member_closing_payout(member=seller, actor=f.risk(), reason="Leaving")
    # then the whole balance leaves, the pending credit included, and nothing is left behind
    assert payout.amount == D("23.50")
    assert member_balance(seller) == {"available": D("0.00"), "frozen": D("23.50")}
    # and a second payout finds nothing left to pay
    with pytest.raises(InvalidState):
        w.member_closing_payout(member=seller, actor=f.risk(), reason="Again")


def test_a_balance_monitor_sees_a_hot_sellers_pending_credits():
    # given a monitor "available > 100.00" and a hot seller with 60.00 rolled up and 50.00 pending
    merchant, seller = hot_seller("50.00", before=["60.00"])
    watch = monitor(merchant, operator="gt", threshold="100.00")
    # when its state is read
    states = [s for s in monitor_state(watch) if s.member_id == seller.pk]
    # then the account is over the threshold by the pending credit
    assert [(s.value, s.crossed) for s in states] == [(D("110.00"), True)]


def test_the_complaints_page_shows_a_hot_sellers_balance_and_running_balances():
    # given a hot seller paid by a buyer after 8.00 rolled up
    merchant, seller = hot_seller(before=["8.00"])
    buyer = f.member(merchant)
    f.funded(buyer, "100.00")
    payment_create(merchant=merchant, actor=None, payer=buyer, amount="25.00", order_no="HOT-1", mode="direct",
                   splits=[(seller, "25.00")])
    # when operations look the seller up, then the balance and the story's postings are the balance now
    result = complaints.find(f.ops(), seller.user_id)
    assert [(m.available, m.frozen_balance) for m in result.members] == [(D("33.00"), D("0.00"))]
    result = complaints.find(f.ops(), "HOT-1")
    after = [p.running_balance for s in result.stories for e in s.entries for p in e.postings.all()
             if p.account.member_id == seller.pk]
    assert after == [D("33.00")]


# --- running balances ------------------------------------------------------------------------

def statement(seller):
    postings = Posting.objects.filter(account=member_accounts(seller)[0]).select_related("account").order_by("-id")
    return [(p.amount, p.balance_after, p.running_balance) for p in with_running_balances(postings)]


def test_a_hot_accounts_postings_get_their_running_balance():
    # given 30.00 credited while ordinary (stored balance after) and 10.00, 5.00 since it is hot
    _merchant, seller = hot_seller("10.00", "5.00", before=["30.00"])
    # then newest first: the hot ones computed from the balance now, the ordinary one as stored
    assert statement(seller) == [(D("-5.00"), None, D("45.00")), (D("-10.00"), None, D("40.00")),
                                 (D("-30.00"), D("30.00"), D("30.00"))]
    # and the same after the roll-up has folded the deltas
    roll_up_hot_balances()
    assert [line[2] for line in statement(seller)] == [D("45.00"), D("40.00"), D("30.00")]


def test_running_balances_across_debits_and_a_return_to_ordinary():
    # given a hot seller credited 50.00, paying 20.00 out (a hot debit), then made ordinary and credited 1.00
    merchant, seller = hot_seller("50.00")
    buyer = f.member(merchant)
    payment_create(merchant=merchant, actor=None, payer=seller, amount="20.00", order_no="OUT-1", mode="direct",
                   splits=[(buyer, "20.00")])
    account_set_hot(account=member_accounts(seller)[0], hot=False, actor=f.risk(), reason="Sale over")
    f.funded(seller, "1.00")
    # then each line is the one before plus its amount, and the newest is the balance now
    assert [line[2] for line in statement(seller)] == [D("31.00"), D("30.00"), D("50.00")]
    assert member_balance(seller)["available"] == D("31.00")


def test_only_the_postings_asked_for_are_computed_in_one_query(django_assert_num_queries):
    # given a hot seller with five pending credits
    _merchant, seller = hot_seller("1.00", "2.00", "3.00", "4.00", "5.00")
    older = list(Posting.objects.filter(account=member_accounts(seller)[0]).select_related("account")
                 .order_by("-id"))[2:4]  # a page further down: 3.00 and 2.00
    # when only that page is asked for, then one query walks back from the balance now
    with django_assert_num_queries(1):
        page = with_running_balances(older)
    assert [p.running_balance for p in page] == [D("6.00"), D("3.00")]
    # and a page of stored balances needs no query at all
    with django_assert_num_queries(0):
        with_running_balances([])
