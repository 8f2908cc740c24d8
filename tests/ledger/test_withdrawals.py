"""Withdrawals: funds frozen at request, threshold routing, maker-checker, money back on
reject/fail, money out of the supervision account on paid; total = sum of parts after each step."""
import itertools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.errors import (
    AccountFrozen,
    CardNotVerified,
    DuplicateOrder,
    InsufficientFunds,
    InvalidState,
    MemberFrozen,
    MerchantFrozen,
    NotFound,
    PermissionRefused,
    ValidationFailed,
)
from core.models import AuditEvent
from ledger import calendar
from ledger.models import EntryType, JournalEntry, Withdrawal
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services import withdrawals as w
from ledger.services.accounts import account_freeze, member_accounts
from merchants.models import Merchant
from merchants.services.lifecycle import merchant_freeze
from merchants.services.members import bank_card_add, member_freeze
from tests import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def card_for(member, *, verified=True):
    return bank_card_add(member=member, actor=None, account_number="6222020200001234567",
                                           account_name=member.name if verified else "Somebody Else",
                                           bank_name="ICBC Jinan")


def funded(amount="1000.00", *, threshold=None):
    merchant = f.active_merchant()
    if threshold is not None:
        Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=Decimal(threshold))
        merchant.refresh_from_db()
    seller = f.member(merchant)
    f.funded(seller, amount)
    return merchant, seller, card_for(seller)


def request(merchant, member, card, amount, order_no=None, actor=None):
    return w.withdrawal_request(merchant=merchant, actor=actor, member=member, amount=amount, bank_card=card,
                                order_no=order_no or f"W-{next(_n)}")


def pending(amount="800.00", *, actor=None):
    """A member with 1000.00 and a withdrawal waiting for approval (threshold 500.00)."""
    merchant, seller, card = funded("1000.00", threshold="500.00")
    withdrawal, _ = request(merchant, seller, card, amount, actor=actor)
    assert withdrawal.status == Withdrawal.Status.PENDING_APPROVAL
    return merchant, seller, withdrawal


def bal(member):
    b = member_balance(member)
    return b["available"], b["frozen"]


# --- requesting ------------------------------------------------------------------------------

def test_a_withdrawal_under_the_threshold_freezes_the_money_and_is_approved_at_once():
    # given a seller with 1000.00
    merchant, seller, card = funded("1000.00")
    # when they withdraw 300.00 (under the default 50,000.00 threshold)
    withdrawal, created = request(merchant, seller, card, "300.00", order_no="W-1")
    # then the money moves from available to frozen at once, and no approval is needed
    assert created and withdrawal.status == Withdrawal.Status.APPROVED
    assert bal(seller) == (Decimal("700.00"), Decimal("300.00"))
    assert withdrawal.request_entry.entry_type == EntryType.WITHDRAWAL_REQUEST
    assert withdrawal.value_date is not None
    assert account_balances(merchant)["supervision"] == Decimal("1000.00")  # nothing left the bank yet
    assert prove_merchant(merchant).ok
    assert AuditEvent.objects.filter(object_id=str(withdrawal.pk), action="request", to_state="approved").exists()


@pytest.mark.parametrize("amount, status", [("500.00", "approved"), ("500.01", "pending_approval")])
def test_only_amounts_above_the_threshold_wait_for_approval(amount, status):
    merchant, seller, card = funded("1000.00", threshold="500.00")
    withdrawal, _ = request(merchant, seller, card, amount)
    assert withdrawal.status == status
    assert prove_merchant(merchant).ok


