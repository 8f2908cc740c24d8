"""Celery delivers a task twice (CELERY_TASK_ACKS_LATE + REJECT_ON_WORKER_LOST: at-least-once):
every task that writes runs twice — one after the other, and at the same time from two threads
with their own connections — and nothing is booked twice.

The tasks (`grep -rn shared_task`): ledger.tasks.auto_release_due_payments,
ledger.tasks.roll_up_hot_balances, credit.tasks.sweep_overdue_bills,
reconciliation.tasks.run_end_of_day and run_end_of_day_for_all,
backoffice.tasks.take_performance_snapshots and statement_import_job,
merchants.tasks.deliver and deliver_due.

Webhooks are at-least-once by design (API.md): two deliveries of the task send one attempt;
a worker killed during the HTTP call leaves the delivery pending under a lease, and the beat
sends it again when the lease runs out — the receiver may see the event twice, with the same
event id, and never loses it."""
import datetime
import http.server
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from backoffice import jobs
from backoffice import tasks as backoffice_tasks
from backoffice.models import BackgroundJob, PerformanceSnapshot
from credit import tasks as credit_tasks
from credit.models import CreditBill, CreditNotification, PenaltyAccrual
from ledger import tasks as ledger_tasks
from ledger.models import (
    Account,
    AccountKind,
    EntryType,
    HotBalanceDelta,
    JournalEntry,
    Payment,
)
from ledger.selectors import account_balances
from ledger.selectors import member_balance
from ledger.services import deposits
from ledger.services.payments import payment_create
from merchants import tasks as merchant_tasks
from merchants.models import Merchant, WebhookAttempt, WebhookDelivery
from merchants.services import webhooks
from reconciliation import tasks as reconciliation_tasks
from reconciliation.models import (
    DiscrepancyCase,
    EodDifference,
    EodRun,
    StatementBatch,
    StatementLine,
)
from tests import factories as f
from tests.reconciliation.builders import english

from .helpers import Worker, assert_books_whole, eod_day_books, ok, together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
DAY = datetime.date(2026, 11, 24)  # a Tuesday
MODES = ["one_after_the_other", "at_the_same_time"]


def twice(mode, fn):
    """The same task delivered twice."""
    if mode == "one_after_the_other":
        return [fn(), fn()]
    return ok(together(fn, fn))


@pytest.mark.parametrize("mode", MODES)
def test_auto_release_twice_releases_each_payment_once(mode):
    merchant = f.active_merchant()
    payer, payee = f.member(merchant), f.member(merchant)
    f.funded(payer, "100.00")
    for n in range(3):
        payment_create(merchant=merchant, actor=None, payer=payer, amount="20.00", order_no=f"G-{n}",
                       mode="guaranteed", splits=[(payee, "19.00")], platform_fee="1.00")
    Payment.objects.filter(merchant=merchant).update(auto_release_at=timezone.now() - timedelta(minutes=1))
    counts = twice(mode, ledger_tasks.auto_release_due_payments)
    assert sum(counts) == 3  # the two deliveries may share the work; each payment is released once
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT_RELEASE).count() == 3
    assert member_balance(payee)["available"] == D("57.00")
    assert_books_whole(merchant)


def test_hot_balance_roll_ups_at_the_same_time_as_each_other_and_as_postings_count_every_delta_once():
    merchant = f.active_merchant()
    members = [f.member(merchant) for _ in range(4)]
    supervision = Account.objects.get(merchant=merchant, kind=AccountKind.SUPERVISION, member__isnull=True)

    def post_deposits(member):
        def run():
            for _ in range(10):
                f.funded(member, "1.00")
        return run

    def roll_up_many():
        return sum(ledger_tasks.roll_up_hot_balances() for _ in range(20))

    # when four workers book deposits (hot supervision deltas) while three roll-ups run
    ok(together(*(post_deposits(m) for m in members), roll_up_many, roll_up_many, roll_up_many))
    ok(together(ledger_tasks.roll_up_hot_balances, ledger_tasks.roll_up_hot_balances))
    # then every delta was folded in exactly once
    assert not HotBalanceDelta.objects.filter(merchant=merchant).exists()
    supervision.refresh_from_db()
    posted = supervision.postings.aggregate(s=Sum("amount"))["s"]
    assert supervision.balance == posted == D("40.00") == account_balances(merchant)[supervision.kind]
    assert_books_whole(merchant)


@pytest.fixture
def overdue_bill(monkeypatch):
    from tests.credit.helpers import Clock, World, open_line

    clock = Clock(datetime.date(2026, 3, 2))
    for target in ("ledger.posting.business_date_for", "ledger.booking.business_date_for",
                   "credit.services.drawdowns.business_date_for",
                   "credit.services.applications.business_date_for"):
        monkeypatch.setattr(target, clock)
    world = World()
    open_line(world.merchant, world.buyer, creditor=world.core, limit="20000.00", term_days=30, grace_days=3,
              penalty_rate="0.0005")
    from credit import services

    # due 2026-04-01, grace until 2026-04-04: overdue from 2026-04-05
    return services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="1010.00", order_no="PO-1")


@pytest.mark.parametrize("mode", MODES)
def test_the_overdue_sweep_twice_accrues_each_day_once(mode, overdue_bill):
    results = twice(mode, lambda: credit_tasks.sweep_overdue_bills("2026-04-10"))
    bill = CreditBill.objects.get(pk=overdue_bill.pk)
    # 6 days (04-05 … 04-10) × 0.51, once
    assert PenaltyAccrual.objects.filter(bill=bill).count() == 6
    assert bill.penalty_accrued == D("3.06") and bill.status == CreditBill.Status.OVERDUE
    assert sum(r["newly_overdue"] for r in results) == 1 and sum(r["accrual_days"] for r in results) == 6
    assert CreditNotification.objects.filter(merchant=bill.merchant).count() == 1
    assert_books_whole(bill.merchant)


