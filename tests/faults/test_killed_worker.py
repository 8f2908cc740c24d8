"""A worker process SIGKILLed in the middle of a payment, a statement import and an end-of-day
run leaves nothing half-booked, and running the same job again finishes it exactly once.

Each job runs in a real separate process (tests/faults/worker.py) against the test database.
The test holds a lock the job takes only after it has already written (a row lock, or the
audit chain's advisory lock), waits until pg_stat_activity shows the worker's backend waiting
on it with a transaction id (it has written), checks in pg_locks which tables it wrote, and
SIGKILLs the process. PostgreSQL must then roll the whole transaction back."""
import datetime
from decimal import Decimal

import pytest

from backoffice import jobs
from backoffice.models import BackgroundJob
from ledger.models import EntryType, JournalEntry, Payment, PaymentSplit
from ledger.selectors import account_balances, member_balance
from ledger.services import deposits
from ledger.services.accounts import member_accounts
from reconciliation.models import DiscrepancyCase, EodDifference, EodRun, StatementBatch, StatementLine
from tests import factories as f
from tests.reconciliation.builders import english

from .helpers import Worker, assert_books_whole, eod_day_books, every_lane_of, holding, kill_while_blocked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
DAY = datetime.date(2026, 11, 24)  # a Tuesday


def test_a_payment_killed_mid_transaction_books_nothing_and_the_rerun_books_it_once():
    # given a funded payer
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "100.00")
    available, _ = member_accounts(payer)
    job = {"merchant_id": merchant.pk, "payer_id": payer.pk, "payee_id": payee.pk, "amount": "30.00",
           "order_no": "KILLED-1"}
    # when a worker books the payment and is killed after writing the payment, its splits and
    # its entry, while it waits for the payer's account row
    with holding("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [available.pk]) as lock:
        worker = Worker("payment", **job)
        kill_while_blocked(worker, lock, wrote={"ledger_payment", "ledger_paymentsplit", "ledger_journalentry"})
    # then none of it is left
    assert not Payment.objects.filter(merchant=merchant, order_no="KILLED-1").exists()
    assert not PaymentSplit.objects.filter(merchant=merchant).exists()
    assert not JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT).exists()
    assert member_balance(payer)["available"] == D("100.00")
    assert_books_whole(merchant)
    # when the job runs again (a fresh worker), and once more (a redelivery)
    first = Worker("payment", **job).finish()
    again = Worker("payment", **job).finish()
    # then it was booked exactly once
    assert first["created"] is True and again == {"payment": first["payment"], "created": False}
    assert Payment.objects.filter(merchant=merchant, order_no="KILLED-1").count() == 1
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT).count() == 1
    assert member_balance(payer)["available"] == D("70.00")
    assert member_balance(payee)["available"] == D("30.00")
    assert_books_whole(merchant)


