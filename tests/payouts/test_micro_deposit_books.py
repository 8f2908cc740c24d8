"""Micro-deposits in the books (ledger.services.micro_deposits): the platform pays them from its own
money (fee income); the money leaves the supervision account when the bank proves it paid; a
returned one books nothing; a batch never sends what the platform can't pay."""
from decimal import Decimal

import pytest
from django.db import transaction

from core.errors import InsufficientFunds
from ledger.models import AccountKind, EntryType, JournalEntry
from ledger.posting import Leg, post_entry
from ledger.services.accounts import platform_account
from ledger.selectors import account_balances, prove_merchant
from merchants.models import MicroDeposit
from payouts.models import PayoutLine
from payouts.services import answers, batches
from tests import factories as f

from .helpers import fee_income, released, world

pytestmark = pytest.mark.django_db


def _micro_line(batch):
    return batch.lines.get(kind=PayoutLine.Kind.MICRO_DEPOSIT)


def test_a_paid_micro_deposit_leaves_the_platform_s_fee_income_and_the_supervision_account():
    # given a released batch with a micro-deposit, the platform holding 5.00 of fee income
    batch, _withdrawals, card = released(("100.00",))
    line = _micro_line(batch)
    events = f.listening(batch.merchant)
    before = account_balances(batch.merchant)
    # when the bank answers that it paid the micro-deposit
    answers.answer_line(line, status=PayoutLine.Status.PAID, actor=f.ops(), bank_reference="BK-MD-1")
    # then one entry moved it out: fee income and supervision down by its amount, books balanced
    after = account_balances(batch.merchant)
    assert after["fee_income"] == before["fee_income"] - line.amount
    assert after["supervision"] == before["supervision"] - line.amount
    entry = JournalEntry.objects.get(merchant=batch.merchant, entry_type=EntryType.MICRO_DEPOSIT)
    assert (entry.order_no, entry.payee_id, entry.order_amount) == (line.end_to_end_id, card.member_id, line.amount)
    assert prove_merchant(batch.merchant).ok
    # and the platform is told, so it can ask the member to read the amount back
    (_type, data), = events("bank_card.micro_deposit_paid")
    assert data == {"user_id": card.member.user_id, "bank_card_id": card.pk, "masked_number": card.masked_number}
    # and the same answer again books nothing more
    line.refresh_from_db()
    assert answers.answer_line(line, status=PayoutLine.Status.PAID, actor=f.ops(), bank_reference="BK-MD-1") is False
    assert JournalEntry.objects.filter(merchant=batch.merchant, entry_type=EntryType.MICRO_DEPOSIT).count() == 1
    assert len(events("bank_card.micro_deposit_paid")) == 1


def test_a_returned_micro_deposit_books_nothing():
    batch, _withdrawals, card = released(("100.00",))
    before = account_balances(batch.merchant)
    answers.answer_line(_micro_line(batch), status=PayoutLine.Status.RETURNED, actor=f.ops(), reason="户名不符")
    card.refresh_from_db()
    assert card.micro_deposit_status == MicroDeposit.RETURNED
    assert account_balances(batch.merchant) == before
    assert not JournalEntry.objects.filter(merchant=batch.merchant, entry_type=EntryType.MICRO_DEPOSIT).exists()


def test_a_batch_leaves_out_the_micro_deposits_the_platform_can_t_pay():
    # given a platform with no fee income, an approved withdrawal and a card to verify
    merchant, withdrawals, card = world(("100.00",), platform_money=None)
    # when a batch is built
    batch = batches.payout_batch_build(merchant=merchant, actor=f.ops())
    # then it carries the withdrawal only; the micro-deposit waits, still pending
    assert list(batch.lines.values_list("kind", flat=True)) == [PayoutLine.Kind.WITHDRAWAL]
    card.refresh_from_db()
    assert card.micro_deposit_status == MicroDeposit.PENDING
    # and once the platform has earned enough, the next batch sends it
    fee_income(merchant, "5.00")
    later = batches.payout_batch_build(merchant=merchant, actor=f.ops())
    assert list(later.lines.values_list("bank_card_id", flat=True)) == [card.pk]


def test_a_release_is_refused_when_the_platform_spent_the_money_for_its_micro_deposits():
    # given a batch built while the platform's fee income (1.00) could pay its micro-deposit (< 1.00)
    merchant, _withdrawals, _card = world(("100.00",), platform_money="1.00")
    builder, checker = f.ops(), f.ops()
    batch = batches.payout_batch_build(merchant=merchant, actor=builder)
    batches.payout_batch_submit(batch=batch, actor=builder)
    # when that money leaves the platform's account before the release
    with transaction.atomic():
        post_entry(merchant=merchant, entry_type=EntryType.ADJUSTMENT, idempotency_ref="spent", actor=None,
                   legs=[Leg(platform_account(merchant, AccountKind.FEE_INCOME), Decimal("-1.00")),
                         Leg(platform_account(merchant, AccountKind.SUPERVISION), Decimal("-1.00"))])
    # then the release is refused, naming the platform's account, and nothing is sent
    with pytest.raises(InsufficientFunds, match="fee income"):
        batches.payout_batch_release(batch=batch, actor=checker)
    batch.refresh_from_db()
    assert batch.status == "submitted" and _micro_line(batch).status == PayoutLine.Status.PENDING
