"""A payment channel's settlement line: the channel's notifications credited its deposits at once;
the money reaches the supervision account later as one statement line from the channel's
settlement account. That line settles the deposits and books nothing; one that doesn't add up
waits in the queue without touching suspense; the end of day counts the money in transit."""
from decimal import Decimal

import pytest

from core.errors import InvalidState
from core.models import AuditEvent
from ledger.calendar import business_date_for, next_working_day
from ledger.channels import channel_notification_accept
from ledger.models import Deposit, JournalEntry
from ledger.selectors import account_balances, prove_merchant
from ledger.services import deposits as deposit_services
from ledger.services.channels import payment_channel_create, payment_channel_update
from ledger.selectors import channel_in_transit
from reconciliation.models import EodDifference, StatementLine
from reconciliation.services import exception_queue, line_outcomes
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import announce, english

pytestmark = pytest.mark.django_db
D = Decimal
SETTLEMENT_ACCOUNT = "6222 0000 8888 0001"


@pytest.fixture
def channel():
    return payment_channel_create(actor=f.ops(), code="fastpay", name="FastPay", app_id="fastpay-1", secret="s3cret",
                                  settlement_account=SETTLEMENT_ACCOUNT)


@pytest.fixture
def merchant():
    return f.active_merchant()


def paid_through_channel(merchant, channel, member, amount, order_no):
    """A deposit the channel's signed notification credited (supervision and member up at once)."""
    deposit = deposit_services.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount,
                                                order_no=order_no, method="channel", channel=channel)
    channel_notification_accept(channel=channel, amount=amount, transaction_id=f"T-{order_no}",
                                payment_code=deposit.payment_code)
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    return deposit


def settlement_row(ref, day, amount, *, balance=""):
    # the bank writes the channel's account as it likes: spaces don't matter
    return (ref, day.isoformat(), amount, "FastPay Payment Co", SETTLEMENT_ACCOUNT.replace(" ", ""), "ICBC",
            "settlement", balance)


def do_import(merchant, rows):
    return statement_import(account_number=merchant.supervision_account_number, stream=english(rows), actor=None)


def test_a_settlement_that_adds_up_settles_the_deposits_and_books_nothing(merchant, channel):
    # given two deposits the channel's notifications credited
    member = f.member(merchant)
    d1 = paid_through_channel(merchant, channel, member, "100.00", "C-1")
    d2 = paid_through_channel(merchant, channel, member, "250.00", "C-2")
    day = business_date_for()
    entries, before = JournalEntry.objects.count(), account_balances(merchant)
    assert channel_in_transit(merchant, day) == D("350.00")
    # when the channel's settlement of both arrives on the statement
    result = do_import(merchant, [settlement_row("S-1", day, "350.00")])
    # then the line is matched as a channel settlement, and nothing new is booked
    assert (result.matched, result.unmatched) == (1, 0)
    assert result.outcomes[line_outcomes.OUTCOME_CHANNEL] == 1
    line = StatementLine.objects.get(bank_reference="S-1")
    assert line.status == StatementLine.Status.MATCHED and line.suspense_entry_id is None and line.entry_id is None
    assert "channel settlement" in line.note.lower() and "fastpay" in line.note
    assert JournalEntry.objects.count() == entries and account_balances(merchant) == before
    # the deposits are settled, with the line as proof
    for d in (d1, d2):
        d.refresh_from_db()
        assert d.settled_at is not None and d.settlement_reference == "S-1" and d.settlement_value_date == day
        assert AuditEvent.objects.filter(action="channel_settled", object_id=str(d.pk)).count() == 1
    assert channel_in_transit(merchant, day) == 0
    assert prove_merchant(merchant).ok