def test_the_value_date_follows_the_business_calendar(monkeypatch):
    # given it is Friday 2025-01-10 17:00 in Shanghai, after the 16:30 cut-off
    friday_evening = datetime(2025, 1, 10, 17, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(w, "value_date_for", lambda: calendar.value_date_for(friday_evening))
    merchant, seller, card = funded()
    # when a withdrawal is requested, then its value date is the next working day, Monday
    withdrawal, _ = request(merchant, seller, card, "10.00")
    assert withdrawal.value_date == date(2025, 1, 13)


def test_insufficient_funds_write_nothing():
    merchant, seller, card = funded("100.00")
    entries_before = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds):
        request(merchant, seller, card, "100.01", order_no="W-big")
    assert not Withdrawal.objects.filter(order_no="W-big").exists()
    assert JournalEntry.objects.count() == entries_before
    assert bal(seller) == (Decimal("100.00"), Decimal("0.00"))
    assert prove_merchant(merchant).ok


def test_only_a_verified_card_of_the_member_is_paid_to():
    merchant, seller, _card = funded()
    unverified = card_for(seller, verified=False)
    with pytest.raises(CardNotVerified) as err:
        request(merchant, seller, unverified, "10.00")
    assert err.value.status == 422
    someone_elses = card_for(f.member(merchant))
    with pytest.raises(NotFound):
        request(merchant, seller, someone_elses, "10.00")
    assert not Withdrawal.objects.exists() and bal(seller) == (Decimal("1000.00"), Decimal("0.00"))


def test_a_member_of_another_merchant_is_not_found():
    _merchant, seller, card = funded()
    with pytest.raises(NotFound):
        request(f.active_merchant(), seller, card, "10.00")


def test_a_frozen_member_or_merchant_cannot_request():
    merchant, seller, card = funded()
    member_freeze(member=seller, actor=f.risk(), reason="Court order")
    seller.refresh_from_db()
    with pytest.raises(MemberFrozen):
        request(merchant, seller, card, "10.00")
    other_merchant, other_seller, other_card = funded()
    merchant_freeze(merchant=other_merchant, actor=f.risk(), reason="Investigation")
    other_merchant.refresh_from_db()
    with pytest.raises(MerchantFrozen):
        request(other_merchant, other_seller, other_card, "10.00")
    assert not Withdrawal.objects.exists()


def test_a_frozen_available_account_lets_nothing_out():
    merchant, seller, card = funded()
    available, _frozen = member_accounts(seller)
    account_freeze(account=available, actor=f.risk(), reason="Suspicious inflows")
    with pytest.raises(AccountFrozen):
        request(merchant, seller, card, "10.00")
    assert not Withdrawal.objects.exists()


def test_the_same_order_twice_books_once_and_a_reused_order_number_is_refused():
    merchant, seller, card = funded()
    first, created = request(merchant, seller, card, "100.00", order_no="W-same")
    again, created_again = request(merchant, seller, card, "100.00", order_no="W-same")
    assert created and not created_again and again.pk == first.pk
    assert bal(seller) == (Decimal("900.00"), Decimal("100.00"))
    with pytest.raises(DuplicateOrder):
        request(merchant, seller, card, "100.01", order_no="W-same")
    assert prove_merchant(merchant).ok


@pytest.mark.parametrize("bad", ["0.00", "-1.00", "1.001", 10.5])
def test_bad_amounts_are_refused(bad):
    from core.errors import InvalidAmount

    merchant, seller, card = funded()
    with pytest.raises(InvalidAmount):
        request(merchant, seller, card, bad)


# --- approving and rejecting (maker-checker) -------------------------------------------------

@pytest.mark.parametrize("step", ["approve", "reject"])
@pytest.mark.parametrize("role, allowed", [("rm", False), ("risk", True), ("ops", True), ("auditor", False)])
def test_who_may_approve_or_reject(role, allowed, step):
    merchant, seller, withdrawal = pending("800.00")
    user = merchant.relationship_manager if role == "rm" else getattr(f, role)()
    service = getattr(w, f"withdrawal_{step}")
    if allowed:
        decided = service(withdrawal=withdrawal, actor=user, reason="Checked with the seller")
        assert decided.status == ("approved" if step == "approve" else "rejected") and decided.decided_by == user
        assert bal(seller) == ((Decimal("200.00"), Decimal("800.00")) if step == "approve"
                               else (Decimal("1000.00"), Decimal("0.00")))
    else:
        with pytest.raises(PermissionRefused):
            service(withdrawal=withdrawal, actor=user, reason="x")
        withdrawal.refresh_from_db()
        assert withdrawal.status == Withdrawal.Status.PENDING_APPROVAL
        assert bal(seller) == (Decimal("200.00"), Decimal("800.00"))
    assert prove_merchant(merchant).ok


