"""Keys scoped by merchant: a payment code and "reversed once" are unique per
merchant, and a row can never point at another merchant's row (composite foreign keys)."""
import pytest
from django.db import IntegrityError, connection, transaction

from core.errors import DuplicateOrder, NotFound
from ledger.channels import channel_notification_accept
from ledger.models import AccountKind, Deposit, EntryType, JournalEntry
from ledger.posting import Leg, post_entry
from ledger.services import deposits
from ledger.services.accounts import member_accounts, platform_account
from ledger.services.channels import payment_channel_create
from ledger.services.reversal import entry_reverse
from tests import factories as f

pytestmark = pytest.mark.django_db


def announce(merchant, order_no, **kw):
    return deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="10.00",
                                     order_no=order_no, method=kw.pop("method", "offline_transfer"), **kw)


def credited(merchant, order_no):
    deposit = announce(merchant, order_no)
    return deposits.deposit_credit(deposit=deposit, actor=None, amount="10.00", proof_kind="statement_line",
                                   proof_reference=f"SR-{deposit.pk}")


def test_two_merchants_may_share_a_payment_code_and_a_collision_draws_another(monkeypatch):
    # given a deposit of merchant A with code X
    a, b = f.active_merchant(), f.active_merchant()
    codes = iter(["K7Q2M9XW3P", "K7Q2M9XW3P", "K7Q2M9XW3P", "H8R3N4YZ5T", "M5P6Q7R8S9"])
    monkeypatch.setattr(deposits, "new_payment_code", lambda: next(codes))
    first = announce(a, "D-1")
    # when merchant B draws the same code, then it keeps it: codes are matched per supervision account
    assert announce(b, "D-1").payment_code == first.payment_code
    # when merchant A draws it again, then it is a collision, not a duplicate order: another code is drawn
    assert announce(a, "D-2").payment_code == "H8R3N4YZ5T"
    # and a reused order number is still a duplicate order
    with pytest.raises(DuplicateOrder):
        announce(a, "D-1")
    assert deposits.find_open_deposit_by_code(b, "货款 K7Q2M9XW3P").merchant == b


def test_a_channel_notification_for_a_shared_code_needs_the_account_to_say_whose(monkeypatch):
    channel = payment_channel_create(actor=f.ops(), code="fastpay", name="FastPay", app_id="fastpay-app-1",
                                     secret="channel-secret-for-tests-0123456789")
    a, b = f.active_merchant(), f.active_merchant()
    monkeypatch.setattr(deposits, "new_payment_code", lambda: "K7Q2M9XW3P")
    for_a, for_b = announce(a, "D-1", channel=channel, method="channel"), announce(b, "D-1", channel=channel,
                                                                                   method="channel")
    # given no supervision account: neither deposit is trusted, nothing is booked
    with pytest.raises(NotFound):
        channel_notification_accept(channel=channel, amount="10.00", transaction_id="T-1", payment_code="K7Q2M9XW3P")
    # given B's supervision account: B's deposit is credited, A's is untouched
    outcome = channel_notification_accept(channel=channel, amount="10.00", transaction_id="T-2",
                                          payment_code="K7Q2M9XW3P", account_number=b.supervision_account_number)
    assert outcome.result == "credited" and outcome.deposit.pk == for_b.pk
    assert Deposit.objects.get(pk=for_a.pk).status == Deposit.Status.AWAITING_FUNDS


def test_the_database_reverses_an_entry_at_most_once():
    merchant = f.active_merchant()
    entry = credited(merchant, "D-1").entry
    reversal = entry_reverse(entry=entry, actor=f.ops(), reason="Wrong member")
    assert list(entry.reversed_by.all()) == [reversal]
    # when something bypasses the service and books a second reversal, then the database refuses it
    available, _frozen = member_accounts(Deposit.objects.get(entry=entry).member)
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    with pytest.raises(IntegrityError), transaction.atomic():
        post_entry(merchant=merchant, entry_type=EntryType.REVERSAL, idempotency_ref="again", actor=None,
                   legs=[Leg(supervision, 1), Leg(available, 1)], reverses=entry)
    assert JournalEntry.objects.filter(reverses=entry).count() == 1


@pytest.mark.postgres
def test_a_row_never_points_at_another_merchants_row():
    # given a deposit of merchant A and an entry of merchant B
    deposit = announce(f.active_merchant(), "D-1")
    other_entry = credited(f.active_merchant(), "D-2").entry
    # when A's deposit is pointed at B's entry, then the database refuses it (checked at commit,
    # forced here)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deposit.objects.filter(pk=deposit.pk).update(entry=other_entry)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
