"""The database connection drops in the middle of a transaction: the caller gets a clear
error (an OperationalError from a service; a 503 `database_unavailable` envelope with
Retry-After from the API), never a partial write, and a retry books exactly once.

The drop is real: a second session runs pg_terminate_backend on the backend of the thread
(or process) doing the work — while it waits on a lock the test holds, or while it sits
between its last statement and COMMIT."""
import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, transaction

from core.models import IdempotencyRecord
from ledger.models import EntryType, JournalEntry, Payment
from ledger.selectors import member_balance
from ledger.services import deposits
from ledger.services.accounts import member_accounts
from ledger.services.payments import payment_create
from tests import factories as f

from .api import payment_body, signed_post
from .helpers import (
    Worker,
    activity,
    assert_books_whole,
    holding,
    in_thread,
    kill_while_blocked,
    terminate,
    wait_until_waiting_on_lock,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
PAYMENTS = "/api/v1/payments"


@pytest.fixture
def parties():
    merchant, secret = f.active_merchant(with_secret=True)
    payer, payee = f.member(merchant), f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=payer, amount="100.00",
                                        order_no="DEP-1", method="offline_transfer")
    deposits.deposit_credit(deposit=deposit, actor=None, amount="100.00", proof_kind="statement_line",
                            proof_reference="SL-1")
    return merchant, secret, payer, payee


def _pid_of(outcome):
    for _ in range(3000):
        if "pid" in outcome:
            return outcome["pid"]
        threading.Event().wait(0.01)
    raise AssertionError("the thread never connected")


def _pay(merchant, payer, payee, order_no="DROP-1"):
    return payment_create(merchant=merchant, actor=None, payer=payer, amount="30.00", order_no=order_no,
                          mode="direct", splits=[(payee, "30.00")])


def _booked_once(merchant, payer, payee, order_no="DROP-1"):
    assert Payment.objects.filter(merchant=merchant, order_no=order_no).count() == 1
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT).count() == 1
    assert member_balance(payer)["available"] == D("70.00")
    assert member_balance(payee)["available"] == D("30.00")
    assert_books_whole(merchant)


