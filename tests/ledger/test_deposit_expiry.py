"""Announced deposits that are never paid expire: status `expired`, a `deposit.expired` event,
and no proof can credit them afterwards — the money that comes for them waits in suspense, in
the exception queue, for operations."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import InvalidState
from core.models import AuditEvent
from ledger.channels import channel_notification_accept
from ledger.models import Deposit
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services import deposits
from ledger.services.channels import payment_channel_create
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def shop(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "DEPOSIT_EXPIRY_DAYS": 3}
    merchant = f.active_merchant()
    return merchant, f.member(merchant)


def announce(merchant, member, order_no, *, days_ago, **kw):
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount="50.00",
                                        order_no=order_no, method=kw.pop("method", "offline_transfer"), **kw)
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    deposit.refresh_from_db()
    return deposit


def test_an_unpaid_deposit_expires_after_the_configured_days_and_the_platform_is_told(shop):
    # given one deposit announced 4 days ago, one 2 days ago, and one paid 5 days ago
    merchant, member = shop
    events = f.listening(merchant)
    old = announce(merchant, member, "D-OLD", days_ago=4)
    young = announce(merchant, member, "D-YOUNG", days_ago=2)
    paid = announce(merchant, member, "D-PAID", days_ago=5)
    deposits.deposit_credit(deposit=paid, actor=None, amount="50.00", proof_kind="statement_line",
                            proof_reference="SL-PAID")
    # when the expiry runs (twice: a second beat expires nothing more)
    assert deposits.deposits_expire_due() == 1
    assert deposits.deposits_expire_due() == 0
    # then only the old unpaid one expired, with its reason on record and an event
    statuses = dict(Deposit.objects.values_list("order_no", "status"))
    assert statuses == {"D-OLD": "expired", "D-YOUNG": "awaiting_funds", "D-PAID": "succeeded"}
    audit = AuditEvent.objects.get(object_id=str(old.pk), action="expire")
    assert (audit.from_state, audit.to_state, audit.actor_label) == ("awaiting_funds", "expired", "deposit-expiry")
    assert "3 days" in audit.reason
    assert [(kind, data["order_no"]) for kind, data in events("deposit.expired")] == [("deposit.expired", "D-OLD")]
    assert young.status == "awaiting_funds"


def test_no_proof_credits_an_expired_deposit(shop):
    merchant, member = shop
    deposit = announce(merchant, member, "D-LATE", days_ago=10)
    deposits.deposits_expire_due()
    deposit.refresh_from_db()
    with pytest.raises(InvalidState):
        deposits.deposit_credit(deposit=deposit, actor=None, amount="50.00", proof_kind="statement_line",
                                proof_reference="SL-LATE")
    with pytest.raises(InvalidState):
        deposits.suspense_match_to_deposit(merchant=merchant, actor=f.ops(), deposit=deposit, amount="50.00",
                                           reference="SL-LATE", reason="late payer")
    assert member_balance(member)["available"] == 0
    assert deposits.find_open_deposit_by_code(merchant, f"pay {deposit.payment_code}") is None
    assert prove_merchant(merchant).ok


def test_a_channel_notice_for_an_expired_deposit_is_parked_in_suspense(shop):
    merchant, member = shop
    channel = payment_channel_create(actor=f.ops(), code="latepay", name="LatePay", app_id="latepay-app",
                                     secret="late-secret-0123456789abcdef")
    deposit = announce(merchant, member, "D-CH", days_ago=10, channel=channel, method="channel")
    deposits.deposits_expire_due()
    outcome = channel_notification_accept(channel=channel, amount="50.00", transaction_id="T-LATE",
                                          payment_code=deposit.payment_code)
    assert outcome.result == "suspense"
    assert account_balances(merchant)["suspense"] == D("50.00") and member_balance(member)["available"] == 0
    assert prove_merchant(merchant).ok


def test_only_an_awaiting_deposit_can_expire(shop):
    merchant, member = shop
    deposit = announce(merchant, member, "D-X", days_ago=10)
    deposits.deposit_credit(deposit=deposit, actor=None, amount="50.00", proof_kind="statement_line",
                            proof_reference="SL-X")
    from django_fsm import TransitionNotAllowed

    deposit.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        deposit.expire()
    assert deposits.deposits_expire_due() == 0


def test_the_expiry_runs_hourly_on_the_beat():
    from config.celery import app
    from ledger import tasks

    assert app.conf.beat_schedule["ledger-expire-stale-deposits"]["task"] == tasks.expire_stale_deposits.name
