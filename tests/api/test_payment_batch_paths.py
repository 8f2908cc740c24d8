"""The two ways a batch is booked can never drift: on PostgreSQL a batch is decided in memory
and written set-based (ledger.services.payment_batch._book_set_based); item by item through
payment_create is the fallback (SQLite, or an order number taken concurrently). Hypothesis runs
the same random batch through both, on two merchants with the same members and money, and
requires identical answers, payments, balances and statement lines."""
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ApplicationError
from ledger.models import AccountKind, Payment, Posting
from ledger.selectors import account_balances, prove_merchant
from ledger.services import deposits, payment_batch
from ledger.services.payment_batch import BatchItem, BatchItemRefused
from merchants.models import Member
from merchants.services.members import member_freeze
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
D = Decimal
USERS = ("a", "b", "c", "frozen")


def _world(tag):
    merchant = f.active_merchant()
    members = {u: f.member(merchant, user_id=f"{u}") for u in USERS}
    for user_id, amount in (("a", "60.00"), ("b", "25.00"), ("frozen", "10.00")):
        deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=members[user_id], amount=amount,
                                            order_no=f"D-{tag}-{user_id}", method="offline_transfer")
        deposits.deposit_credit(deposit=deposit, actor=None, amount=amount, proof_kind="statement_line",
                                proof_reference=f"SL-{deposit.pk}")
    member_freeze(member=members["frozen"], actor=f.risk(), reason="check")
    payment_batch.payment_create_batch(merchant=merchant, actor=None, items=[
        BatchItem("a", D("3.00"), "OLD", "direct", payee_user_id="b")])
    return merchant


@st.composite
def items(draw):
    payer = draw(st.sampled_from(USERS + ("ghost",)))
    payee = draw(st.sampled_from(USERS))
    amount = draw(st.sampled_from([D("1.00"), D("5.00"), D("20.00"), D("45.50")]))
    fee = draw(st.sampled_from([None, D("0.50")]))
    order_no = draw(st.sampled_from(["O1", "O2", "O3", "O4", "O5", "OLD"]))
    mode = draw(st.sampled_from(["direct", "guaranteed"]))
    if draw(st.booleans()):
        return BatchItem(payer, amount, order_no, mode, payee_user_id=payee, platform_fee=fee)
    rest = amount - (fee or 0) - D("0.50")
    return BatchItem(payer, amount, order_no, mode, splits=((payee, rest), ("c", D("0.50"))), platform_fee=fee)


def _run(merchant, batch, *, atomic, set_based):
    members = {m.user_id: m for m in Member.objects.filter(merchant=merchant)}
    book = payment_batch._book_set_based if set_based else payment_batch._book_one_by_one
    try:
        with transaction.atomic():
            outcomes = book(merchant=merchant, actor=None, items=batch, atomic=atomic, members=members)
    except BatchItemRefused as refused:
        return ("refused", refused.index, refused.code, refused.status)
    return [(o.error.code, o.error.status) if o.error else (o.payment.order_no, o.created) for o in outcomes]


def _books(merchant):
    lines = {}
    for user_id in USERS:
        member = Member.objects.get(merchant=merchant, user_id=user_id)
        lines[user_id] = list(Posting.objects.filter(account__member=member).order_by("id")
                              .values_list("account__kind", "amount", "balance_after"))
    payments = sorted(Payment.objects.filter(merchant=merchant).values_list(
        "order_no", "payer__user_id", "amount", "platform_fee", "status", "mode", "entry__entry_type"))
    balances = account_balances(merchant)
    hot = {kind: balances[kind] for kind in (AccountKind.ESCROW, AccountKind.FEE_INCOME)}
    return lines, payments, hot


@given(batch=st.lists(items(), min_size=1, max_size=12), atomic=st.booleans())
@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_set_based_and_item_by_item_book_the_same(batch, atomic):
    # given two merchants with the same members, money, a frozen member and an order already booked
    one, other = _world("set"), _world("one")
    # when the same batch is booked set-based on one and item by item on the other
    answers = _run(one, batch, atomic=atomic, set_based=True), _run(other, batch, atomic=atomic, set_based=False)
    # then the answers, the payments, the statement lines and the platform's balances are the same
    assert answers[0] == answers[1], (batch, answers)
    assert _books(one) == _books(other), batch
    assert prove_merchant(one).ok


def test_errors_of_both_paths_are_application_errors():
    # a refused item carries the same error family in both paths (the API renders them alike)
    merchant = _world("errors")
    members = {m.user_id: m for m in Member.objects.filter(merchant=merchant)}
    with transaction.atomic():
        outcomes = payment_batch._book_set_based(merchant=merchant, actor=None, members=members, atomic=False,
                                                 items=[BatchItem("b", D("99.00"), "X1", "direct", payee_user_id="a")])
    assert isinstance(outcomes[0].error, ApplicationError) and outcomes[0].error.code == "insufficient_funds"


def test_when_the_set_based_write_gives_up_the_batch_books_item_by_item_once(monkeypatch):
    # given a set-based write that gives up after writing (as when an order number was taken
    # concurrently: the payments' INSERT fails)
    merchant = _world("fallback")
    real_write = payment_batch._write

    def write_then_give_up(**kwargs):
        real_write(**kwargs)
        raise payment_batch._OneByOne()

    monkeypatch.setattr(payment_batch, "_write", write_then_give_up)
    payments_before = Payment.objects.filter(merchant=merchant).count()
    # when a batch is booked
    outcomes = payment_batch.payment_create_batch(merchant=merchant, actor=None, items=[
        BatchItem("a", D("10.00"), "F1", "direct", payee_user_id="b"),
        BatchItem("b", D("500.00"), "F2", "direct", payee_user_id="a")])
    # then the attempt left nothing behind and item by item booked each accepted payment once
    assert [(o.created, o.error.code if o.error else None) for o in outcomes] == [
        (True, None), (False, "insufficient_funds")]
    assert Payment.objects.filter(merchant=merchant).count() == payments_before + 1
    assert Posting.objects.filter(entry__order_no="F1", entry__merchant=merchant).count() == 2
    assert prove_merchant(merchant).ok
