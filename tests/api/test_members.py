"""Members, balances, statement lines and bank cards."""
from datetime import date
from decimal import Decimal

import pytest

from jianguan_client import JianguanError
from ledger.api import extensions
from merchants.models import BankCard
from tests import factories as f

from .conftest import add_member, error_of, fund

pytestmark = pytest.mark.django_db


def test_a_member_is_registered_and_read_back_masked(platform):
    created = platform.client.create_member(user_id="u-1001", name="Li Lei", kind="individual",
                                            id_number="110101199003071234", phone="13812345678",
                                            roles=["buyer", "seller"])
    assert created["status"] == "active"
    fetched = platform.client.get_member("u-1001")
    assert fetched == created
    assert fetched["id_number"] == "110***********1234"
    assert fetched["phone"] == "138****5678"
    assert set(fetched) >= {"user_id", "name", "kind", "status", "roles", "created_at"}
    assert fetched["roles"] == ["buyer", "seller"]


def test_a_business_member_waits_for_verification(platform):
    created = platform.client.create_member(user_id="b-1", name="Acme Co", kind="business", roles=["seller"])
    assert created["status"] == "pending_verification"


def test_a_user_id_is_unique_per_merchant(platform, other_platform):
    add_member(platform, "u-1")
    add_member(other_platform, "u-1")  # another merchant may use the same id
    with pytest.raises(JianguanError) as err:
        add_member(platform, "u-1")
    assert (err.value.status, err.value.code) == (409, "duplicate")


def test_an_unknown_member_is_not_found(platform):
    with pytest.raises(JianguanError) as err:
        platform.client.get_member("nobody")
    assert (err.value.status, err.value.code) == (404, "not_found")


def test_the_balance_has_available_frozen_and_no_credit_by_default(platform):
    add_member(platform, "u-1")
    fund(platform, "u-1", "120.50")
    assert platform.client.get_balance("u-1") == {"available": "120.50", "frozen": "0.00", "currency": "CNY",
                                                  "credit": None}


def test_the_credit_app_plugs_its_summary_into_the_balance(platform, monkeypatch):
    add_member(platform, "u-1")

    def provider(member):
        if member.user_id == "u-1":
            return {"limit": Decimal("5000"), "used": Decimal("1200.5"), "available": Decimal("3799.5")}
        return None

    monkeypatch.setattr(extensions, "credit_summary_providers", [provider])
    assert platform.client.get_balance("u-1")["credit"] == {"limit": "5000.00", "used": "1200.50",
                                                           "available": "3799.50"}


def test_statement_lines_are_newest_first_signed_and_paginated(platform):
    # given a member who received three deposits and paid once
    add_member(platform, "u-1")
    add_member(platform, "u-2")
    for amount in ("10.00", "20.00", "30.00"):
        fund(platform, "u-1", amount)
    platform.client.create_payment(payer_user_id="u-1", payee_user_id="u-2", amount="5.00", order_no="P-1",
                                   mode="direct")
    # when the statement is read two lines at a time
    first = platform.client.list_entries("u-1", limit=2)
    second = platform.client.list_entries("u-1", limit=2, cursor=first["next"])
    # then lines come newest first, signed from the member's side, with running balances
    lines = first["results"] + second["results"]
    assert second["next"] is None
    assert [line["amount"] for line in lines] == ["-5.00", "30.00", "20.00", "10.00"]
    assert [line["balance_after"] for line in lines] == ["55.00", "60.00", "30.00", "10.00"]
    assert lines[0]["entry_type"] == "payment"
    assert lines[0]["order_no"] == "P-1"
    assert lines[0]["counterparty_user_id"] == "u-2"
    assert lines[1]["counterparty_user_id"] is None
    assert set(lines[0]) >= {"id", "entry_type", "amount", "balance_after", "order_no", "counterparty_user_id",
                             "created_at"}
    # and the client follows the cursors by itself
    assert [line["id"] for line in platform.client.iter_entries("u-1")] == [line["id"] for line in lines]


def test_statement_lines_filter_by_business_date(platform):
    add_member(platform, "u-1")
    fund(platform, "u-1", "10.00", business_date=date(2024, 1, 2))
    fund(platform, "u-1", "20.00")
    only = platform.client.list_entries("u-1", date_from="2024-01-01", date_to="2024-01-31")["results"]
    assert [line["amount"] for line in only] == ["10.00"]
    rest = platform.client.list_entries("u-1", date_from="2024-02-01")["results"]
    assert [line["amount"] for line in rest] == ["20.00"]