def test_a_settlement_that_does_not_add_up_waits_in_the_queue_without_suspense(merchant, channel):
    # given two credited channel deposits, and a third announced but not yet notified
    member = f.member(merchant)
    paid_through_channel(merchant, channel, member, "100.00", "C-1")
    paid_through_channel(merchant, channel, member, "250.00", "C-2")
    late = deposit_services.deposit_announce(merchant=merchant, actor=None, member=member, amount="50.00",
                                             order_no="C-3", method="channel", channel=channel)
    day = business_date_for()
    before = account_balances(merchant)
    # when the channel settles 400.00 (it counted the third one already)
    result = do_import(merchant, [settlement_row("S-1", day, "400.00")])
    # then the line waits in the exception queue with a clear note, and is NOT parked in suspense
    assert (result.matched, result.unmatched) == (0, 1)
    assert result.outcomes[line_outcomes.OUTCOME_CHANNEL_QUEUE] == 1
    line = StatementLine.objects.get(bank_reference="S-1")
    assert line.status == StatementLine.Status.UNMATCHED and line.suspense_entry_id is None
    assert "does not add up" in line.note and "400.00" in line.note and "suspense" in line.note
    assert account_balances(merchant) == before and account_balances(merchant)["suspense"] == 0
    assert Deposit.objects.filter(settled_at__isnull=False).count() == 0
    # and the suspense actions of the queue refuse it (they would take money suspense never got)
    with pytest.raises(InvalidState):
        exception_queue.statement_line_return(line=line, actor=f.ops(), reason="payer asked")
    with pytest.raises(InvalidState):
        exception_queue.statement_line_match_to_member(line=line, member=member, actor=f.ops(), reason="x")
    # when the late notification arrives, operations settle the line by hand
    channel_notification_accept(channel=channel, amount="50.00", transaction_id="T-C-3",
                                payment_code=late.payment_code)
    line = exception_queue.statement_line_settle_channel(line=line, actor=f.ops(), reason="late notification arrived")
    # then the three deposits are settled by it, still without booking anything
    assert line.status == StatementLine.Status.MATCHED
    assert set(Deposit.objects.filter(settlement_reference="S-1").values_list("order_no", flat=True)) == {
        "C-1", "C-2", "C-3"}
    assert account_balances(merchant)["suspense"] == 0 and prove_merchant(merchant).ok


def test_a_reimported_settlement_settles_nothing_twice(merchant, channel):
    # given a settlement already imported
    member = f.member(merchant)
    paid_through_channel(merchant, channel, member, "100.00", "C-1")
    day = business_date_for()
    do_import(merchant, [settlement_row("S-1", day, "100.00")])
    audits = AuditEvent.objects.count()
    # when the same file comes again
    again = do_import(merchant, [settlement_row("S-1", day, "100.00")])
    # then the line is a duplicate and nothing changes
    assert (again.imported, again.duplicates, again.matched) == (0, 1, 0)
    assert Deposit.objects.get(order_no="C-1").settlement_reference == "S-1"
    # (only the import's own audit record was added)
    assert AuditEvent.objects.count() == audits + 1
    # and a second settlement line for money already settled doesn't add up
    other = do_import(merchant, [settlement_row("S-2", day, "100.00")])
    assert other.unmatched == 1 and StatementLine.objects.get(bank_reference="S-2").suspense_entry_id is None


def test_settlement_takes_the_oldest_deposits_and_only_the_channels_own(merchant, channel):
    # given deposits of two channels, and the channel's account changed by operations
    other = payment_channel_create(actor=f.ops(), code="otherpay", name="OtherPay", app_id="other-1", secret="x")
    member = f.member(merchant)
    paid_through_channel(merchant, channel, member, "10.00", "C-1")
    paid_through_channel(merchant, channel, member, "20.00", "C-2")
    paid_through_channel(merchant, other, member, "10.00", "O-1")
    day = business_date_for()
    # when the channel settles 10.00
    do_import(merchant, [settlement_row("S-1", day, "10.00")])
    # then its oldest deposit is settled, not the other channel's
    assert list(Deposit.objects.filter(settlement_reference="S-1").values_list("order_no", flat=True)) == ["C-1"]
    assert channel_in_transit(merchant, day) == D("30.00")
    # and a line from an account no channel settles from is ordinary money in (parked)
    payment_channel_update(channel=channel, actor=f.ops(), settlement_account="9999")
    do_import(merchant, [settlement_row("S-2", day, "20.00")])
    assert StatementLine.objects.get(bank_reference="S-2").suspense_entry_id is not None