def test_the_requester_may_neither_approve_nor_reject_their_own_withdrawal():
    # given an operations officer who keyed in a withdrawal for a member (e.g. over the counter)
    maker = f.ops()
    _merchant, _seller, withdrawal = pending(actor=maker)
    assert withdrawal.requested_by == maker
    # when they try to approve or reject it themselves, then both are refused
    with pytest.raises(PermissionRefused):
        w.withdrawal_approve(withdrawal=withdrawal, actor=maker)
    with pytest.raises(PermissionRefused):
        w.withdrawal_reject(withdrawal=withdrawal, actor=maker, reason="mine")
    # and a second officer may
    w.withdrawal_approve(withdrawal=withdrawal, actor=f.ops())
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED


def test_a_platform_or_system_actor_cannot_approve():
    from core.actors import Actor

    _merchant, _seller, withdrawal = pending()
    with pytest.raises(PermissionRefused):
        w.withdrawal_approve(withdrawal=withdrawal, actor=Actor.platform("app"))
    with pytest.raises(PermissionRefused):
        w.withdrawal_reject(withdrawal=withdrawal, actor=None, reason="x")


def test_reject_needs_a_reason_and_returns_the_money_and_the_platform_is_told():
    merchant, seller, withdrawal = pending("800.00")
    events = f.listening(merchant)
    officer = f.risk()
    with pytest.raises(ValidationFailed):
        w.withdrawal_reject(withdrawal=withdrawal, actor=officer, reason="  ")
    assert bal(seller) == (Decimal("200.00"), Decimal("800.00"))
    rejected = w.withdrawal_reject(withdrawal=withdrawal, actor=officer, reason="Card holder name mismatch")
    assert rejected.status == Withdrawal.Status.REJECTED and rejected.reason == "Card holder name mismatch"
    assert rejected.final_entry.entry_type == EntryType.WITHDRAWAL_RETURN
    assert bal(seller) == (Decimal("1000.00"), Decimal("0.00"))
    assert prove_merchant(merchant).ok
    assert events() == [("withdrawal.rejected", {
        "id": withdrawal.pk, "user_id": seller.user_id, "order_no": withdrawal.order_no, "amount": "800.00",
        "status": "rejected", "value_date": rejected.value_date.isoformat(), "bank_reference": "",
        "reason": "Card holder name mismatch"})]
    # and it can't be decided twice
    with pytest.raises(InvalidState):
        w.withdrawal_approve(withdrawal=rejected, actor=f.risk())


# --- processing and the outcome ----------------------------------------------------------------

@pytest.mark.parametrize("role, allowed", [("rm", False), ("risk", False), ("ops", True), ("auditor", False)])
def test_who_may_send_to_the_bank(role, allowed):
    merchant, seller, card = funded()
    withdrawal, _ = request(merchant, seller, card, "100.00")
    user = merchant.relationship_manager if role == "rm" else getattr(f, role)()
    if allowed:
        assert w.withdrawal_process(withdrawal=withdrawal, actor=user).status == Withdrawal.Status.PROCESSING
    else:
        with pytest.raises(PermissionRefused):
            w.withdrawal_process(withdrawal=withdrawal, actor=user)


def test_a_withdrawal_waiting_for_approval_cannot_be_sent_to_the_bank():
    _merchant, _seller, withdrawal = pending()
    with pytest.raises(InvalidState):
        w.withdrawal_process(withdrawal=withdrawal, actor=f.ops())