@pytest.mark.parametrize("query", ["from=2024-13-01", "to=yesterday", "from=2024-02-01&to=2024-01-01",
                                   "cursor=not-a-cursor", "cursor=eyJiZWZvcmUiOiAiMSJ9", "limit=0",
                                   "limit=1000", "limit=abc"])
def test_bad_statement_queries_answer_400(platform, raw_api, query):
    add_member(platform, "u-1")
    response = raw_api.as_platform(platform, "GET", f"/api/v1/members/u-1/entries?{query}")
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_request"


def test_an_individuals_card_in_their_own_name_verifies_at_once(platform):
    add_member(platform, "u-1", name="Li Lei")
    card = platform.client.add_bank_card("u-1", account_number="6222 0202 0011 2233 445", account_name="Li Lei",
                                         bank_name="ICBC")
    assert card["verified"] is True
    assert card["masked_number"] == "6222***********3445"
    assert platform.client.list_bank_cards("u-1") == [card]


def test_a_business_card_verifies_by_micro_deposit(platform):
    # given a business member's card
    add_member(platform, "b-1", kind="business", name="Acme Co")
    card = platform.client.add_bank_card("b-1", account_number="6222020200112233445", account_name="Acme Co",
                                         bank_name="ICBC")
    assert card["verified"] is False
    amount = BankCard.objects.get(pk=card["id"]).micro_deposit_amount
    # (before the bank has paid the micro-deposit there is nothing to read back)
    with pytest.raises(JianguanError) as err:
        platform.client.verify_bank_card("b-1", card["id"], amount=amount)
    assert (err.value.status, err.value.code) == (409, "invalid_state")
    f.micro_deposit_paid(BankCard.objects.get(pk=card["id"]))
    wrong = Decimal("0.99") if amount != Decimal("0.99") else Decimal("0.98")
    # a wrong amount is refused (and counted)
    with pytest.raises(JianguanError) as err:
        platform.client.verify_bank_card("b-1", card["id"], amount=wrong)
    assert (err.value.status, err.value.code) == (400, "invalid_amount")
    # the right one verifies the card and the member
    verified = platform.client.verify_bank_card("b-1", card["id"], amount=amount)
    assert verified["verified"] is True
    assert platform.client.get_member("b-1")["status"] == "active"


def test_bad_card_numbers_and_other_members_cards(platform, other_platform):
    add_member(platform, "u-1", name="Li Lei")
    add_member(platform, "u-2")
    with pytest.raises(JianguanError) as err:
        platform.client.add_bank_card("u-1", account_number="12ab", account_name="Li Lei", bank_name="ICBC")
    assert (err.value.status, err.value.code) == (400, "invalid_request")
    assert "account_number" in err.value.details
    card = platform.client.add_bank_card("u-1", account_number="6222020200112233445", account_name="Li Lei",
                                         bank_name="ICBC")
    with pytest.raises(JianguanError) as err:
        platform.client.verify_bank_card("u-2", card["id"], amount="0.10")
    assert err.value.status == 404
    add_member(other_platform, "u-1")
    with pytest.raises(JianguanError) as err:
        other_platform.client.verify_bank_card("u-1", card["id"], amount="0.10")
    assert err.value.status == 404
    # verifying a card that is already verified changes nothing
    assert platform.client.verify_bank_card("u-1", card["id"], amount="0.10")["verified"] is True


def test_the_hot_paths_take_few_queries(platform, raw_api, django_assert_max_num_queries):
    add_member(platform, "u-1")
    # signature check (merchant, secrets, nonce) + the read
    with django_assert_max_num_queries(6):
        assert raw_api.as_platform(platform, "GET", "/api/v1/members/u-1").status_code == 200
    # + idempotency: the key's lock, claim, completion and unlock around the deposit's own queries,
    # among them the announcement's audit record (its chain's lock, the chain's head, the insert)
    with django_assert_max_num_queries(21):
        response = raw_api.as_platform(platform, "POST", "/api/v1/deposits", body={
            "user_id": "u-1", "amount": "1.00", "order_no": "D-q", "method": "offline_transfer"})
        assert response.status_code == 201
