"""A hot seller through the API: the balance shows credits not yet rolled up, and the statement a
correct running balance on lines whose postings store none."""
import pytest

from ledger.models import HotBalanceDelta, Posting
from ledger.posting import roll_up_hot_balances
from ledger.services.accounts import member_accounts
from ledger.services.hot_flagging import account_set_hot
from merchants.models import Member
from tests import factories as f

from .conftest import add_member, fund

pytestmark = pytest.mark.django_db


def make_hot(platform, user_id):
    member = Member.objects.get(merchant=platform.merchant, user_id=user_id)
    account_set_hot(account=member_accounts(member)[0], hot=True, actor=f.risk(), reason="Sale day")
    return member


def test_a_hot_sellers_balance_shows_its_pending_credits(platform):
    # given a seller with 10.00 rolled up, made hot, then credited 2.50 (a pending delta)
    add_member(platform, "s-1")
    fund(platform, "s-1", "10.00")
    make_hot(platform, "s-1")
    fund(platform, "s-1", "2.50")
    assert HotBalanceDelta.objects.exists()
    # then the balance answers it at once
    assert platform.client.get_balance("s-1")["available"] == "12.50"


def test_a_hot_sellers_statement_shows_a_correct_running_balance_on_every_page(platform):
    # given a seller credited 10.00 while ordinary, then hot and credited 20.00, 30.00, and paying 5.00
    add_member(platform, "s-1")
    add_member(platform, "b-1")
    fund(platform, "s-1", "10.00")
    make_hot(platform, "s-1")
    fund(platform, "s-1", "20.00")
    fund(platform, "s-1", "30.00")
    platform.client.create_payment(payer_user_id="s-1", payee_user_id="b-1", amount="5.00", order_no="P-1",
                                   mode="direct")
    seller = Member.objects.get(merchant=platform.merchant, user_id="s-1")
    assert Posting.objects.filter(account__member=seller, balance_after__isnull=True).count() == 3
    # when the statement is read two lines at a time
    first = platform.client.list_entries("s-1", limit=2)
    second = platform.client.list_entries("s-1", limit=2, cursor=first["next"])
    # then every line carries the balance after it, the newest being the balance now
    lines = first["results"] + second["results"]
    assert [line["amount"] for line in lines] == ["-5.00", "30.00", "20.00", "10.00"]
    assert [line["balance_after"] for line in lines] == ["55.00", "60.00", "30.00", "10.00"]
    assert platform.client.get_balance("s-1")["available"] == "55.00"
    # and the same once the roll-up has folded the deltas
    roll_up_hot_balances()
    again = platform.client.list_entries("s-1", limit=10)["results"]
    assert [line["balance_after"] for line in again] == ["55.00", "60.00", "30.00", "10.00"]


def test_the_schema_says_how_a_hot_lines_balance_is_given(platform):
    from ledger.api.serializers import EntryLine

    help_text = str(EntryLine().fields["balance_after"].help_text)
    assert "hot" in help_text and "null" in help_text
