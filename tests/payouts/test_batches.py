"""Payout batches: what a build gathers, and every transition of the batch workflow, allowed and
refused (maker-checker: the releaser is neither the builder nor the submitter)."""
from decimal import Decimal

import pytest

from core.errors import InvalidState, PermissionRefused, ValidationFailed
from ledger.models import Withdrawal
from merchants.models import MicroDeposit
from payouts.models import PayoutBatch, PayoutLine
from payouts.services import batches
from tests import factories as f

from .helpers import released, world

pytestmark = pytest.mark.django_db
S = PayoutBatch.Status


def _built(amounts=("100.00", "250.50")):
    merchant, withdrawals, card = world(amounts)
    builder = f.ops()
    return batches.payout_batch_build(merchant=merchant, actor=builder), builder, withdrawals, card


def test_a_build_gathers_approved_withdrawals_and_pending_micro_deposits_with_count_and_control_sum():
    # given two approved withdrawals and a business card whose micro-deposit is to be sent
    merchant, withdrawals, card = world(("100.00", "250.50"))
    # when operations build the day's batch
    batch = batches.payout_batch_build(merchant=merchant, actor=f.ops())
    # then it holds the three payments, counted and summed, with the payee's details copied
    assert batch.status == S.DRAFT and batch.count == 3
    assert batch.control_sum == Decimal("350.50") + card.micro_deposit_amount
    lines = list(batch.lines.order_by("pk"))
    assert [line.kind for line in lines] == ["withdrawal", "withdrawal", "micro_deposit"]
    assert lines[0].withdrawal == withdrawals[0] and lines[0].payee_name == withdrawals[0].bank_card.account_name
    assert lines[0].payee_account_number == withdrawals[0].bank_card.account_number
    assert "***" in lines[0].payee_masked_number
    assert len({line.end_to_end_id for line in lines}) == 3 and all(
        line.end_to_end_id.startswith(batch.reference) for line in lines)
    # and nothing has moved yet: the withdrawals wait approved, the micro-deposit to be sent
    assert {w.status for w in Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals])} == {"approved"}
    card.refresh_from_db()
    assert card.micro_deposit_status == MicroDeposit.PENDING


def test_a_second_build_finds_nothing_already_in_a_live_batch():
    # given a built batch
    batch, builder, _w, _c = _built()
    # when operations build again, then nothing is due (each payment is in one live batch only)
    with pytest.raises(InvalidState):
        batches.payout_batch_build(merchant=batch.merchant, actor=builder)


def test_a_build_leaves_out_withdrawals_waiting_for_approval_and_later_value_dates():
    # given a withdrawal over the approval threshold (pending approval) and nothing else
    merchant = f.active_merchant()
    from merchants.models import Merchant

    from .helpers import seller_with_card, withdraw
    Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=Decimal("10.00"))
    merchant.refresh_from_db()
    seller, card = seller_with_card(merchant)
    pending = withdraw(merchant, seller, card, "50.00")
    assert pending.status == Withdrawal.Status.PENDING_APPROVAL
    # when a build runs, then it is refused: nothing is due
    with pytest.raises(InvalidState):
        batches.payout_batch_build(merchant=merchant, actor=f.ops())


def test_a_user_without_the_build_permission_may_not_build():
    merchant, _w, _c = world()
    with pytest.raises(PermissionRefused):
        batches.payout_batch_build(merchant=merchant, actor=f.auditor())


def test_submit_then_a_second_person_releases_withdrawals_to_processing_and_micro_deposits_to_sent():
    # given a draft batch built by one operations user
    batch, builder, withdrawals, card = _built()
    # when they submit it and another operations user approves and releases it
    batches.payout_batch_submit(batch=batch, actor=builder)
    checker = f.ops()
    batch = batches.payout_batch_release(batch=batch, actor=checker)
    # then the batch is released and the payments are on their way
    assert batch.status == S.RELEASED and batch.approved_by == checker and batch.released_at
    assert set(Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals]).values_list("status", flat=True)) == {
        "processing"}
    card.refresh_from_db()
    assert card.micro_deposit_status == MicroDeposit.SENT


def test_the_builder_may_not_release_their_own_batch():
    batch, builder, _w, _c = _built()
    batches.payout_batch_submit(batch=batch, actor=builder)
    with pytest.raises(PermissionRefused):
        batches.payout_batch_release(batch=batch, actor=builder)
    batch.refresh_from_db()
    assert batch.status == S.SUBMITTED


