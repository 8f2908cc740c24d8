"""Reversals: a new entry with every posting negated, pointing at what it reverses; once only;
never a reversal of a reversal; never an entry whose workflow is still in flight."""
import itertools
from decimal import Decimal

import pytest

from core.errors import (
    AccountFrozen,
    InsufficientFunds,
    InvalidState,
    PermissionRefused,
    ValidationFailed,
)
from core.models import AuditEvent
from ledger.models import EntryType, JournalEntry
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services import deposits
from ledger.services.accounts import account_freeze, member_accounts
from ledger.services.holds import hold_create, hold_release
from ledger.services.reversal import entry_reverse, reversal_blocker
from ledger.services.withdrawals import withdrawal_reject, withdrawal_request
from merchants.models import Merchant
from merchants.services.members import bank_card_add
from tests import factories as f

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def credited(amount="500.00"):
    """A member whose deposit was credited; returns (merchant, member, the deposit's entry)."""
    merchant = f.active_merchant()
    member = f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount,
                                        order_no=f"R-{next(_n)}", method="offline_transfer")
    deposit = deposits.deposit_credit(deposit=deposit, actor=None, amount=amount, proof_kind="statement_line",
                                      proof_reference=f"SR-{deposit.pk}")
    return merchant, member, deposit.entry


def test_a_reversal_negates_every_posting_and_points_at_the_original():
    # given a deposit credited by mistake
    merchant, member, entry = credited("500.00")
    ops = f.ops()
    # when operations reverse it with a reason
    reversal = entry_reverse(entry=entry, actor=ops, reason="Credited to the wrong member")
    # then a new entry negates every posting, refers to the original and books the money back out
    assert reversal.entry_type == EntryType.REVERSAL and reversal.reverses == entry
    assert reversal.idempotency_ref == f"reversal:{entry.pk}" and reversal.actor_user == ops
    original = sorted((p.account_id, p.amount) for p in entry.postings.all())
    negated = sorted((p.account_id, -p.amount) for p in reversal.postings.all())
    assert original == negated
    assert member_balance(member)["available"] == 0
    assert account_balances(merchant)["supervision"] == 0
    assert prove_merchant(merchant).ok
    assert AuditEvent.objects.filter(content_type__model="journalentry", object_id=str(entry.pk),
                                     action="reverse", reason="Credited to the wrong member").exists()


def test_an_entry_is_reversed_at_most_once_and_a_reversal_never():
    merchant, _member, entry = credited()
    ops = f.ops()
    reversal = entry_reverse(entry=entry, actor=ops, reason="Wrong member")
    with pytest.raises(InvalidState) as twice:
        entry_reverse(entry=entry, actor=ops, reason="again")
    assert f"#{reversal.pk}" in str(twice.value.message)
    with pytest.raises(InvalidState) as of_reversal:
        entry_reverse(entry=reversal, actor=ops, reason="undo the undo")
    assert "reversal can't be reversed" in str(of_reversal.value.message)
    assert JournalEntry.objects.filter(entry_type=EntryType.REVERSAL).count() == 1
    assert prove_merchant(merchant).ok


@pytest.mark.parametrize("role", ["rm", "risk", "auditor"])
def test_only_operations_reverse(role):
    merchant, _member, entry = credited()
    user = merchant.relationship_manager if role == "rm" else getattr(f, role)()
    with pytest.raises(PermissionRefused):
        entry_reverse(entry=entry, actor=user, reason="x")
    with pytest.raises(PermissionRefused):
        entry_reverse(entry=entry, actor=None, reason="a system job may not either")
    assert not JournalEntry.objects.filter(reverses=entry).exists()


def test_a_reason_is_required():
    _merchant, _member, entry = credited()
    with pytest.raises(ValidationFailed):
        entry_reverse(entry=entry, actor=f.ops(), reason="  ")
    assert not JournalEntry.objects.filter(reverses=entry).exists()


def test_a_reversal_that_would_overdraw_an_account_is_refused():
    # given the deposited money was already frozen for a withdrawal
    merchant, member, entry = credited("500.00")
    card = bank_card_add(member=member, actor=None, account_number="6222020200001234567", account_name=member.name,
                         bank_name="ICBC")
    withdrawal_request(merchant=merchant, actor=None, member=member, amount="500.00", bank_card=card, order_no="W-1")
    # when the deposit is reversed, then the member's available balance can't go below zero
    with pytest.raises(InsufficientFunds):
        entry_reverse(entry=entry, actor=f.ops(), reason="Wrong member")
    assert not JournalEntry.objects.filter(reverses=entry).exists()
    assert member_balance(member) == {"available": Decimal("0.00"), "frozen": Decimal("500.00")}
    assert prove_merchant(merchant).ok


def test_a_reversal_takes_nothing_out_of_a_frozen_account():
    merchant, member, entry = credited()
    available, _frozen = member_accounts(member)
    account_freeze(account=available, actor=f.risk(), reason="Investigation")
    with pytest.raises(AccountFrozen):
        entry_reverse(entry=entry, actor=f.ops(), reason="Wrong member")
    assert prove_merchant(merchant).ok


def test_entries_of_a_workflow_in_flight_are_corrected_through_the_workflow():
    merchant, member, _entry = credited("500.00")
    Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=Decimal("100.00"))
    merchant.refresh_from_db()
    card = bank_card_add(member=member, actor=None, account_number="6222020200001234567", account_name=member.name,
                         bank_name="ICBC")
    ops, risk = f.ops(), f.risk()
    # a withdrawal waiting for approval
    withdrawal, _ = withdrawal_request(merchant=merchant, actor=None, member=member, amount="200.00", bank_card=card,
                                       order_no="W-9")
    with pytest.raises(InvalidState) as err:
        entry_reverse(entry=withdrawal.request_entry, actor=ops, reason="Undo")
    assert "W-9" in str(err.value.message) and "reject" in str(err.value.message)
    # an active hold
    hold = hold_create(member=member, actor=risk, amount="50.00", reason="Review")
    with pytest.raises(InvalidState) as err:
        entry_reverse(entry=hold.entry, actor=ops, reason="Undo")
    assert "release the hold" in str(err.value.message)
    # once the workflows are final, the rule no longer applies (the balances decide)
    withdrawal_reject(withdrawal=withdrawal, actor=risk, reason="No")
    hold_release(hold=hold, actor=risk, reason="Done")
    assert reversal_blocker(withdrawal.request_entry) is None and reversal_blocker(hold.entry) is None
    assert prove_merchant(merchant).ok
