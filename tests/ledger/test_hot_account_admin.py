"""The account admin: risk marks a member's available account hot or ordinary with a reason
(ledger.services.hot_flagging.account_set_hot), others are refused; a hot account's balance and
its postings' balances after are shown as they are now."""
import pytest
from django.urls import reverse
from django.utils import translation

from core.audit import timeline_for
from ledger.models import Account, AccountKind, Deposit
from ledger.services.accounts import member_accounts, platform_account
from ledger.services.hot_flagging import account_set_hot
from tests import factories as f

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:ledger_{model}_{view}", args=args)


def seller(amount="100.00"):
    merchant = f.active_merchant()
    member = f.member(merchant)
    f.funded(member, amount)
    return merchant, member, member_accounts(member)[0]


def fresh(account) -> Account:
    return Account.objects.get(pk=account.pk)


def test_risk_marks_a_members_available_account_hot_and_ordinary_with_a_reason(client):
    _merchant, _member, available = seller()
    client.force_login(f.risk())
    # the button is there, and asks for a reason first
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="mark_hot"' in page and 'data-transition="mark_ordinary"' not in page
    assert client.post(url("account", "do", available.pk, "mark_hot"), {"reason": ""}).status_code == 200
    assert not fresh(available).is_hot
    # marked hot, audited with the officer and the reason
    client.post(url("account", "do", available.pk, "mark_hot"), {"reason": "Sale day on Friday"})
    assert fresh(available).is_hot
    event = timeline_for(available).get(action="mark_hot")
    assert event.actor_id is not None and event.reason == "Sale day on Friday"
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="mark_ordinary"' in page and 'data-transition="mark_hot"' not in page
    # and ordinary again
    client.post(url("account", "do", available.pk, "mark_ordinary"), {"reason": "Sale over"})
    assert not fresh(available).is_hot
    assert timeline_for(available).filter(action="mark_ordinary", reason="Sale over").exists()


def test_operations_get_no_hot_button_and_a_posted_one_is_refused(client):
    _merchant, _member, available = seller()
    client.force_login(f.ops())
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="mark_hot"' not in page
    response = client.post(url("account", "do", available.pk, "mark_hot"), {"reason": "x"}, follow=True)
    assert "Refused" in response.content.decode()
    assert not fresh(available).is_hot and not timeline_for(available).filter(action="mark_hot").exists()


def test_a_platform_or_frozen_account_can_not_be_flipped_from_the_admin(client):
    merchant, member, _available = seller()
    escrow = platform_account(merchant, AccountKind.ESCROW)
    frozen = member_accounts(member)[1]
    client.force_login(f.risk())
    assert 'data-transition="mark_ordinary"' not in client.get(url("account", "change", escrow.pk)).content.decode()
    assert 'data-transition="mark_hot"' not in client.get(url("account", "change", frozen.pk)).content.decode()
    for account, name in ((escrow, "mark_ordinary"), (frozen, "mark_hot")):
        before = fresh(account).is_hot
        response = client.post(url("account", "do", account.pk, name), {"reason": "x"}, follow=True)
        assert "Refused" in response.content.decode()
        assert fresh(account).is_hot == before


def test_the_hot_buttons_are_translated():
    with translation.override("zh-hans"):
        from ledger.admin.accounts import AccountAdmin

        labels = [str(AccountAdmin.service_buttons[name].label) for name in ("mark_hot", "mark_ordinary")]
    assert all(label and not label.startswith("Mark") for label in labels)


def test_the_account_page_shows_a_hot_sellers_balance_and_running_balances(client):
    # given a seller with 100.00 rolled up, made hot, then credited 7.25 (pending)
    merchant, member, available = seller()
    account_set_hot(account=available, hot=True, actor=f.risk(), reason="Sale day")
    f.funded(member, "7.25")
    client.force_login(f.ops())
    # then the list and the page show the balance now, and the hot posting its balance after
    listing = client.get(url("account", "changelist") + f"?merchant={merchant.pk}&kind__exact=member_available")
    assert "107.25" in listing.content.decode()
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert page.count("107.25") >= 2 and "(hot account: rolled up)" not in page
    # and so does the journal entry's page for the member's line
    entry = Deposit.objects.filter(member=member).order_by("-id").first().entry
    page = client.get(url("journalentry", "change", entry.pk)).content.decode()
    assert "107.25" in page