def test_a_statement_import_killed_after_its_first_chunk_leaves_no_line_and_the_rerun_imports_once(tmp_path):
    # given a file of 2,000 unidentified lines (the first chunk: stored and parked in suspense)
    # and then a line paying an open deposit
    merchant = f.active_merchant()
    member = f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount="50.00",
                                        order_no="D-KILL", method="offline_transfer")
    rows = [(f"R{i:05d}", DAY.isoformat(), "1.00", "Someone", "1", "B", "no code", "") for i in range(2000)]
    rows.append(("RDEP", DAY.isoformat(), "50.00", "Payer", "1", "B", deposit.payment_code, "2050.00"))
    path = tmp_path / "statement.csv"
    path.write_bytes(english(rows))
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, merchant=merchant,
                          params={"path": str(path), "account": merchant.supervision_account_number,
                                  "file_name": "statement.csv"})
    # when the import job's worker is killed while it waits for the deposit (second chunk),
    # having stored the first chunk's lines and booked their suspense entry
    with holding("SELECT id FROM ledger_deposit WHERE id = %s FOR UPDATE", [deposit.pk]) as lock:
        worker = Worker("statement_import_job", job_id=job.pk)
        kill_while_blocked(worker, lock, wrote={"reconciliation_statementbatch", "reconciliation_statementline",
                                                "ledger_journalentry", "ledger_posting"})
    # then nothing of the import is left: no batch, no line, no suspense money, no credit
    assert not StatementBatch.objects.filter(merchant=merchant).exists()
    assert not StatementLine.objects.filter(merchant=merchant).exists()
    assert account_balances(merchant)["supervision"] == D("0.00")
    deposit.refresh_from_db()
    assert deposit.status == deposit.Status.AWAITING_FUNDS
    assert_books_whole(merchant)
    # the job is still unfinished (the redelivered task will run it) and its file is still there
    job.refresh_from_db()
    assert not job.done and path.exists()
    # when Celery redelivers the task (acks_late), and then delivers it once more
    first = Worker("statement_import_job", job_id=job.pk).finish()
    again = Worker("statement_import_job", job_id=job.pk).finish()
    # then the file was imported exactly once
    assert first == {"job": job.pk, "ok": True} and again == {"job": job.pk, "skipped": True}
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.result["imported"] == 2001
    assert StatementBatch.objects.filter(merchant=merchant).count() == 1
    assert StatementLine.objects.filter(merchant=merchant).count() == 2001
    deposit.refresh_from_db()
    assert deposit.status == deposit.Status.SUCCEEDED
    assert member_balance(member)["available"] == D("50.00")
    assert account_balances(merchant)["supervision"] == D("2050.00")
    assert_books_whole(merchant)


@pytest.fixture
def eod_day():
    return eod_day_books(DAY)


def _kill_eod(merchant, wrote):
    # The run's audit record (its workflow transition) comes after its rows: hold the chain.
    with holding(*every_lane_of(merchant.pk)) as lock:
        worker = Worker("end_of_day", merchant_id=merchant.pk, business_date=DAY.isoformat())
        return kill_while_blocked(worker, lock, wrote=wrote)


def _result(merchant):
    run = EodRun.objects.get(merchant=merchant, business_date=DAY)
    return (run.status, run.runs, run.differences,
            sorted(EodDifference.objects.filter(run=run).values_list("kind", "order_no")),
            sorted(DiscrepancyCase.objects.filter(merchant=merchant).values_list("kind", "order_no", "status")))


def test_an_end_of_day_run_killed_midway_leaves_no_half_run_and_the_rerun_leaves_one_result(eod_day):
    merchant = eod_day
    # when the first run of the day is killed after writing its run row and differences
    _kill_eod(merchant, wrote={"reconciliation_eodrun", "reconciliation_eoddifference"})
    # then there is no run at all, no difference, no case
    assert not EodRun.objects.filter(merchant=merchant).exists()
    assert not EodDifference.objects.filter(merchant=merchant).exists()
    assert not DiscrepancyCase.objects.filter(merchant=merchant).exists()
    assert_books_whole(merchant)
    # when the task runs again
    done = Worker("end_of_day", merchant_id=merchant.pk, business_date=DAY.isoformat()).finish()
    # then one run with the day's one difference and one case
    assert done["status"] == EodRun.Status.DISCREPANCIES and done["differences"] == 1
    first = _result(merchant)
    assert first == (EodRun.Status.DISCREPANCIES, 1, 1, [("missing_in_orders", "P-2")],
                     [("missing_in_orders", "P-2", DiscrepancyCase.Status.OPEN)])

    # when a rerun of the day is killed after it removed the previous differences
    _kill_eod(merchant, wrote={"reconciliation_eoddifference"})
    # then the previous result stands, whole
    assert _result(merchant) == first
    assert_books_whole(merchant)
    # when the rerun is delivered again: one result, the same difference, still one case
    Worker("end_of_day", merchant_id=merchant.pk, business_date=DAY.isoformat()).finish()
    assert _result(merchant) == (EodRun.Status.DISCREPANCIES, 2, 1, [("missing_in_orders", "P-2")],
                                 [("missing_in_orders", "P-2", DiscrepancyCase.Status.OPEN)])
    assert EodRun.objects.filter(merchant=merchant).count() == 1
    assert_books_whole(merchant)