def test_paid_money_leaves_the_supervision_account_and_the_platform_is_told():
    merchant, seller, withdrawal = pending("800.00")
    events = f.listening(merchant)
    ops = f.ops()
    w.withdrawal_approve(withdrawal=withdrawal, actor=f.risk())
    w.withdrawal_process(withdrawal=withdrawal, actor=ops)
    paid = w.withdrawal_mark_paid(withdrawal=withdrawal, actor=ops, bank_reference="CNAPS-0001")
    assert paid.status == Withdrawal.Status.PAID and paid.bank_reference == "CNAPS-0001"
    assert paid.final_entry.entry_type == EntryType.WITHDRAWAL_PAID
    assert bal(seller) == (Decimal("200.00"), Decimal("0.00"))
    assert account_balances(merchant)["supervision"] == Decimal("200.00")
    assert prove_merchant(merchant).ok
    sent = events()
    assert [e for e, _ in sent] == ["withdrawal.paid"]
    assert sent[0][1]["amount"] == "800.00" and sent[0][1]["user_id"] == seller.user_id
    with pytest.raises(InvalidState):
        w.withdrawal_mark_failed(withdrawal=paid, actor=ops, reason="late")


def test_a_failed_payout_returns_the_money_and_the_platform_is_told():
    merchant, seller, card = funded("1000.00")
    events = f.listening(merchant)
    withdrawal, _ = request(merchant, seller, card, "400.00")
    ops = f.ops()
    w.withdrawal_process(withdrawal=withdrawal, actor=ops)
    with pytest.raises(ValidationFailed):
        w.withdrawal_mark_failed(withdrawal=withdrawal, actor=ops, reason="")
    failed = w.withdrawal_mark_failed(withdrawal=withdrawal, actor=ops, reason="Beneficiary account closed")
    assert failed.status == Withdrawal.Status.FAILED
    assert bal(seller) == (Decimal("1000.00"), Decimal("0.00"))
    assert account_balances(merchant)["supervision"] == Decimal("1000.00")
    assert prove_merchant(merchant).ok
    assert [e for e, _ in events()] == ["withdrawal.failed"]


@pytest.mark.parametrize("role", ["rm", "risk", "auditor"])
def test_only_operations_record_the_outcome(role):
    merchant, seller, card = funded()
    withdrawal, _ = request(merchant, seller, card, "100.00")
    w.withdrawal_process(withdrawal=withdrawal, actor=f.ops())
    user = merchant.relationship_manager if role == "rm" else getattr(f, role)()
    with pytest.raises(PermissionRefused):
        w.withdrawal_mark_paid(withdrawal=withdrawal, actor=user)
    with pytest.raises(PermissionRefused):
        w.withdrawal_mark_failed(withdrawal=withdrawal, actor=user, reason="x")
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PROCESSING and prove_merchant(merchant).ok


def test_a_frozen_members_withdrawal_in_flight_can_be_rejected_or_failed_but_not_paid_out_further():
    # given two withdrawals in flight: one waiting for approval, one approved
    merchant, seller, card = funded("1000.00", threshold="500.00")
    waiting, _ = request(merchant, seller, card, "600.00")
    approved, _ = request(merchant, seller, card, "100.00")
    processing, _ = request(merchant, seller, card, "50.00")
    w.withdrawal_process(withdrawal=processing, actor=f.ops())
    # when risk freezes the member
    member_freeze(member=seller, actor=f.risk(), reason="Fraud report")
    # then nothing moves towards the bank
    with pytest.raises(MemberFrozen):
        w.withdrawal_approve(withdrawal=waiting, actor=f.risk())
    with pytest.raises(MemberFrozen):
        w.withdrawal_process(withdrawal=approved, actor=f.ops())
    # but the money can go back to the member
    w.withdrawal_reject(withdrawal=waiting, actor=f.risk(), reason="Member frozen")
    w.withdrawal_mark_failed(withdrawal=processing, actor=f.ops(), reason="Recalled")
    assert bal(seller) == (Decimal("900.00"), Decimal("100.00"))
    assert prove_merchant(merchant).ok


