"""Staged releases under random sequences (hypothesis stateful): partial releases by amount and per
payee, releases of the rest, partial and full refunds, in any order, on a few guaranteed payments.

A model keeps what escrow should hold of each payment by plain arithmetic (a release takes its
amount; a refund takes min(amount, held) from escrow) and predicts every refusal. After every
step: no payment released more than it held (released + refunded ≤ amount, per payment, per split
and for the fee), escrow holds exactly the model's remainders, every status is the model's, and
the books balance (总分平衡). A payment that is released or refunded holds nothing."""
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import InvalidState, ValidationFailed
from ledger.models import Payment, PaymentRelease, PaymentSplit
from ledger.selectors import account_balances, prove_merchant
from ledger.services.payments import payment_create, payment_refund
from ledger.services.releases import fee_parts, payment_release
from tests import factories as f
from tests.reconciliation.builders import funded

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")

cents = st.integers(min_value=1, max_value=30000).map(lambda c: D(c) / 100)
pick = st.integers(min_value=0, max_value=10**6)
fraction = st.integers(min_value=1, max_value=100)  # percent of what a payee still holds


def attempt(error, fn, **kwargs):
    event(f"{fn.__name__}: {error.__name__ if error else 'ok'}")
    if error is None:
        return fn(**kwargs)
    with pytest.raises(error):
        fn(**kwargs)
    return None


class StagedReleaseMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.merchant = f.active_merchant()
        self.buyer = f.member(self.merchant)
        self.sellers = [f.member(self.merchant) for _ in range(3)]
        funded(self.merchant, self.buyer, "999999.00")
        self.payments = []  # dicts: pk, amount, held (model), refunded, status
        self.n = 0

    def ref(self, prefix):
        self.n += 1
        return f"{prefix}-{self.n}"

    def _pick(self, index):
        return self.payments[index % len(self.payments)]

    @rule(amounts=st.lists(cents, min_size=1, max_size=3), fee=st.integers(0, 3000).map(lambda c: D(c) / 100))
    def pay(self, amounts, fee):
        splits = [(self.sellers[i], a) for i, a in enumerate(amounts)]
        total = sum(amounts) + fee
        payment, _ = payment_create(merchant=self.merchant, actor=None, payer=self.buyer, amount=total,
                                    order_no=self.ref("G"), mode="guaranteed", splits=splits, platform_fee=fee)
        self.payments.append({"pk": payment.pk, "amount": total, "held": total, "refunded": ZERO, "status": "held"})

    def _released(self, p, amount):
        p["held"] -= amount
        p["status"] = "released" if not p["held"] else "partially_released"

    def _refusal(self, p, amount):
        if p["status"] not in ("held", "partially_released"):
            return InvalidState
        return ValidationFailed if amount > p["held"] else None

    @precondition(lambda self: self.payments)
    @rule(index=pick, amount=cents)
    def release_an_amount(self, index, amount):
        p = self._pick(index)
        error = self._refusal(p, amount)
        attempt(error, payment_release, payment=Payment(pk=p["pk"]), actor=None, amount=amount,
                idempotency_ref=self.ref("api"))
        if error is None:
            self._released(p, amount)

    @precondition(lambda self: self.payments)
    @rule(index=pick, percents=st.lists(fraction, min_size=1, max_size=3))
    def release_per_payee(self, index, percents):
        p = self._pick(index)
        splits = list(PaymentSplit.objects.filter(payment_id=p["pk"]).select_related("payee").order_by("id"))
        wanted = [(s.payee, (s.held_amount * pct / 100).quantize(D("0.01")))
                  for s, pct in zip(splits, percents, strict=False)]
        wanted = [(m, a) for m, a in wanted if a > 0]
        if not wanted:
            return
        before = PaymentRelease.objects.filter(payment_id=p["pk"]).count()
        error = InvalidState if p["status"] not in ("held", "partially_released") else None
        attempt(error, payment_release, payment=Payment(pk=p["pk"]), actor=None, splits=wanted)
        if error is None:
            release = PaymentRelease.objects.get(payment_id=p["pk"], sequence=before + 1)
            # the payees got exactly what was asked; the fee's share is what the release adds to it
            assert release.amount - release.platform_fee == sum(a for _m, a in wanted)
            self._released(p, release.amount)

    @precondition(lambda self: self.payments)
    @rule(index=pick)
    def release_the_rest(self, index):
        p = self._pick(index)
        error = InvalidState if p["status"] not in ("held", "partially_released") else None
        attempt(error, payment_release, payment=Payment(pk=p["pk"]), actor=None)
        if error is None:
            self._released(p, p["held"])

    @precondition(lambda self: self.payments)
    @rule(index=pick, amount=cents, everything=st.booleans())
    def refund(self, index, amount, everything):
        p = self._pick(index)
        left = p["amount"] - p["refunded"]
        if everything:
            amount = left or D("0.01")
        error = InvalidState if not left else (ValidationFailed if amount > left else None)
        attempt(error, payment_refund, payment=Payment(pk=p["pk"]), actor=None, amount=amount, reason="random",
                idempotency_ref=self.ref("R"))
        if error:
            return
        p["held"] -= min(amount, p["held"])
        p["refunded"] += amount
        if p["refunded"] == p["amount"]:
            p["status"] = "refunded"
        elif p["status"] == "partially_released" and not p["held"]:
            p["status"] = "released"

    # --- after every step ----------------------------------------------------------------

    @invariant()
    def nothing_is_released_beyond_what_was_held(self):
        for payment in Payment.objects.filter(merchant=self.merchant).prefetch_related("splits"):
            splits = list(payment.splits.all())
            assert payment.released_amount + payment.refunded_amount <= payment.amount
            for s in splits:
                assert 0 <= s.released_amount and 0 <= s.refunded_amount
                assert s.released_amount + s.refunded_amount <= s.amount
            assert all(part >= 0 for part in fee_parts(payment, splits))
            gross = sum(r.amount for r in PaymentRelease.objects.filter(payment=payment))
            assert gross <= payment.amount

    @invariant()
    def escrow_holds_exactly_the_remainders_and_statuses_follow(self):
        rows = {p.pk: p for p in Payment.objects.filter(merchant=self.merchant)}
        for p in self.payments:
            row = rows[p["pk"]]
            assert (row.held_amount, row.status, row.refunded_amount) == (p["held"], p["status"], p["refunded"])
            if row.status in ("released", "refunded"):
                assert row.held_amount == 0
        assert account_balances(self.merchant)["escrow"] == sum((p["held"] for p in self.payments), ZERO)

    @invariant()
    def the_books_balance(self):
        proof = prove_merchant(self.merchant)
        assert proof.ok, proof


def test_random_staged_releases_and_refunds_never_release_more_than_held():
    run_state_machine_as_test(StagedReleaseMachine, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
