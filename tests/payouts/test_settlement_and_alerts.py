"""The supervision account's statement settles payouts (money out naming the batch reference or
a payment's end-to-end id in the remark, through reconciliation's money-out hook); the operations
dashboard shows withdrawals not paid the working day after their value date."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.models import Withdrawal
from merchants.models import MicroDeposit
from payouts.models import PayoutBatch, PayoutLine
from payouts.selectors import overdue_withdrawals
from reconciliation.models import StatementLine
from reconciliation.services.imports import statement_import
from tests import factories as f
from tests.reconciliation.builders import english

from .helpers import released

pytestmark = pytest.mark.django_db


def _import(merchant, *rows):
    result = statement_import(account_number=merchant.supervision_account_number, stream=english(rows),
                              actor=f.ops())
    assert not result.refused, result.errors
    return result


def _row(ref, amount, remark):
    return (ref, date.today().isoformat(), amount, "Payee", "6222000000000000", "ICBC", remark, "")


def test_one_statement_line_naming_the_batch_settles_every_payment_in_it():
    # given a released batch of two withdrawals and a micro-deposit
    batch, withdrawals, card = released(("100.00", "250.50"))
    # when the statement shows the batch debited in one amount, its reference in the remark
    result = _import(batch.merchant, _row("S-1", f"-{batch.control_sum}", f"代发 {batch.reference}"))
    # then every payment is paid and the batch settled; the line is matched, not queued
    assert result.outcomes["settled_by_hook"] == 1 and result.unmatched == 0
    assert set(Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals]).values_list("status", flat=True)) == {
        "paid"}
    batch.refresh_from_db()
    card.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SETTLED and card.micro_deposit_status == MicroDeposit.PAID
    line = StatementLine.objects.get(bank_reference="S-1")
    assert line.status == StatementLine.Status.MATCHED and batch.reference in line.note


def test_lines_naming_end_to_end_ids_settle_their_payments_and_match_the_withdrawals():
    # given a released batch
    batch, withdrawals, card = released(("100.00", "250.50"))
    first, second, micro = batch.lines.order_by("pk")
    # when the statement shows two of its payments by end-to-end id
    result = _import(batch.merchant, _row("S-1", "-100.00", f"付款 {first.end_to_end_id}"),
                     _row("S-2", f"-{micro.amount}", micro.end_to_end_id))
    # then the withdrawal is paid and its statement line linked to it; the micro-deposit is paid
    assert result.outcomes["withdrawal"] == 1 and result.outcomes["settled_by_hook"] == 1
    paid = Withdrawal.objects.get(pk=withdrawals[0].pk)
    assert paid.status == "paid" and paid.bank_reference == "S-1"
    assert StatementLine.objects.get(bank_reference="S-1").withdrawal_id == paid.pk
    # and the batch waits, partially settled, for the third
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PARTIALLY_SETTLED
    assert PayoutLine.objects.get(pk=second.pk).status == "pending"


def test_a_line_whose_amount_differs_settles_nothing_and_waits_in_the_exception_queue():
    batch, withdrawals, _card = released(("100.00",))
    result = _import(batch.merchant, _row("S-1", "-99.00", batch.reference))
    assert result.outcomes["queue_out"] == 1
    assert Withdrawal.objects.get(pk=withdrawals[0].pk).status == "processing"
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.RELEASED


def test_a_withdrawal_not_paid_the_working_day_after_its_value_date_is_an_alert():
    # given a released withdrawal whose value date was a Monday
    batch, withdrawals, _card = released(("100.00",))
    monday = date(2026, 11, 30)
    Withdrawal.objects.filter(pk=withdrawals[0].pk).update(value_date=monday)
    merchants = [batch.merchant]
    # when operations look on the same day, then it is not late yet
    assert overdue_withdrawals(merchants, as_of=monday).count == 0
    # when they look on Tuesday and it is still not paid, then it is an alert naming its batch
    late = overdue_withdrawals(merchants, as_of=monday + timedelta(days=1))
    assert late.count == 1 and late.withdrawals[0].payout_batch == batch.reference
    # and once paid it is gone
    Withdrawal.objects.filter(pk=withdrawals[0].pk).update(status="paid")
    assert overdue_withdrawals(merchants, as_of=monday + timedelta(days=1)).count == 0


def test_friday_s_withdrawal_is_late_on_monday_not_on_the_weekend():
    friday = date(2026, 11, 27)
    merchant = f.active_merchant()
    from .helpers import seller_with_card, withdraw

    seller, card = seller_with_card(merchant)
    w = withdraw(merchant, seller, card, "10.00")
    Withdrawal.objects.filter(pk=w.pk).update(value_date=friday)
    assert overdue_withdrawals([merchant], as_of=friday + timedelta(days=2)).count == 0
    assert overdue_withdrawals([merchant], as_of=friday + timedelta(days=3)).count == 1


def test_the_operations_dashboard_shows_the_overdue_panel(client):
    # given an overdue withdrawal and an operations user
    batch, withdrawals, _card = released(("100.00",))
    Withdrawal.objects.filter(pk=withdrawals[0].pk).update(value_date=date.today() - timedelta(days=7))
    user = f.ops()
    client.force_login(user)
    # when they open the admin index, then the panel lists it
    page = client.get("/admin/").content.decode()
    assert 'id="overdue-payouts"' in page and withdrawals[0].order_no in page
    assert Decimal("100.00") == Withdrawal.objects.get(pk=withdrawals[0].pk).amount