def test_the_submitter_may_not_release_a_batch_the_beat_built():
    # given a batch built by the beat (no person) and submitted by an operations user
    merchant, _w, _c = world()
    batch = batches.payout_batch_build(merchant=merchant, actor=None)
    submitter = f.ops()
    batches.payout_batch_submit(batch=batch, actor=submitter)
    # when the submitter tries to release it, then it is refused; another person may
    with pytest.raises(PermissionRefused):
        batches.payout_batch_release(batch=batch, actor=submitter)
    assert batches.payout_batch_release(batch=batch, actor=f.ops()).status == S.RELEASED


def test_a_system_job_and_an_auditor_may_not_release():
    batch, builder, _w, _c = _built()
    batches.payout_batch_submit(batch=batch, actor=builder)
    with pytest.raises(PermissionRefused):
        batches.payout_batch_release(batch=batch, actor=None)
    with pytest.raises(PermissionRefused):
        batches.payout_batch_release(batch=batch, actor=f.auditor())


def test_a_draft_is_not_released_before_it_is_submitted():
    batch, _builder, _w, _c = _built()
    with pytest.raises(InvalidState):
        batches.payout_batch_release(batch=batch, actor=f.ops())


def test_a_draft_and_a_submitted_batch_may_be_cancelled_and_their_payments_built_again():
    # given a draft, cancelled with a reason
    batch, builder, withdrawals, _c = _built()
    batch = batches.payout_batch_cancel(batch=batch, actor=builder, reason="wrong value date")
    assert batch.status == S.CANCELLED and not PayoutLine.objects.filter(batch=batch, live=True).exists()
    # when operations build again, then the same payments are in the new batch
    again = batches.payout_batch_build(merchant=batch.merchant, actor=builder)
    assert set(again.lines.values_list("withdrawal_id", flat=True)) >= {w.pk for w in withdrawals}
    # and a submitted batch may be cancelled too
    batches.payout_batch_submit(batch=again, actor=builder)
    assert batches.payout_batch_cancel(batch=again, actor=f.ops(), reason="hold").status == S.CANCELLED


def test_cancelling_needs_a_reason_and_is_refused_once_released():
    batch, builder, _w, _c = _built()
    with pytest.raises(ValidationFailed):
        batches.payout_batch_cancel(batch=batch, actor=builder, reason=" ")
    batch, _w, _c = released()
    with pytest.raises(InvalidState):
        batches.payout_batch_cancel(batch=batch, actor=f.ops(), reason="too late")


def test_submit_is_refused_twice_and_for_an_auditor():
    batch, builder, _w, _c = _built()
    with pytest.raises(PermissionRefused):
        batches.payout_batch_submit(batch=batch, actor=f.auditor())
    batches.payout_batch_submit(batch=batch, actor=builder)
    with pytest.raises(InvalidState):
        batches.payout_batch_submit(batch=batch, actor=builder)


def test_a_release_a_freeze_now_stops_is_refused_whole_naming_the_payment():
    # given a submitted batch whose merchant the risk office froze since
    from merchants.services.lifecycle import merchant_freeze

    batch, builder, withdrawals, card = _built()
    batches.payout_batch_submit(batch=batch, actor=builder)
    merchant_freeze(merchant=batch.merchant, actor=f.risk(), reason="court order")
    # when another person releases it, then it is refused and nothing moved
    with pytest.raises(InvalidState) as err:
        batches.payout_batch_release(batch=batch, actor=f.ops())
    assert batch.reference in str(err.value.message)
    batch.refresh_from_db()
    card.refresh_from_db()
    assert batch.status == S.SUBMITTED and card.micro_deposit_status == MicroDeposit.PENDING
    assert Withdrawal.objects.get(pk=withdrawals[0].pk).status == "approved"


def test_the_beat_builds_one_batch_per_merchant_with_something_due():
    # given two merchants with payments due and one without
    world()
    world(("5.00",))
    f.active_merchant()
    # when the beat's build runs, then each merchant with something due has a draft batch
    built = batches.payout_batches_build_due(actor=None)
    assert len(built) >= 2 and all(b.status == S.DRAFT and b.created_by is None for b in built)
    # and a rerun finds nothing new
    assert batches.payout_batches_build_due(actor=None) == []
