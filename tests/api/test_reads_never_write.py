"""Reads never write: a member whose ledger accounts are not open (created before the ledger was
installed, or by a path that skipped merchants.hooks.on_member_created) reads as zero balances and
no statement lines, and neither the API's GETs nor the admin's pages open the accounts on the way."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Account
from ledger.selectors import member_account_ids, member_balance
from tests import factories as f

pytestmark = pytest.mark.django_db

# What a request itself may record, whatever it reads: the API's replay guard remembers each
# signed request's nonce, and the admin's login may touch its session. Nothing of the ledger.
BOOKKEEPING_TABLES = ("core_usednonce", "django_session", "axes_")


def _inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")
            and not any(f'"{table}' in q["sql"] or f" {table}" in q["sql"] for table in BOOKKEEPING_TABLES)]


@pytest.fixture
def member_without_accounts(platform):
    member = f.member(platform.merchant, user_id="u-early")
    Account.objects.filter(member=member).delete()  # as if the member predated the ledger
    return member


def test_every_new_member_has_its_accounts_opened_by_the_hook(platform):
    # given a member created through the merchants service
    member = f.member(platform.merchant)
    # then the ledger's hook has opened its two accounts: a GET never needs to
    assert len(member_account_ids(member)) == 2


def test_the_selectors_read_a_member_without_accounts_as_empty(member_without_accounts):
    # when the ledger's selectors read the member
    with CaptureQueriesContext(connection) as queries:
        balance, ids = member_balance(member_without_accounts), member_account_ids(member_without_accounts)
    # then zero balances, no accounts, and nothing written
    assert balance == {"available": Decimal("0.00"), "frozen": Decimal("0.00")}
    assert ids == []
    assert _inserts(queries) == []


def test_the_api_gets_of_a_member_without_accounts_write_nothing(platform, member_without_accounts):
    # when the platform reads the member's balance and statement lines
    with CaptureQueriesContext(connection) as queries:
        balance = platform.client.get_balance("u-early")
        entries = platform.client.list_entries("u-early")
    # then zero balances and no lines, and no account was opened
    assert (balance["available"], balance["frozen"]) == ("0.00", "0.00")
    assert entries["results"] == []
    assert _inserts(queries) == []
    assert not Account.objects.filter(member=member_without_accounts).exists()


def test_the_admin_pages_of_a_member_without_accounts_write_nothing(client, platform, member_without_accounts):
    # given an operations officer signed in
    client.force_login(f.ops())
    pages = [reverse("admin:merchants_member_change", args=[member_without_accounts.pk]),
             reverse("admin:merchants_member_changelist"),
             reverse("admin:merchants_merchant_change", args=[platform.merchant.pk]),
             reverse("admin:ledger_account_changelist") + f"?merchant__id__exact={platform.merchant.pk}"]
    for page in pages:
        # when the officer opens the page
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page)
        # then it renders and writes nothing
        assert response.status_code == 200, page
        assert _inserts(queries) == [], page
    assert not Account.objects.filter(member=member_without_accounts).exists()
