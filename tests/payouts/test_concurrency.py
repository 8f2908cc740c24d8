"""Two payout batch builds racing on PostgreSQL (real transactions, real threads) never put a
withdrawal or a card's micro-deposit in two live batches: one gathers them, the other finds
nothing due — and the partial unique indexes refuse a second live line even without the lock."""
import pytest
from django.db import IntegrityError, transaction

from core.errors import InvalidState
from payouts.models import PayoutLine
from payouts.services.batches import payout_batch_build
from tests import factories as f
from tests.ledger.test_payment_concurrency import run_together

from .helpers import world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_builds_never_include_a_payment_twice():
    # given a merchant with five approved withdrawals and a micro-deposit to send
    merchant, withdrawals, card = world(("10.00", "20.00", "30.00", "40.00", "50.00"))
    users = [f.ops() for _ in range(4)]
    # when four operations users build at the same moment
    results = run_together(4, lambda i: payout_batch_build(merchant=merchant, actor=users[i]))
    # then exactly one batch holds everything; the others found nothing due
    built = [batch for batch, error in results if batch is not None]
    errors = [error for _batch, error in results if error is not None]
    assert len(built) == 1 and len(errors) == 3 and all(isinstance(e, InvalidState) for e in errors)
    live = PayoutLine.objects.filter(live=True, merchant_id=merchant.pk)
    assert live.filter(kind="withdrawal").count() == 5 and live.filter(kind="micro_deposit").count() == 1
    assert sorted(live.values_list("withdrawal_id", flat=True).exclude(withdrawal_id=None)) == sorted(
        w.pk for w in withdrawals)


def test_the_database_refuses_a_second_live_line_for_one_withdrawal():
    merchant, withdrawals, _card = world(("10.00",))
    batch = payout_batch_build(merchant=merchant, actor=f.ops())
    line = batch.lines.get(kind="withdrawal")
    line.pk, line.end_to_end_id = None, line.end_to_end_id + "X"
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()
