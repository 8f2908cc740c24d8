"""Every matching outcome of an import, and the exception queue's manual operations."""
from decimal import Decimal

import pytest

from core.errors import InvalidState, OrderMismatch, PermissionRefused, ValidationFailed
from core.models import AuditEvent
from ledger.models import Deposit
from ledger.selectors import account_balances, prove_merchant
from ledger.services.accounts import member_accounts
from reconciliation.models import StatementLine
from reconciliation.services import exception_queue
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english, funded, verified_card, withdrawal

pytestmark = pytest.mark.django_db
D = Decimal


def do_import(merchant, rows):
    return statement_import(account_number=merchant.supervision_account_number, stream=english(rows), actor=None)


def line(ref):
    return StatementLine.objects.get(bank_reference=ref)


def available(member):
    account, _ = member_accounts(member)
    account.refresh_from_db()
    return account.balance


@pytest.fixture
def merchant():
    return f.active_merchant()


def test_the_batch_matcher_returns_each_line_s_outcome_for_the_caller_to_fold(merchant):
    import datetime

    from reconciliation.models import StatementBatch
    from reconciliation.services.batch_matcher import BatchMatcher
    from reconciliation.services.line_outcomes import (
        OUTCOME_DEPOSIT,
        OUTCOME_OUT_QUEUE,
        OUTCOME_SUSPENSE,
        NewLine,
    )

    # given a batch being imported with a proven deposit, unexplained money in and money out
    member = f.member(merchant)
    deposit = announce(merchant, member, "100.00", "D-1")
    batch = StatementBatch.objects.create(merchant=merchant, account_number=merchant.supervision_account_number)
    day = datetime.date(2026, 11, 24)

    def new(no, amount, remark):
        return NewLine(no, f"R{no}", day, day, D(amount), "A", "1", "B", remark, None)

    lines = [new(1, "100.00", f"code {deposit.payment_code}"), new(2, "5.00", "no code"), new(3, "-7.00", "out")]
    # when the matcher decides the chunk
    outcomes = BatchMatcher(batch, actor=None).match(lines)
    # then it returns one outcome per line (the lines carry what is to be stored), and books the deposit
    assert sorted((o.line.line_no, o.outcome) for o in outcomes) == [
        (1, OUTCOME_DEPOSIT), (2, OUTCOME_SUSPENSE), (3, OUTCOME_OUT_QUEUE)]
    assert lines[0].deposit_id == deposit.pk and lines[1].suspense_entry_id is not None
    assert all(o.detail for o in outcomes)
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED


def test_money_in_that_no_deposit_explains_waits_in_suspense_with_the_reason(merchant):
    member = f.member(merchant)
    deposit = announce(merchant, member, "100.00", "D-1")
    result = do_import(merchant, [
        ("R1", "2026-11-24", "100.00", "A", "1", "B", "no code at all", ""),                 # no code
        ("R2", "2026-11-24", "100.00", "A", "1", "B", "code ABCDEFGH23", ""),                # unknown code
        ("R3", "2026-11-24", "99.00", "A", "1", "B", f"code {deposit.payment_code}", ""),    # amount differs
    ])
    assert (result.matched, result.unmatched) == (0, 3)
    assert all(line(r).status == "unmatched" for r in ("R1", "R2", "R3"))
    assert "payment code" in line("R1").note.lower()
    assert "no open deposit" in line("R2").note.lower()
    assert "100.00" in line("R3").note and line("R3").candidate_deposit_id == deposit.pk
    # parked in suspense, so the books still add up
    balances = account_balances(merchant)
    assert balances["suspense"] == balances["supervision"] == D("299.00")
    assert prove_merchant(merchant).ok
    assert line("R1").suspense_entry_id is not None
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.AWAITING_FUNDS
    assert available(member) == 0


def test_a_code_paid_twice_credits_the_deposit_once(merchant):
    deposit = announce(merchant, f.member(merchant), "50.00", "D-2")
    result = do_import(merchant, [
        ("R1", "2026-11-24", "50.00", "A", "1", "B", deposit.payment_code, ""),
        ("R2", "2026-11-24", "50.00", "A", "1", "B", deposit.payment_code, ""),
    ])
    assert (result.matched, result.unmatched) == (1, 1)
    assert line("R2").status == "unmatched" and "already credited" in line("R2").note


def test_a_business_member_s_deposit_must_come_from_its_verified_account_name(merchant):
    company = f.member(merchant, kind="business", name="Shandong Grain Co Ltd")
    verified_card(company, name="Shandong Grain Co Ltd")
    ok = announce(merchant, company, "3000.00", "D-3")
    other = announce(merchant, company, "10.00", "D-4")
    result = do_import(merchant, [
        ("R1", "2026-11-24", "3,000.00", "Shandong Grain Co Ltd", "1", "B", ok.payment_code, ""),
        ("R2", "2026-11-24", "10.00", "Someone Else", "1", "B", other.payment_code, ""),
    ])
    assert (line("R1").status, line("R2").status) == ("posted", "unmatched")
    assert "verified account" in line("R2").note
    assert available(company) == D("3000.00")
    assert result.matched == 1


