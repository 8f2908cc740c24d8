"""End of day (日末批量勾对): every category, both proofs, the bank comparison, reruns."""
import datetime
from decimal import Decimal

import pytest
from django.db.models import F

from core.errors import ValidationFailed
from ledger.models import Account, AccountKind
from reconciliation import tasks
from reconciliation.models import DiscrepancyCase, EodDifference, EodRun, OrderFile
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import
from reconciliation.services.orders import order_file_create, order_file_from_csv
from tests import factories as f

from .builders import announce, english, payment

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 11, 24)  # a Tuesday


def kinds(run):
    return sorted(EodDifference.objects.filter(run=run).values_list("kind", flat=True))


@pytest.fixture
def day(db):
    """A merchant whose day holds one statement-proven deposit of 1000.00 and two payments."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    deposit = announce(merchant, buyer, "1000.00", "D-1")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR1", DAY.isoformat(), "1000.00", "Zhang", "1", "B", deposit.payment_code, "1000.00")]))
    payment(merchant, buyer, seller, "300.00", "P-1", DAY)
    payment(merchant, buyer, seller, "200.00", "P-2", DAY)
    return merchant, buyer, seller


# Who pays whom in each order type, as the ledger books it (a deposit's payer is outside the books).
PARTIES = {"deposit": ("", "buyer"), "payment": ("buyer", "seller"), "refund": ("seller", "buyer"),
           "withdrawal": ("buyer", "")}


def orders(*rows):
    return [{"order_no": no, "type": t, "amount": a, "payer_user_id": PARTIES[t][0], "payee_user_id": PARTIES[t][1]}
            for no, t, a in rows]


def test_a_clean_day_is_balanced_and_opens_no_case(day):
    merchant, *_ = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert run.status == EodRun.Status.BALANCED
    assert (run.orders, run.entries, run.matched, run.differences) == (3, 3, 3, 0)
    assert (run.supervision_balance, run.virtual_total) == (D("1000.00"), D("1000.00"))
    assert run.totals_balance and run.postings_match
    assert run.book_closing_balance == run.bank_closing_balance == D("1000.00")
    assert DiscrepancyCase.objects.count() == 0
    assert OrderFile.objects.get().status == OrderFile.Status.RECONCILED


def test_every_order_category(day):
    merchant, buyer, seller = day
    payment(merchant, buyer, seller, "50.00", "P-3", DAY)  # booked, but the platform forgot it
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"),
        ("P-2", "payment", "250.00"),   # the ledger booked 200.00
        ("P-4", "payment", "70.00"),    # never booked
        ("P-1", "refund", "300.00"),    # same order number, another type: never booked
    ))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert run.status == EodRun.Status.DISCREPANCIES
    assert (run.matched, run.missing_in_ledger, run.missing_in_orders, run.amount_mismatches) == (2, 2, 1, 1)
    diffs = {(d.kind, d.order_type, d.order_no): (d.expected_amount, d.actual_amount)
             for d in EodDifference.objects.filter(run=run)}
    assert diffs == {
        ("amount_mismatch", "payment", "P-2"): (D("250.00"), D("200.00")),
        ("missing_in_ledger", "payment", "P-4"): (D("70.00"), None),
        ("missing_in_ledger", "refund", "P-1"): (D("300.00"), None),
        ("missing_in_orders", "payment", "P-3"): (None, D("50.00")),
    }
    cases = DiscrepancyCase.objects.filter(merchant=merchant, business_date=DAY)
    assert cases.count() == 4 and set(cases.values_list("status", flat=True)) == {"open"}
    assert all(d.case_id for d in EodDifference.objects.filter(run=run))


def test_entries_of_other_days_and_non_order_entries_are_not_compared(day):
    merchant, buyer, seller = day
    payment(merchant, buyer, seller, "10.00", "P-OTHER-DAY", DAY + datetime.timedelta(days=1))
    payment(merchant, seller, buyer, "10.00", "P-1", DAY, entry_type="payment_release")
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))
    assert eod_run(merchant=merchant, business_date=DAY, actor=None).status == EodRun.Status.BALANCED


def test_no_order_file_is_a_difference(day):
    merchant, *_ = day
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert kinds(run) == ["order_file_missing"]
    assert run.status == EodRun.Status.DISCREPANCIES


def test_both_proofs_catch_a_balance_changed_behind_the_ledger_s_back(day):
    merchant, buyer, _ = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))
    account = Account.objects.get(member=buyer, kind=AccountKind.MEMBER_AVAILABLE)
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + 1)
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert not run.totals_balance and not run.postings_match
    assert kinds(run) == ["balance_not_postings", "totals_unbalanced"]
    diff = EodDifference.objects.get(run=run, kind="balance_not_postings")
    assert diff.key == f"account:{account.pk}" and diff.actual_amount - diff.expected_amount == D("1.00")


def test_the_bank_closing_balance_is_compared_with_the_book(day):
    merchant, *_ = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))
    # the bank also paid out 40.00 that no withdrawal explains (it waits in the queue unbooked)
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR2", DAY.isoformat(), "-40.00", "?", "1", "B", "unknown debit", "960.00")]))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert (run.bank_closing_balance, run.book_closing_balance) == (D("960.00"), D("1000.00"))
    diff = EodDifference.objects.get(run=run)
    assert (diff.kind, diff.expected_amount, diff.actual_amount) == ("bank_balance_mismatch", D("960.00"),
                                                                     D("1000.00"))


def test_a_day_without_an_imported_statement_is_a_difference():
    merchant = f.active_merchant()
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[])
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert kinds(run) == ["bank_statement_missing"]
    # a statement imported through a later date covers the day: the balance before its first line
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR9", (DAY + datetime.timedelta(days=1)).isoformat(), "-5.00", "?", "1", "B", "x", "0.00")]))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert run.bank_closing_balance == D("5.00") and kinds(run) == ["bank_balance_mismatch"]


def test_a_rerun_replaces_the_result_updates_cases_and_closes_the_stale_ones(day):
    merchant, buyer, seller = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "250.00"),
        ("P-4", "payment", "70.00")))
    first = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert (first.amount_mismatches, first.missing_in_ledger) == (1, 1)
    # when the platform corrects P-2 and P-4 is booked after all, and the day runs twice more
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00"),
        ("P-4", "payment", "70.00")))
    payment(merchant, buyer, seller, "70.00", "P-4", DAY)
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    # then one run, balanced; the two cases were closed by the rerun, and none was duplicated
    assert EodRun.objects.filter(merchant=merchant).count() == 1
    assert run.pk == first.pk and run.runs == 3 and run.status == EodRun.Status.BALANCED
    assert EodDifference.objects.filter(run=run).count() == 0
    cases = DiscrepancyCase.objects.filter(merchant=merchant)
    assert cases.count() == 2
    assert set(cases.values_list("status", "still_present")) == {("resolved", False)}
    assert OrderFile.objects.filter(status=OrderFile.Status.SUPERSEDED).count() == 1


def test_a_difference_that_persists_keeps_its_one_case_and_its_status(day):
    merchant, *_ = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "250.00")))
    eod_run(merchant=merchant, business_date=DAY, actor=None)
    case = DiscrepancyCase.objects.get()
    from reconciliation.services.cases import case_investigate

    case_investigate(case=case, actor=f.ops(), reason="Asked the platform")
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    case.refresh_from_db()
    assert DiscrepancyCase.objects.count() == 1
    assert (case.status, case.run_id, case.still_present) == ("investigating", run.pk, True)
    assert EodDifference.objects.get(run=run).case_id == case.pk


def test_the_beat_task_runs_yesterday_for_every_active_or_frozen_merchant(day):
    merchant, *_ = day
    draft = f.draft_merchant()
    result = tasks.run_end_of_day_for_all(DAY.isoformat())
    assert result == {"business_date": DAY.isoformat(), "merchants": 1}
    assert EodRun.objects.filter(merchant=merchant, business_date=DAY).exists()
    assert not EodRun.objects.filter(merchant=draft).exists()
    assert tasks.previous_business_date(datetime.date(2026, 11, 25)) == DAY
    assert tasks.previous_business_date(datetime.date(2026, 11, 23)) is None  # yesterday was a Sunday


def test_an_order_file_with_a_bad_order_is_refused_whole():
    merchant = f.active_merchant()
    with pytest.raises(ValidationFailed) as err:
        order_file_create(merchant=merchant, actor=None, business_date="2026-11-24", orders=[
            {"order_no": "A", "type": "payment", "amount": "1.00"},
            {"order_no": "B", "type": "gift", "amount": "1.00"},
            {"order_no": "C", "type": "payment", "amount": "1.001"},
            {"order_no": "A", "type": "payment", "amount": "1.00"},
        ])
    assert len(err.value.details["orders"]) == 3
    assert OrderFile.objects.count() == 0


def test_an_order_file_as_csv():
    merchant = f.active_merchant()
    data = ("\ufefforder_no,type,amount,payer_user_id,payee_user_id\r\n"
            "P-1,payment,300.00,buyer,seller\r\nD-1,deposit,1000.00,,buyer\r\n").encode("utf-8")
    order_file = order_file_from_csv(merchant=merchant, actor=None, business_date=DAY, data=data)
    assert (order_file.line_count, order_file.total_amount) == (2, D("1300.00"))
    with pytest.raises(ValidationFailed):
        order_file_from_csv(merchant=merchant, actor=None, business_date=DAY, data=b"foo,bar\r\n1,2\r\n")


# --- the proofs, each on its own -----------------------------------------------------------


def test_the_postings_proof_fails_on_its_own_when_balances_drift_in_step(day):
    # given the supervision account and a member account both raised by 1.00 behind the ledger's
    # back: the totals still agree, but neither balance is the sum of its postings
    merchant, buyer, _ = day
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))
    member = Account.objects.get(member=buyer, kind=AccountKind.MEMBER_AVAILABLE)
    supervision = Account.objects.get(merchant=merchant, member=None, kind=AccountKind.SUPERVISION)
    Account.objects.filter(pk__in=[member.pk, supervision.pk]).update(balance=F("balance") + 1)
    # when the day is run
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    # then only the postings proof fails, once per account. (The totals proof can't fail on its
    # own: with every entry's postings summing to zero, which PostgreSQL enforces at commit,
    # balances that equal their postings always add up; test_both_proofs... shows both failing.)
    assert run.totals_balance and not run.postings_match
    assert (run.supervision_balance, run.virtual_total) == (D("1001.00"), D("1001.00"))
    assert sorted(EodDifference.objects.filter(run=run).values_list("key", flat=True)) == sorted(
        [f"account:{member.pk}", f"account:{supervision.pk}"])
    assert kinds(run) == ["balance_not_postings", "balance_not_postings"]


# --- more of the order matching ------------------------------------------------------------


def test_a_reversed_entry_is_not_the_order_and_partial_refunds_add_up(day):
    from django.db import transaction

    from ledger.models import JournalEntry
    from ledger.posting import Leg, Order, post_entry
    from ledger.services.accounts import member_accounts
    from ledger.services.reversal import entry_reverse

    # given P-2 reversed (冲正), refund R-1 booked in two parts (100.00 + 20.00) and refund R-1b
    merchant, buyer, seller = day
    entry_reverse(entry=JournalEntry.objects.get(merchant=merchant, order_no="P-2"), actor=f.ops(),
                  reason="booked twice by mistake")
    payment(merchant, seller, buyer, "100.00", "R-1", DAY, entry_type="refund")
    payment(merchant, seller, buyer, "50.00", "R-1b", DAY, entry_type="refund")
    with transaction.atomic():
        post_entry(merchant=merchant, entry_type="refund", idempotency_ref="test-refund:R-1:2",
                   legs=[Leg(member_accounts(seller)[0], D("-20.00")), Leg(member_accounts(buyer)[0], D("20.00"))],
                   actor=None, order=Order(order_no="R-1", payer_id=seller.pk, payee_id=buyer.pk,
                                           amount=D("20.00")), business_date=DAY)
    # when the platform reports P-2 all the same, and R-1 as one refund of 120.00
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00"),
        ("R-1", "refund", "120.00"), ("R-1b", "refund", "50.00")))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    # then the reversed P-2 is missing in the ledger, and R-1's two parts match its one order
    assert (run.matched, run.missing_in_ledger, run.missing_in_orders, run.amount_mismatches) == (4, 1, 0, 0)
    assert EodDifference.objects.get(run=run).key == "payment:P-2"


def test_a_day_without_orders_or_entries_with_an_empty_file_is_balanced():
    merchant = f.active_merchant()
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[])
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR1", (DAY - datetime.timedelta(days=1)).isoformat(), "5.00", "?", "1", "B", "x", "5.00"),
        ("SR2", DAY.isoformat(), "-5.00", "?", "1", "B", "x", "0.00")]))
    # the two lines wait in the queue: parked money in, unexplained money out; the book has 5.00
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert (run.orders, run.entries, run.matched) == (0, 0, 0)
    assert (run.bank_closing_balance, run.book_closing_balance) == (D("0.00"), D("5.00"))
    assert kinds(run) == ["bank_balance_mismatch"]


# --- the bank comparison, statement by statement --------------------------------------------


def clean_orders(merchant):
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=orders(
        ("D-1", "deposit", "1000.00"), ("P-1", "payment", "300.00"), ("P-2", "payment", "200.00")))


def test_a_statement_without_a_balance_column_can_t_prove_the_day():
    # given a statement through the day, but without balances
    merchant = f.active_merchant()
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[])
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english(
        [("SR1", DAY.isoformat(), "-1.00", "?", "1", "B", "fee")],
        header="bank_reference,value_date,amount,counterparty_name,counterparty_account,counterparty_bank,remark"))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert run.bank_closing_balance is None and kinds(run) == ["bank_statement_missing"]


def test_a_statement_that_ends_before_the_day_does_not_cover_it(day):
    # given the day's statement, then the next day's run before the next statement arrives
    merchant, *_ = day
    next_day = DAY + datetime.timedelta(days=1)
    order_file_create(merchant=merchant, actor=None, business_date=next_day, orders=[])
    run = eod_run(merchant=merchant, business_date=next_day, actor=None)
    # then the book is not compared with yesterday's balance: the statement is missing
    assert run.bank_closing_balance is None and run.book_closing_balance == D("1000.00")
    assert kinds(run) == ["bank_statement_missing"]


def test_a_refused_statement_does_not_count_as_imported(day):
    merchant, *_ = day
    clean_orders(merchant)
    # given a statement for the next day that was refused (a bad amount)
    next_day = DAY + datetime.timedelta(days=1)
    refused = statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR7", next_day.isoformat(), "1.0.0", "?", "1", "B", "x", "1001.00")]))
    assert refused.refused
    order_file_create(merchant=merchant, actor=None, business_date=next_day, orders=[])
    # then the next day has no statement, and the first day is still proven by its own
    assert kinds(eod_run(merchant=merchant, business_date=next_day, actor=None)) == ["bank_statement_missing"]
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    assert run.status == EodRun.Status.BALANCED and run.bank_closing_balance == D("1000.00")


def test_the_last_line_of_the_day_gives_the_bank_balance_and_later_lines_do_not(day):
    merchant, *_ = day
    clean_orders(merchant)
    # given more lines on the day (parked, so the book follows) and one on the next day
    next_day = DAY + datetime.timedelta(days=1)
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR2", DAY.isoformat(), "20.00", "?", "1", "B", "no code", "1020.00"),
        ("SR3", DAY.isoformat(), "30.00", "?", "1", "B", "no code", "1050.00"),
        ("SR4", next_day.isoformat(), "7.00", "?", "1", "B", "no code", "1057.00")]))
    run = eod_run(merchant=merchant, business_date=DAY, actor=None)
    # then the day closes on SR3's balance, which the book (with the parked money of the day) equals
    assert run.bank_closing_balance == D("1050.00")
