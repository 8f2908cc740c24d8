"""On PostgreSQL a guaranteed payment's full release is one call of the release function
(ledger.sql.release), then the audit record's few statements and the event's insert; the answer
is the payment as released, built without a query."""
from decimal import Decimal

import pytest

from ledger.models import EntryType, Payment
from ledger.selectors import prove_merchant
from ledger.services.payments import payment_create
from ledger.services.releases import payment_release
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
D = Decimal
AUDIT = ("SELECT s.chain, s.lane, pg_advisory_xact_lock", "SELECT coalesce((SELECT hash FROM core_auditevent", 'INSERT INTO "core_auditevent"')
EVENT = 'INSERT INTO "merchants_webhookdelivery"'


@pytest.fixture
def held():
    """Three payments of 10.00 held for two sellers (5.00 and 4.00) and a fee of 1.00; webhooks on."""
    merchant = f.active_merchant()
    sent = f.listening(merchant)
    buyer, seller, other = f.member(merchant), f.member(merchant), f.member(merchant)
    f.funded(buyer, "100.00")
    payments = [payment_create(merchant=merchant, actor=None, payer=buyer, amount="10.00", order_no=f"G-{i}",
                               mode="guaranteed", splits=[(seller, "5.00"), (other, "4.00")], platform_fee="1.00")[0]
                for i in range(3)]
    return merchant, sent, payments


def test_on_postgresql_a_full_release_is_one_call_of_the_release_function(held, django_assert_max_num_queries):
    # given a merchant whose calendar lookup is already done this minute (one release before)
    merchant, sent, (warm_up, payment, _third) = held
    payment_release(payment=warm_up, actor=None)
    # when a payment is released in full
    with django_assert_max_num_queries(7) as context:  # and the savepoint of the test's transaction, and its release
        released = payment_release(payment=payment, actor=None)
    # then the books took one call; the audit record its lock, its chain's tail and its row; the event its row
    statements = [q["sql"] for q in context.captured_queries
                  if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    assert statements[0].startswith("SELECT * FROM ledger_release_payment(")
    assert [sql.startswith(AUDIT[i]) for i, sql in enumerate(statements[1:4])] == [True, True, True], statements
    assert statements[4].startswith(EVENT) and len(statements) == 5, statements
    # and the answer is the payment as released
    assert (released.status, released.released_amount, released.held_amount) == (
        Payment.Status.RELEASED, D("10.00"), D("0.00"))
    fresh = Payment.objects.get(pk=payment.pk)
    assert (fresh.status, fresh.released_amount, fresh.release_entry_id, fresh.released_at) == (
        released.status, released.released_amount, released.release_entry_id, released.released_at)
    assert fresh.release_entry.entry_type == EntryType.PAYMENT_RELEASE
    assert sent("payment.released")[-1][1]["payees"] == [{"user_id": payment.splits.all()[0].payee.user_id,
                                                          "amount": "5.00"},
                                                         {"user_id": payment.splits.all()[1].payee.user_id,
                                                          "amount": "4.00"}]
    assert prove_merchant(merchant).ok


def test_a_replay_of_a_full_release_is_answered_by_the_call_alone(held, django_assert_num_queries):
    # given a payment released under a reference
    _merchant, _sent, (payment, _second, _third) = held
    payment_release(payment=payment, actor=None, idempotency_ref="api:K1")
    # when the same request comes again, then the one call answers it (in its savepoint): no audit record, no event
    with django_assert_num_queries(3) as context:
        again = payment_release(payment=payment, actor=None, idempotency_ref="api:K1")
    assert [q["sql"] for q in context.captured_queries if "ledger_release_payment" in q["sql"]] != []
    assert again.status == Payment.Status.RELEASED and again.released_amount == D("10.00")