def test_money_out_matches_a_paid_withdrawal_by_reference_or_order_number(merchant):
    seller = f.member(merchant)
    funded(merchant, seller, "1000.00")
    by_order = withdrawal(merchant, seller, "300.00", "WD000123")
    by_reference = withdrawal(merchant, seller, "200.00", "WD000124", bank_reference="BANKREF9")
    processing = withdrawal(merchant, seller, "50.00", "WD000125", status="processing")
    supervision_before = account_balances(merchant)["supervision"]
    result = do_import(merchant, [
        ("R1", "2026-11-24", "-300.00", "Li Si", "1", "B", "withdrawal WD000123", ""),
        ("BANKREF9", "2026-11-24", "-200.00", "Li Si", "1", "B", "payout", ""),
        ("R3", "2026-11-24", "-50.00", "Li Si", "1", "B", "WD000125", ""),
        ("R4", "2026-11-24", "-7.00", "Bank", "1", "B", "fee", ""),
    ])
    assert (result.matched, result.unmatched) == (2, 2)
    assert (line("R1").status, line("R1").withdrawal_id, line("R1").entry_id) == (
        "matched", by_order.pk, by_order.final_entry_id)
    assert line("BANKREF9").withdrawal_id == by_reference.pk
    assert line("R3").status == "unmatched" and "paid" in line("R3").note and processing.order_no in line("R3").note
    assert line("R4").status == "unmatched" and line("R4").entry_id is None
    # money out is never booked from the statement
    assert account_balances(merchant)["supervision"] == supervision_before


# --- the exception queue ---------------------------------------------------------------------

@pytest.fixture
def parked(merchant):
    do_import(merchant, [("R1", "2026-11-24", "80.00", "Zhao", "1", "B", "mistyped code", "")])
    return line("R1")


def test_operations_match_parked_money_to_a_deposit(merchant, parked):
    member = f.member(merchant)
    deposit = announce(merchant, member, "80.00", "D-5")
    ops = f.ops()
    sent = f.listening(merchant)
    done = exception_queue.statement_line_match_to_deposit(line=parked, deposit=deposit, actor=ops,
                                                    reason="Payer mistyped the code")
    assert (done.status, done.deposit_id, done.resolved_by_id) == ("posted", deposit.pk, ops.pk)
    assert available(member) == D("80.00") and account_balances(merchant)["suspense"] == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    event = AuditEvent.objects.filter(action="match_to_deposit").get()
    assert (event.from_state, event.to_state, event.reason, event.actor_id) == (
        "unmatched", "posted", "Payer mistyped the code", ops.pk)
    assert prove_merchant(merchant).ok
    # and the platform hears of the credited deposit, as of one matched at import
    assert [(kind, data["order_no"]) for kind, data in sent()] == [("deposit.succeeded", "D-5")]


def test_a_deposit_with_another_amount_can_t_take_the_line(merchant, parked):
    deposit = announce(merchant, f.member(merchant), "81.00", "D-6")
    with pytest.raises(OrderMismatch):
        exception_queue.statement_line_match_to_deposit(line=parked, deposit=deposit, actor=f.ops(), reason="x")
    assert line("R1").status == "unmatched"


def test_operations_match_parked_money_to_a_member(merchant, parked):
    member = f.member(merchant)
    done = exception_queue.statement_line_match_to_member(line=parked, member=member, actor=f.ops(), reason="Phoned in")
    assert (done.status, done.member_id) == ("posted", member.pk)
    assert available(member) == D("80.00")
    assert AuditEvent.objects.filter(action="match_to_member", to_state="posted").exists()


def test_operations_return_parked_money_to_the_payer(merchant, parked):
    done = exception_queue.statement_line_return(line=parked, actor=f.ops(), reason="Unknown payer")
    assert done.status == "returned" and done.entry_id
    balances = account_balances(merchant)
    assert balances["suspense"] == balances["supervision"] == 0
    assert AuditEvent.objects.filter(action="return_to_payer", reason="Unknown payer").exists()


def test_a_reason_is_required_and_a_line_is_resolved_once(merchant, parked):
    ops = f.ops()
    with pytest.raises(ValidationFailed):
        exception_queue.statement_line_return(line=parked, actor=ops, reason=" ")
    exception_queue.statement_line_return(line=parked, actor=ops, reason="Unknown payer")
    with pytest.raises(InvalidState):
        exception_queue.statement_line_match_to_member(line=parked, member=f.member(merchant), actor=ops, reason="again")
    assert account_balances(merchant)["supervision"] == 0


def test_only_operations_may_work_the_queue(merchant, parked):
    with pytest.raises(PermissionRefused):
        exception_queue.statement_line_return(line=parked, actor=f.auditor(), reason="I should not")
    assert line("R1").status == "unmatched"
    assert account_balances(merchant)["suspense"] == D("80.00")


def test_money_out_can_be_ignored_with_a_reason_but_money_in_cannot(merchant, parked):
    do_import(merchant, [("R9", "2026-11-24", "-3.00", "Bank", "1", "B", "account fee", "")])
    ops = f.ops()
    with pytest.raises(InvalidState):
        exception_queue.statement_line_ignore(line=parked, actor=ops, reason="no")
    done = exception_queue.statement_line_ignore(line=line("R9"), actor=ops, reason="Bank fee, charged back by the bank")
    assert done.status == "ignored" and done.reason.startswith("Bank fee")
    assert AuditEvent.objects.filter(action="ignore").exists()


def test_a_money_out_line_is_matched_by_hand_once_the_withdrawal_is_paid(merchant):
    seller = f.member(merchant)
    funded(merchant, seller, "100.00")
    do_import(merchant, [("R1", "2026-11-24", "-60.00", "Li", "1", "B", "payout", "")])
    w = withdrawal(merchant, seller, "60.00", "WD-9")
    done = exception_queue.statement_line_match_to_withdrawal(line=line("R1"), withdrawal=w, actor=f.ops(),
                                                       reason="Bank reference missing on the withdrawal")
    assert (done.status, done.withdrawal_id, done.entry_id) == ("matched", w.pk, w.final_entry_id)