def test_a_frozen_merchant_sends_nothing_to_the_bank():
    merchant, seller, card = funded()
    withdrawal, _ = request(merchant, seller, card, "100.00")
    merchant_freeze(merchant=merchant, actor=f.risk(), reason="Investigation")
    with pytest.raises(MerchantFrozen):
        w.withdrawal_process(withdrawal=withdrawal, actor=f.ops())
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED


def test_every_step_is_in_the_audit_trail():
    _merchant, _seller, withdrawal = pending()
    ops = f.ops()
    w.withdrawal_approve(withdrawal=withdrawal, actor=f.risk(), reason="Known seller")
    w.withdrawal_process(withdrawal=withdrawal, actor=ops)
    w.withdrawal_mark_paid(withdrawal=withdrawal, actor=ops, bank_reference="B1")
    actions = list(AuditEvent.objects.filter(content_type__model="withdrawal", object_id=str(withdrawal.pk))
                   .order_by("id").values_list("action", "to_state"))
    assert actions == [("request", "pending_approval"), ("approve", "approved"), ("process", "processing"),
                       ("mark_paid", "paid")]


# --- concurrency (real transactions, real threads) ----------------------------------------------

def _in_threads(*calls):
    import threading

    from django.db import connection

    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as err:
            results[i] = err
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_withdrawals_racing_for_the_same_money_book_one():
    merchant, seller, card = funded("1000.00")
    results = _in_threads(*[lambda i=i: request(merchant, seller, card, "600.00", order_no=f"RACE-{i}")
                            for i in range(2)])
    assert sorted(type(r).__name__ for r in results) == ["InsufficientFunds", "tuple"]
    assert bal(seller) == (Decimal("400.00"), Decimal("600.00"))
    assert Withdrawal.objects.count() == 1 and prove_merchant(merchant).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_order_sent_twice_at_once_books_once():
    merchant, seller, card = funded("1000.00")
    results = _in_threads(*[lambda: request(merchant, seller, card, "100.00", order_no="TWICE")] * 2)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _w, created in results) == [False, True]
    assert len({w.pk for w, _ in results}) == 1
    assert bal(seller) == (Decimal("900.00"), Decimal("100.00")) and prove_merchant(merchant).ok


def test_a_frozen_account_stops_the_payout_at_the_bank_gate_but_not_a_recorded_outcome():
    # given two approved withdrawals, one already sent to the bank
    merchant, seller, card = funded("1000.00")
    waiting, _ = request(merchant, seller, card, "100.00")
    sent, _ = request(merchant, seller, card, "200.00")
    ops, risk = f.ops(), f.risk()
    w.withdrawal_process(withdrawal=sent, actor=ops)
    # when risk freezes the supervision account, nothing more is sent to the bank
    from ledger.models import AccountKind
    from ledger.services.accounts import account_unfreeze, platform_account

    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    account_freeze(account=supervision, actor=risk, reason="Regulator inquiry")
    with pytest.raises(AccountFrozen):
        w.withdrawal_process(withdrawal=waiting, actor=ops)
    account_unfreeze(account=supervision, actor=risk, reason="Closed")
    # nor when the member's frozen balance is frozen
    _available, frozen_bucket = member_accounts(seller)
    account_freeze(account=frozen_bucket, actor=risk, reason="Court order")
    with pytest.raises(AccountFrozen):
        w.withdrawal_process(withdrawal=waiting, actor=ops)
    # but what the bank already paid is recorded as it happened
    paid = w.withdrawal_mark_paid(withdrawal=sent, actor=ops, bank_reference="B-9")
    assert paid.status == Withdrawal.Status.PAID
    assert bal(seller) == (Decimal("700.00"), Decimal("100.00"))
    assert account_balances(merchant)["supervision"] == Decimal("800.00")
    assert prove_merchant(merchant).ok
