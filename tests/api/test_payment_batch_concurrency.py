"""Batches and single payments racing on the same accounts (PostgreSQL, real transactions,
real threads, the signed API end to end)."""
from collections import Counter
from decimal import Decimal

import pytest

from jianguan_client import JianguanClient, JianguanError
from ledger.models import Account, Payment, Posting
from ledger.selectors import member_balance, prove_merchant
from merchants.models import Member
from tests.ledger.test_payment_concurrency import run_together

from .conftest import add_member, fund, make_platform
from .transport import BASE_URL, django_session

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal

MEMBERS = ("x", "y", "z")
START = D("30.00")


def test_batches_and_single_payments_on_the_same_payers_never_overdraw_and_lose_nothing():
    # given three members with 30.00 each, paying one another in a circle
    platform = make_platform()
    for user_id in MEMBERS:
        add_member(platform, user_id)
        fund(platform, user_id, str(START))
    forward = [("x", "y"), ("y", "z"), ("z", "x")]  # the batches' direction
    backward = [("z", "y"), ("y", "x"), ("x", "z")]  # the single payments' direction
    amounts = [D("1.00"), D("2.50"), D("4.00")]

    def client():
        return JianguanClient(BASE_URL, platform.app_id, platform.secret, session=django_session())

    def batch(i):
        items = [{"payer_user_id": forward[k % 3][0], "payee_user_id": forward[k % 3][1],
                  "amount": amounts[k % 3], "order_no": f"B{i}-{k}", "mode": "direct"} for k in range(60)]
        answer = client().create_payments_batch(items)
        return Counter(r["status"] for r in answer["results"]), {r["error"]["code"] for r in answer["results"]
                                                                 if r["error"]}

    def singles(i):
        c, statuses, codes = client(), Counter(), set()
        for k in range(12):
            payer, payee = backward[(i + k) % 3]
            try:
                c.create_payment(payer_user_id=payer, payee_user_id=payee, amount=amounts[k % 3],
                                 order_no=f"S{i}-{k}", mode="direct")
                statuses[201] += 1
            except JianguanError as error:
                statuses[error.status] += 1
                codes.add(error.code)
        return statuses, codes

    # when two batches of 60 and six clients sending 12 single payments each race
    results = run_together(8, lambda i: batch(i) if i < 2 else singles(i))

    # then no request failed outright, and every refusal is an overdraft
    errors = [e for _r, e in results if e is not None]
    assert not errors, errors
    statuses, codes = Counter(), set()
    for (counted, seen), _error in results:
        statuses.update(counted)
        codes |= seen
    assert set(statuses) <= {201, 422} and codes <= {"insufficient_funds"}, (statuses, codes)
    # every booked answer is one payment row, and nothing was booked that was not answered
    payments = list(Payment.objects.filter(merchant=platform.merchant).select_related("payer")
                    .prefetch_related("splits__payee"))
    assert len(payments) == statuses[201] > 0
    # each balance is its start plus what it received minus what it paid, and none is negative
    expected = {user_id: START for user_id in MEMBERS}
    for payment in payments:
        expected[payment.payer.user_id] -= payment.amount
        for split in payment.splits.all():
            expected[split.payee.user_id] += split.amount
    for user_id in MEMBERS:
        member = Member.objects.get(merchant=platform.merchant, user_id=user_id)
        assert member_balance(member)["available"] == expected[user_id], user_id
    assert sum(expected.values()) == START * 3
    assert not Account.objects.filter(merchant=platform.merchant, balance__lt=0).exists()
    assert not Posting.objects.filter(merchant=platform.merchant, balance_after__lt=0).exists()
    assert prove_merchant(platform.merchant).ok


def test_two_atomic_batches_that_cannot_both_fit_book_one_whole_batch_or_the_other():
    # given a payer with 50.00 and two atomic batches of 40.00 each
    platform = make_platform()
    for user_id in ("payer", "seller"):
        add_member(platform, user_id)
    fund(platform, "payer", "50.00")

    def batch(i):
        items = [{"payer_user_id": "payer", "payee_user_id": "seller", "amount": "4.00", "order_no": f"AB{i}-{k}",
                  "mode": "direct"} for k in range(10)]
        return JianguanClient(BASE_URL, platform.app_id, platform.secret,
                              session=django_session()).create_payments_batch(items, atomic=True)

    # when they race
    results = run_together(2, batch)
    # then exactly one booked all of its ten payments and the other booked none
    booked = [r for r, e in results if e is None]
    refused = [e for r, e in results if e is not None]
    assert len(booked) == 1 and booked[0]["booked"] == 10
    assert len(refused) == 1 and isinstance(refused[0], JianguanError) and refused[0].code == "insufficient_funds"
    assert Payment.objects.filter(merchant=platform.merchant).count() == 10
    payer = Member.objects.get(merchant=platform.merchant, user_id="payer")
    assert member_balance(payer)["available"] == D("10.00")
    assert prove_merchant(platform.merchant).ok