def test_end_of_day_counts_channel_money_in_transit(merchant, channel):
    # given a day with an offline deposit proved by the statement (the bank holds 1000.00) and a
    # channel deposit of 300.00 credited on the notification but not yet settled by the channel
    member = f.member(merchant)
    day = business_date_for()
    offline = announce(merchant, member, "1000.00", "D-1")
    do_import(merchant, [("SR1", day.isoformat(), "1000.00", "Zhang", "1", "B", offline.payment_code, "1000.00")])
    paid_through_channel(merchant, channel, member, "300.00", "C-1")
    # when the day ends
    run = eod_run(merchant=merchant, business_date=day, actor=None)
    # then the bank comparison takes the money in transit into account: no bank difference
    assert run.supervision_balance == D("1300.00")
    assert run.book_closing_balance == run.bank_closing_balance == D("1000.00")
    kinds = set(EodDifference.objects.filter(run=run).values_list("kind", flat=True))
    assert not kinds & {"bank_balance_mismatch", "bank_statement_missing", "totals_unbalanced"}
    # and the next working day the channel's settlement reaches the bank: nothing in transit
    nxt = next_working_day(day)
    do_import(merchant, [settlement_row("S-1", nxt, "300.00", balance="1300.00")])
    assert channel_in_transit(merchant, day) == D("300.00")  # the first day's close is unchanged
    assert channel_in_transit(merchant, nxt) == 0
    run = eod_run(merchant=merchant, business_date=nxt, actor=None)
    assert run.book_closing_balance == run.bank_closing_balance == D("1300.00")
    assert "bank_balance_mismatch" not in set(EodDifference.objects.filter(run=run).values_list("kind", flat=True))


def test_end_of_day_shows_a_real_difference_still(merchant, channel):
    # given the same day, but the bank's closing balance is 1.00 short
    member = f.member(merchant)
    day = business_date_for()
    offline = announce(merchant, member, "1000.00", "D-1")
    do_import(merchant, [("SR1", day.isoformat(), "1000.00", "Zhang", "1", "B", offline.payment_code, "999.00")])
    paid_through_channel(merchant, channel, member, "300.00", "C-1")
    run = eod_run(merchant=merchant, business_date=day, actor=None)
    # then the difference is the real one, not the money in transit
    diff = EodDifference.objects.get(run=run, kind="bank_balance_mismatch")
    assert (diff.expected_amount, diff.actual_amount) == (D("999.00"), D("1000.00"))



def test_the_queue_offers_a_settlement_that_did_not_add_up_only_the_settle_button(merchant, channel, client):
    from django.urls import reverse

    # given a channel settlement waiting in the queue (one deposit's notification came late)
    member = f.member(merchant)
    paid_through_channel(merchant, channel, member, "100.00", "C-1")
    late = deposit_services.deposit_announce(merchant=merchant, actor=None, member=member, amount="50.00",
                                             order_no="C-2", method="channel", channel=channel)
    do_import(merchant, [settlement_row("S-9", business_date_for(), "150.00")])
    line = StatementLine.objects.get(bank_reference="S-9")
    ops = f.ops()
    client.force_login(ops)
    # when operations open it, then only the settle button is offered (no suspense actions)
    page = client.get(reverse("admin:reconciliation_statementline_change", args=[line.pk])).content.decode()
    assert "/queue/settle_channel/" in page and "/queue/return/" not in page and "/queue/match_member/" not in page
    refused = client.post(reverse("admin:reconciliation_statementline_queue", args=[line.pk, "return"]),
                          {"reason": "x"}, follow=True)
    assert StatementLine.objects.get(pk=line.pk).status == StatementLine.Status.UNMATCHED
    assert "Refused" in refused.content.decode() or "拒绝" in refused.content.decode()
    # when the late notification arrives and they settle the line with a reason
    channel_notification_accept(channel=channel, amount="50.00", transaction_id="T-C-2",
                                payment_code=late.payment_code)
    client.post(reverse("admin:reconciliation_statementline_queue", args=[line.pk, "settle_channel"]),
                {"reason": "late notification arrived"})
    # then the line is matched and both deposits are settled by it, nothing booked
    assert StatementLine.objects.get(pk=line.pk).status == StatementLine.Status.MATCHED
    assert Deposit.objects.filter(settlement_reference="S-9").count() == 2
    assert account_balances(merchant)["suspense"] == 0 and prove_merchant(merchant).ok
