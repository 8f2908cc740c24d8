"""An import books set-based (deposits credited and lines parked in bulk) and every ledger
invariant still holds: one entry per deposit with its order, one suspense entry per parked line,
running balances on the postings, hot deltas, the hash-chained audit trail, the events."""
from decimal import Decimal

import pytest

from core.audit import verify_chain
from core.errors import InvalidState, OrderMismatch
from core.models import AuditEvent
from ledger.models import AccountKind, Deposit, EntryType, HotBalanceDelta, JournalEntry, Posting
from ledger.selectors import prove_merchant
from ledger.services import deposits_bulk
from ledger.services.accounts import member_accounts, platform_account
from reconciliation.models import StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english, funded

pytestmark = pytest.mark.django_db
D = Decimal


def do_import(merchant, rows):
    return statement_import(account_number=merchant.supervision_account_number, stream=english(rows), actor=None)


def test_deposits_credited_in_bulk_keep_every_ledger_invariant(django_capture_on_commit_callbacks):
    # given three deposits of one member, and platform webhooks listening
    merchant = f.active_merchant()
    member = f.member(merchant)
    deposits = [announce(merchant, member, amount, f"D-{i}") for i, amount in enumerate(("100.00", "200.00", "300.00"))]
    sent = f.listening(merchant)
    # when one file pays all three
    with django_capture_on_commit_callbacks(execute=True):
        result = do_import(merchant, [(f"R{i}", "2026-11-24", str(d.amount), "A", "1", "B", d.payment_code, "")
                                      for i, d in enumerate(deposits)])
    # then each deposit has its own DEPOSIT entry, with its real order and the line's business date
    assert result.matched == 3
    for d in deposits:
        d.refresh_from_db()
        assert d.status == Deposit.Status.SUCCEEDED and d.proof_kind == "statement_line"
        entry = JournalEntry.objects.get(pk=d.entry_id)
        assert (entry.entry_type, entry.order_no, entry.payee_id, entry.order_amount, entry.idempotency_ref) == (
            EntryType.DEPOSIT, d.order_no, member.pk, d.amount, f"deposit:{d.pk}")
        assert str(entry.business_date) == "2026-11-24" and entry.description == d.payment_code
        assert sorted(Posting.objects.filter(entry=entry).values_list("amount", flat=True)) == [-d.amount, d.amount]
    # the member's postings carry the running balance, in entry order
    available, _frozen = member_accounts(member)
    assert list(Posting.objects.filter(account=available).order_by("id").values_list("balance_after", flat=True)) \
        == [D("100.00"), D("300.00"), D("600.00")]
    available.refresh_from_db()
    assert available.balance == D("600.00")
    # the supervision account (hot) got a delta instead of a lock, and the books prove
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    assert sum(HotBalanceDelta.objects.filter(account=supervision).values_list("change", flat=True)) == D("600.00")
    assert prove_merchant(merchant).ok
    # one "succeed" audit record per deposit, still one unbroken chain
    assert AuditEvent.objects.filter(action="succeed", object_id__in=[str(d.pk) for d in deposits]).count() == 3
    assert verify_chain() is None
    # and one deposit.succeeded event each, after commit
    assert sorted((kind, data["order_no"]) for kind, data in sent()) == [("deposit.succeeded", "D-0"), ("deposit.succeeded", "D-1"), ("deposit.succeeded", "D-2")]


def test_each_parked_line_is_its_own_suspense_entry():
    # given a file of three lines that no deposit explains
    merchant = f.active_merchant()
    do_import(merchant, [("R1", "2026-11-24", "10.00", "A", "1", "B", "x", ""),
                         ("R2", "2026-11-24", "20.00", "A", "1", "B", "x", ""),
                         ("R3", "2026-11-25", "30.00", "A", "1", "B", "x", "")])
    # then each line points at an entry of its own, for its amount, date and bank reference
    lines = list(StatementLine.objects.filter(merchant=merchant).order_by("line_no"))
    entries = [JournalEntry.objects.get(pk=x.suspense_entry_id) for x in lines]
    assert len({e.pk for e in entries}) == 3
    assert [(e.entry_type, e.order_no, e.order_amount, str(e.business_date)) for e in entries] == [
        ("suspense_in", "R1", D("10.00"), "2026-11-24"), ("suspense_in", "R2", D("20.00"), "2026-11-24"),
        ("suspense_in", "R3", D("30.00"), "2026-11-25")]
    suspense = platform_account(merchant, AccountKind.SUSPENSE)
    assert list(Posting.objects.filter(account=suspense).order_by("id").values_list("balance_after", flat=True)) \
        == [D("10.00"), D("30.00"), D("60.00")]
    assert prove_merchant(merchant).ok


def test_a_chunk_books_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    # given 60 deposits and 60 lines no deposit explains
    merchant = f.active_merchant()
    members = [f.member(merchant) for _ in range(3)]
    deposits = [announce(merchant, members[i % 3], f"{10 + i}.00", f"D-{i}") for i in range(60)]
    rows = [(f"R{i}", "2026-11-24", str(d.amount), "A", "1", "B", d.payment_code, "") for i, d in enumerate(deposits)]
    rows += [(f"U{i}", "2026-11-24", "5.00", "A", "1", "B", "x", "") for i in range(60)]
    # when they are imported, the statements do not grow with the lines (one per line before)
    with django_assert_max_num_queries(45):
        result = do_import(merchant, rows)
    assert (result.matched, result.unmatched) == (60, 60)
    assert prove_merchant(merchant).ok


def test_bulk_credit_refuses_what_deposit_credit_refuses_and_books_the_rest():
    # given deposits in every state
    merchant = f.active_merchant()
    member = f.member(merchant)
    ok = announce(merchant, member, "10.00", "D-OK")
    wrong_amount = announce(merchant, member, "20.00", "D-AMOUNT")
    already = funded(merchant, member, "30.00")  # credited on proof FUND-n
    entries_before = JournalEntry.objects.count()
    # when they are credited together
    outcomes = deposits_bulk.deposits_credit_bulk(merchant=merchant, actor=None, proof_kind="statement_line", credits=[
        deposits_bulk.Credit(ok.pk, D("10.00"), "L1"),
        deposits_bulk.Credit(wrong_amount.pk, D("21.00"), "L2"),
        deposits_bulk.Credit(already.pk, D("30.00"), "L3"),
        deposits_bulk.Credit(already.pk, D("30.00"), already.proof_reference),
    ])
    # then the good one is booked, the others come back with the reason and book nothing
    assert outcomes[ok.pk].ok and outcomes[ok.pk].entry_id
    assert isinstance(outcomes[wrong_amount.pk].error, OrderMismatch)
    assert isinstance(outcomes[already.pk].error, InvalidState)  # another proof: refused
    assert JournalEntry.objects.count() == entries_before + 1
    # and the same proof again is accepted without booking anything (as deposit_credit)
    again = deposits_bulk.deposits_credit_bulk(merchant=merchant, actor=None, proof_kind=already.proof_kind,
                                               credits=[deposits_bulk.Credit(already.pk, D("30.00"),
                                                                             already.proof_reference)])
    assert again[already.pk].ok and again[already.pk].entry_id == already.entry_id
    assert JournalEntry.objects.count() == entries_before + 1
    assert prove_merchant(merchant).ok and verify_chain() is None