@pytest.fixture
def eod_day():
    return eod_day_books(DAY)


@pytest.mark.parametrize("mode", MODES)
def test_end_of_day_twice_leaves_one_result(mode, eod_day):
    merchant = eod_day
    results = twice(mode, lambda: reconciliation_tasks.run_end_of_day(merchant.pk, DAY.isoformat()))
    assert {r["run"] for r in results} == {EodRun.objects.get(merchant=merchant, business_date=DAY).pk}
    run = EodRun.objects.get(merchant=merchant, business_date=DAY)
    assert (run.status, run.runs, run.differences) == (EodRun.Status.DISCREPANCIES, 2, 1)
    assert list(EodDifference.objects.filter(merchant=merchant).values_list("kind", "order_no")) == [
        ("missing_in_orders", "P-2")]
    assert DiscrepancyCase.objects.filter(merchant=merchant).count() == 1
    assert_books_whole(merchant)


def test_end_of_day_for_all_twice_leaves_one_result_per_merchant(eod_day):
    merchant = eod_day
    for _ in range(2):
        reconciliation_tasks.run_end_of_day_for_all(DAY.isoformat())
    assert EodRun.objects.filter(business_date=DAY).count() == Merchant.objects.filter(
        status__in=(Merchant.Status.ACTIVE, Merchant.Status.FROZEN)).count()
    assert EodRun.objects.get(merchant=merchant, business_date=DAY).differences == 1
    assert DiscrepancyCase.objects.filter(merchant=merchant).count() == 1


@pytest.mark.parametrize("mode", MODES)
def test_performance_snapshots_twice_take_each_snapshot_once(mode):
    f.active_merchant(), f.active_merchant()
    results = twice(mode, lambda: backoffice_tasks.take_performance_snapshots("2026-12-01"))
    per_run = [sum(r["snapshots"].values()) for r in results]
    assert sum(per_run) == PerformanceSnapshot.objects.count() > 0


@pytest.mark.parametrize("mode", MODES)
def test_the_statement_import_job_twice_imports_the_file_once(mode, tmp_path):
    merchant = f.active_merchant()
    member = f.member(merchant)
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount="50.00",
                                        order_no="D-JOB", method="offline_transfer")
    rows = [(f"R{i:04d}", DAY.isoformat(), "1.00", "Someone", "1", "B", "no code", "") for i in range(300)]
    rows.append(("RDEP", DAY.isoformat(), "50.00", "Payer", "1", "B", deposit.payment_code, "350.00"))
    path = tmp_path / "statement.csv"
    path.write_bytes(english(rows))
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, merchant=merchant,
                          params={"path": str(path), "account": merchant.supervision_account_number,
                                  "file_name": "statement.csv"})
    results = twice(mode, lambda: backoffice_tasks.statement_import_job(job.pk))
    # then one delivery imported the file and the other found the work done
    assert sorted(results, key=str) == sorted([{"job": job.pk, "ok": True}, {"job": job.pk, "skipped": True}],
                                              key=str)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert (job.result["imported"], job.result["duplicates"]) == (301, 0)
    assert StatementBatch.objects.filter(merchant=merchant).count() == 1
    assert StatementLine.objects.filter(merchant=merchant).count() == 301
    assert member_balance(member)["available"] == D("50.00")
    assert_books_whole(merchant)


# --- webhooks ------------------------------------------------------------------------------------

class Receiver:
    """A real HTTP receiver on 127.0.0.1; `hold` keeps a request open until released."""

    def __init__(self):
        self.requests = []
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.headers.get("X-Jianguan-Event-Id"), body))
                receiver.arrived.set()
                receiver.hold.wait(60)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _pending_delivery(receiver):
    merchant = f.active_merchant(with_secret=True)[0]
    Merchant.objects.filter(pk=merchant.pk).update(webhook_url=receiver.url)
    now = timezone.now()
    return WebhookDelivery.objects.create(
        merchant=merchant, event_id="evt_twice", event_type="payment.released", next_attempt_at=now, created_at=now,
        payload={"id": "evt_twice", "type": "payment.released", "created_at": now.isoformat(), "data": {}})


@pytest.mark.parametrize("mode", MODES)
def test_a_webhook_delivered_twice_sends_one_attempt(mode, receiver):
    delivery = _pending_delivery(receiver)
    twice(mode, lambda: merchant_tasks.deliver(delivery.pk))
    twice(mode, merchant_tasks.deliver_due)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    assert [event for event, _ in receiver.requests] == ["evt_twice"]


def test_a_webhook_worker_killed_during_the_call_loses_nothing(receiver):
    delivery = _pending_delivery(receiver)
    # given a worker killed while the receiver holds its request open (the attempt is claimed)
    receiver.hold.clear()
    worker = Worker("webhook_deliver", delivery_id=delivery.pk)
    assert receiver.arrived.wait(60)
    worker.kill()
    receiver.hold.set()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 0
    lease_ends = delivery.next_attempt_at
    assert lease_ends > timezone.now()
    # when the beat runs before the lease ends: nothing is sent twice at once
    assert webhooks.deliver_due_now() == 0
    # when it runs after the lease: the attempt is made again and recorded
    assert webhooks.deliver_due_now(now=lease_ends + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 1
    # at-least-once: the receiver saw the same event id twice and de-duplicates on it
    assert [event for event, _ in receiver.requests] == ["evt_twice", "evt_twice"]
