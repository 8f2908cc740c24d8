"""Complaint look-up: every kind of key finds the money's whole story, only among the merchants
the user may see, in a fixed number of queries, and every look-up is audited."""
import datetime

import pytest

from backoffice.selectors import complaints
from backoffice.services import complaint_lookup
from core.models import AuditEvent
from reconciliation.models import StatementBatch, StatementLine
from tests import factories as f

pytestmark = pytest.mark.django_db


def orders(result):
    return sorted(s.order_no for s in result.stories)


def test_an_order_number_shows_order_entries_postings_and_receipt(world, django_assert_max_num_queries):
    # given Alice's direct payment ORD-8842 (300.00, buyer-1 → seller-1)
    # when Alice looks it up
    with django_assert_max_num_queries(20):
        result = complaints.find(world.alice, "ORD-8842")
    # then one story: the payment, its entry with two postings, and the payment receipt
    assert orders(result) == ["ORD-8842"]
    story = result.stories[0]
    assert [o.kind for o in story.orders] == ["payment"]
    assert [e.entry_type for e in story.entries] == ["payment"]
    assert sorted(str(p.amount) for p in story.entries[0].postings.all()) == ["-300.00", "300.00"]
    assert [label for label, _url in story.receipts] and "/admin/receipts/receipt/download/payment/" in story.receipts[0][1]


def test_a_payment_code_finds_the_deposit_and_its_statement_line(world):
    # given M1's deposit DEP-1002, credited by a statement line
    batch = StatementBatch.objects.create(merchant=world.m1, account_number=world.m1.supervision_account_number)
    line = StatementLine.objects.create(
        merchant=world.m1, batch=batch, account_number=batch.account_number, line_no=1, bank_reference="B-77001",
        value_date=datetime.date(2026, 11, 10), business_date=datetime.date(2026, 11, 10), amount="500.00",
        remark=f"货款 {world.dep2.payment_code}", status="posted", deposit=world.dep2, entry_id=world.dep2.entry_id)
    # when the payment code is looked up (in lower case, as a caller might read it out)
    result = complaints.find(world.alice, world.dep2.payment_code.lower())
    # then the deposit's story: the order, the deposit entry and the statement line
    assert orders(result) == ["DEP-1002"]
    story = result.stories[0]
    assert [o.kind for o in story.orders] == ["deposit"]
    assert [e.pk for e in story.entries] == [world.dep2.entry_id]
    assert [l.pk for l in story.lines] == [line.pk]
    # and the bank reference finds the same story
    assert orders(complaints.find(world.alice, "B-77001")) == ["DEP-1002"]


def test_a_user_id_and_a_phone_find_the_member_and_their_recent_money(world):
    # when Alice looks up the buyer by user id, by phone, and by the masked phone
    by_id = complaints.find(world.alice, "buyer-1")
    by_phone = complaints.find(world.alice, "138 1234 5678")
    by_mask = complaints.find(world.alice, "138****5678")
    # then each finds Zhang San (masked phone only, with balances) and the orders he paid or received
    for result in (by_id, by_phone, by_mask):
        assert [m.user_id for m in result.members] == ["buyer-1"]
        assert result.members[0].phone_masked == "138****5678"
        assert {"DEP-1001", "DEP-1002", "ORD-8842"} <= set(orders(result))
    assert by_id.members[0].available == world.buyer.accounts.get(kind="member_available").balance


def test_a_bank_reference_of_a_withdrawal_and_an_entry_id(world):
    # given the paid withdrawal WD-3001 (bank reference BR20261120001)
    result = complaints.find(world.alice, "BR20261120001")
    assert orders(result) == ["WD-3001"]
    story = result.stories[0]
    assert [o.kind for o in story.orders] == ["withdrawal"]
    assert [label for label, _url in story.receipts]  # a paid withdrawal has its receipt
    # and an entry id finds its story (with or without "#")
    entry_id = world.payment.entry_id
    assert orders(complaints.find(world.alice, f"#{entry_id}")) == ["ORD-8842"]
    assert orders(complaints.find(world.alice, str(entry_id))) == ["ORD-8842"]


def test_a_credit_bill_order_shows_the_bill_and_its_repayment(world):
    result = complaints.find(world.alice, "CR-7001")
    assert orders(result) == ["CR-7001"]
    assert [o.kind for o in result.stories[0].orders] == ["credit_bill"]
    assert [e.entry_type for e in result.stories[0].entries] == ["credit_repayment"]


def test_another_rms_merchants_stay_invisible(world):
    # given Bob's merchant M2 with buyer-9 and DEP-2001
    # when Alice looks up Bob's order, member, phone and entry
    for query in ("DEP-2001", "buyer-9", "13900001111", world.dep3.payment_code, str(world.dep3.entry_id)):
        result = complaints.find(world.alice, query)
        # then she finds nothing
        assert result.count == 0, query
    # while Bob, and a risk officer, find it
    assert orders(complaints.find(world.bob, "DEP-2001")) == ["DEP-2001"]
    assert orders(complaints.find(f.risk(), "DEP-2001")) == ["DEP-2001"]


def test_the_look_up_is_audited_with_the_phone_masked(world):
    # when Alice looks up a phone number
    result = complaint_lookup(actor=world.alice, query="13812345678")
    # then the audit trail records who looked, the masked query and how much was found
    event = AuditEvent.objects.filter(action="complaint_lookup").latest("id")
    assert event.actor_id == world.alice.pk
    assert event.data["query"] == "138****5678" and "13812345678" not in str(event.data)
    assert event.data["results"] == result.count > 0
    assert event.data["merchants"] == [world.m1.pk]
    # and a look-up that finds nothing is audited too
    complaint_lookup(actor=world.alice, query="NO-SUCH-ORDER")
    assert AuditEvent.objects.filter(action="complaint_lookup").latest("id").data["results"] == 0


def test_a_too_short_query_searches_nothing_but_a_short_entry_id_is_looked_up(world):
    assert complaints.find(world.alice, "ab").count == 0
    assert complaints.find(world.alice, "#0").count == 0


def test_the_query_mask_hides_phone_numbers_only():
    assert complaints.mask_query("13812345678") == "138****5678"
    assert complaints.mask_query("+86 13812345678 order 7") == "+86 138****5678 order 7"
    assert complaints.mask_query("20261120001238123456789") == "20261120001238123456789"


def test_a_payment_released_in_parts_shows_each_part_and_its_receipt():
    # given a guaranteed payment of 100.00 released in two parts (30.00, then the rest)
    from ledger.services.payments import payment_create
    from ledger.services.releases import payment_release

    rm = f.rm()
    merchant = f.active_merchant(manager=rm)
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "100.00")
    payment, _created = payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00",
                                       order_no="STAGED-1", mode="guaranteed", splits=[(seller, "100.00")])
    payment_release(payment=payment, actor=None, amount="30.00")
    payment_release(payment=payment, actor=None)
    # when its relationship manager looks up the order
    story = complaints.find(rm, "STAGED-1").stories[0]
    # then both releases are in the story, each with its own receipt
    assert [e.entry_type for e in story.entries] == ["payment_hold", "payment_release", "payment_release"]
    release_receipts = [url for _label, url in story.receipts if "/download/release/" in url]
    assert [url.rsplit("part=", 1)[1] for url in release_receipts] == ["1", "2"]
    assert any("30.00" in str(label) for label, _url in story.receipts)