def test_a_service_whose_connection_is_cut_while_it_waits_raises_and_writes_nothing(parties):
    merchant, _, payer, payee = parties
    available, _ = member_accounts(payer)
    # given a payment that has written its payment row and entry and waits for the payer's account
    with holding("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [available.pk]):
        thread, outcome = in_thread(lambda _: _pay(merchant, payer, payee))
        pid = _pid_of(outcome)
        assert wait_until_waiting_on_lock(pid)[3]
        # when its connection is cut
        assert terminate(pid)
        thread.join(60)
    # then the caller gets a clear database error, and nothing was written
    assert isinstance(outcome.get("error"), OperationalError), outcome
    assert not Payment.objects.filter(merchant=merchant).exists()
    assert member_balance(payer)["available"] == D("100.00")
    assert_books_whole(merchant)
    # and the retry books it once
    _, created = _pay(merchant, payer, payee)
    assert created and not _pay(merchant, payer, payee)[1]
    _booked_once(merchant, payer, payee)


def test_a_connection_cut_between_the_last_statement_and_commit_writes_nothing(parties):
    merchant, _, payer, payee = parties
    written, go_on = threading.Event(), threading.Event()

    def pay_then_pause(_):
        with transaction.atomic():
            result = _pay(merchant, payer, payee)
            written.set()
            go_on.wait(60)  # idle in transaction: everything written, nothing committed
        return result

    thread, outcome = in_thread(pay_then_pause)
    assert written.wait(60), outcome
    pid = outcome["pid"]
    state = activity(pid)
    assert state[0] == "idle in transaction" and state[3], state  # written, not committed
    assert terminate(pid)
    go_on.set()
    thread.join(60)
    # the COMMIT never happened: an error for the caller, no payment, no entry
    assert isinstance(outcome.get("error"), OperationalError), outcome
    assert not Payment.objects.filter(merchant=merchant).exists()
    assert_books_whole(merchant)
    _pay(merchant, payer, payee)
    _booked_once(merchant, payer, payee)


def test_the_api_answers_503_database_unavailable_and_the_retry_with_the_same_key_books_once(parties):
    merchant, secret, payer, payee = parties
    available, _ = member_accounts(payer)
    body = payment_body(payer, payee, "30.00", "DROP-1")
    post = lambda: signed_post(app_id=merchant.app_id, secret=secret, path=PAYMENTS, body=body, key="K-DROP-1")  # noqa: E731
    # given a signed payment request waiting, mid-transaction, for the payer's account
    with holding("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [available.pk]):
        thread, outcome = in_thread(lambda _: post())
        pid = _pid_of(outcome)
        assert wait_until_waiting_on_lock(pid)[3]
        # when the database connection drops
        assert terminate(pid)
        thread.join(60)
    # then a 503 in the API envelope with a stable code and Retry-After, not a 500
    response = outcome.get("result")
    assert response is not None, outcome
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "database_unavailable"
    assert int(response["Retry-After"]) > 0
    assert not Payment.objects.filter(merchant=merchant).exists()
    # and the key was released: the retry with the same key books, and once only
    assert not IdempotencyRecord.objects.filter(merchant_id=merchant.pk, key="K-DROP-1").exists()
    again = post()
    assert again.status_code == 201, again.content
    replay = post()
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == again.json()["id"]
    _booked_once(merchant, payer, payee)


def test_a_claim_left_by_a_killed_api_worker_is_taken_over_by_the_retry_at_once(parties):
    merchant, secret, payer, payee = parties
    available, _ = member_accounts(payer)
    body = payment_body(payer, payee, "30.00", "DROP-1")
    job = {"app_id": merchant.app_id, "secret": secret, "path": PAYMENTS, "body": body, "key": "K-KILL-1"}
    # given an API worker process killed mid-payment: its idempotency claim stays "in progress"
    with holding("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [available.pk]) as lock:
        worker = Worker("api_post", **job)
        kill_while_blocked(worker, lock, wrote={"ledger_payment", "ledger_journalentry"})
    claim = IdempotencyRecord.objects.get(merchant_id=merchant.pk, key="K-KILL-1")
    assert claim.status == IdempotencyRecord.Status.IN_PROGRESS
    assert not Payment.objects.filter(merchant=merchant).exists()
    assert_books_whole(merchant)
    # when the platform retries at once: the owner's key lock went with its process's connection
    later = signed_post(app_id=merchant.app_id, secret=secret, path=PAYMENTS, body=body, key="K-KILL-1")
    # then the retry takes the claim over and books, once
    assert later.status_code == 201, later.content
    replay = signed_post(app_id=merchant.app_id, secret=secret, path=PAYMENTS, body=body, key="K-KILL-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    _booked_once(merchant, payer, payee)


def test_an_end_of_day_task_whose_connection_drops_is_retried_by_celery_and_leaves_one_result():
    import datetime

    from reconciliation import tasks
    from reconciliation.models import DiscrepancyCase, EodRun

    from .helpers import eod_day_books, every_lane_of

    day = datetime.date(2026, 11, 24)
    merchant = eod_day_books(day)
    # given the end-of-day task, mid-run (its run row and differences written), waiting for
    # the audit chain
    with holding(*every_lane_of(merchant.pk)):
        # apply(throw=False): run as a worker would, where a Retry schedules the task again
        # (eager mode runs the retry at once instead of after the backoff)
        thread, outcome = in_thread(
            lambda _: tasks.run_end_of_day.apply(args=(merchant.pk, day.isoformat()), throw=False).get())
        pid = _pid_of(outcome)
        assert wait_until_waiting_on_lock(pid)[3]
        # when its connection drops
        assert terminate(pid)
    thread.join(120)
    # then Celery retried it (autoretry_for OperationalError) and the day has one whole result
    assert "error" not in outcome, outcome
    assert outcome["result"]["differences"] == 1
    run = EodRun.objects.get(merchant=merchant, business_date=day)
    assert (run.runs, run.differences) == (1, 1)
    assert DiscrepancyCase.objects.filter(merchant=merchant).count() == 1
    assert_books_whole(merchant)
