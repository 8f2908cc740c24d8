"""The ledger under random sequences of operations (hypothesis stateful testing).

A model keeps what every balance should be — by plain arithmetic, independent of the
posting engine — and predicts which operations must be refused. After every step: the books
balance (总分平衡, and every balance equals the sum of its postings), no account is negative,
and every member and platform balance equals the model's. Runs on PostgreSQL and SQLite."""
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import InsufficientFunds, InvalidState, MemberFrozen, ValidationFailed
from core.money import quantize
from ledger import posting
from ledger.models import Payment
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services import deposits, holds, withdrawals
from ledger.services.payments import (
    FEE,
    payment_create,
    payment_refund,
    payment_release,
    pro_rata_shares,
)
from merchants.services.members import bank_card_add, member_freeze, member_unfreeze
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")
MEMBERS = 4

cents = st.integers(min_value=1, max_value=20000).map(lambda c: D(c) / 100)  # 0.01 to 200.00
fees = st.integers(min_value=0, max_value=500).map(lambda c: D(c) / 100)
who = st.integers(min_value=0, max_value=MEMBERS - 1)
# a payer and up to three payees, all different: (members in some order, number of payees)
parties = st.tuples(st.permutations(range(MEMBERS)), st.integers(min_value=1, max_value=MEMBERS - 1))
pick = st.integers(min_value=0, max_value=10**6)  # an index into a list, taken modulo its length


def expect(error, fn, **kwargs):
    """Call fn; it must raise `error` (a class) or, when error is None, succeed."""
    event(f"{fn.__name__}: {error.__name__ if error else 'ok'}")  # --hypothesis-show-statistics
    if error is None:
        return fn(**kwargs)
    with pytest.raises(error):
        fn(**kwargs)
    return None


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.merchant = f.active_merchant()
        self.risk, self.ops = f.risk(), f.ops()
        self.members = [f.member(self.merchant, name=f"Member {i}") for i in range(MEMBERS)]
        self.cards = [bank_card_add(member=m, actor=None, account_number=f"62220202001122{i:05d}",
                                                      account_name=m.name, bank_name="Test Bank")
                      for i, m in enumerate(self.members)]
        self.available = [ZERO] * MEMBERS
        self.frozen = [ZERO] * MEMBERS
        self.member_frozen = [False] * MEMBERS
        self.platform = {"supervision": ZERO, "escrow": ZERO, "fee_income": ZERO, "suspense": ZERO}
        # payments: pk, payer, status, amount, fee, fee_refunded, refunded, splits [[member, amount, refunded]]
        self.payments = []
        self.withdrawals = []  # dicts: obj, member, amount, status
        self.holds = []  # dicts: obj, member, amount, active
        self.n = 0
        for i in range(MEMBERS):  # everyone starts with some money, so most steps can move it
            self.deposit(i, D("500.00"))

    def next_ref(self, prefix):
        self.n += 1
        return f"{prefix}-{self.n}"

    # --- money in ------------------------------------------------------------------------

    @rule(member=who, amount=st.integers(min_value=1, max_value=100000).map(lambda c: D(c) / 100))
    def deposit(self, member, amount):
        d = deposits.deposit_announce(merchant=self.merchant, actor=None, member=self.members[member], amount=amount,
                                      order_no=self.next_ref("DEP"), method="offline_transfer")
        deposits.deposit_credit(deposit=d, actor=None, amount=amount, proof_kind="statement_line",
                                proof_reference=self.next_ref("SL"))
        self.available[member] += amount
        self.platform["supervision"] += amount

    @rule(amount=cents)
    def suspense_in(self, amount):
        deposits.suspense_receive(merchant=self.merchant, actor=None, amount=amount, reference=self.next_ref("SUS"))
        self.platform["suspense"] += amount
        self.platform["supervision"] += amount

    @rule(member=who, amount=cents)
    def suspense_match(self, member, amount):
        short = amount > self.platform["suspense"]
        expect(InsufficientFunds if short else None, deposits.suspense_match_to_member, merchant=self.merchant,
               actor=None, member=self.members[member], amount=amount, reference=self.next_ref("M"),
               reason="identified")
        if not short:
            self.platform["suspense"] -= amount
            self.available[member] += amount

    # --- payments ------------------------------------------------------------------------

    @rule(parties=parties, amounts=st.lists(cents, min_size=3, max_size=3), fee=fees)
    def pay_direct(self, parties, amounts, fee):
        self._pay(parties, amounts, fee, guaranteed=False)

    @rule(parties=parties, amounts=st.lists(cents, min_size=3, max_size=3), fee=fees)
    def pay_guaranteed(self, parties, amounts, fee):
        self._pay(parties, amounts, fee, guaranteed=True)

    def _pay(self, parties, amounts, fee, guaranteed):
        (payer, *payees), count = parties
        splits = [[p, amounts[k], ZERO] for k, p in enumerate(payees[:count])]
        total = sum(s[1] for s in splits) + fee
        if self.member_frozen[payer]:
            error = MemberFrozen
        elif self.available[payer] < total:
            error = InsufficientFunds
        else:
            error = None
        result = expect(error, payment_create, merchant=self.merchant, actor=None, payer=self.members[payer],
                        amount=total, order_no=self.next_ref("ORD"), mode="guaranteed" if guaranteed else "direct",
                        splits=[(self.members[p], a) for p, a, _r in splits], platform_fee=fee)
        if error:
            return
        payment, created = result
        assert created
        self.available[payer] -= total
        if guaranteed:
            self.platform["escrow"] += total
        else:
            for p, a, _r in splits:
                self.available[p] += a
            self.platform["fee_income"] += fee
        self.payments.append({"pk": payment.pk, "payer": payer, "status": payment.status, "amount": total, "fee": fee,
                              "fee_refunded": ZERO, "refunded": ZERO, "splits": splits})

    def _with_status(self, items, statuses, index):
        found = [x for x in items if x["status"] in statuses]
        return found[index % len(found)] if found else None

    @precondition(lambda self: any(p["status"] == "held" for p in self.payments))
    @rule(index=pick)
    def release(self, index):
        p = self._with_status(self.payments, {"held"}, index)
        expect(None, payment_release, payment=Payment(pk=p["pk"]), actor=None)
        self.platform["escrow"] -= p["amount"] - p["refunded"]
        for s in p["splits"]:
            self.available[s[0]] += s[1] - s[2]
        self.platform["fee_income"] += p["fee"] - p["fee_refunded"]
        p["status"] = "released"

    @precondition(lambda self: any(p["status"] != "held" for p in self.payments))
    @rule(index=pick)
    def release_when_not_held(self, index):
        p = self._with_status(self.payments, {"settled", "released", "refunded"}, index)
        expect(InvalidState, payment_release, payment=Payment(pk=p["pk"]), actor=None)

    @precondition(lambda self: self.payments)
    @rule(index=pick, amount=cents)
    def refund_part(self, index, amount):
        self._refund(self.payments[index % len(self.payments)], amount)

    @precondition(lambda self: self.payments)
    @rule(index=pick)
    def refund_the_rest(self, index):
        p = self.payments[index % len(self.payments)]
        self._refund(p, (p["amount"] - p["refunded"]) or D("0.01"))

    def _refund(self, p, amount):
        left = p["amount"] - p["refunded"]
        parts = [(k, s[1], s[1] - s[2]) for k, s in enumerate(p["splits"])]
        if p["fee"]:
            parts.append((FEE, p["fee"], p["fee"] - p["fee_refunded"]))
        if not left:
            error = InvalidState
        elif amount > left:
            error = ValidationFailed
        else:
            shares = pro_rata_shares(amount, parts, p["amount"])
            givers = [(p["splits"][k][0], v) for k, v in shares.items() if k != FEE and v]
            if p["status"] == "held":
                error = None
            elif any(self.member_frozen[m] for m, _v in givers):
                error = MemberFrozen
            elif any(self.available[m] < v for m, v in givers) or self.platform["fee_income"] < shares.get(FEE, 0):
                error = InsufficientFunds
            else:
                error = None
        expect(error, payment_refund, payment=Payment(pk=p["pk"]), actor=None, amount=amount, reason="random",
               idempotency_ref=self.next_ref("REF"))
        if error:
            return
        if p["status"] == "held":
            self.platform["escrow"] -= amount
        else:
            for m, v in givers:
                self.available[m] -= v
            self.platform["fee_income"] -= shares.get(FEE, ZERO)
        self.available[p["payer"]] += amount
        for k, v in shares.items():
            if k == FEE:
                p["fee_refunded"] += v
            else:
                p["splits"][k][2] += v
        p["refunded"] += amount
        if p["refunded"] == p["amount"]:
            p["status"] = "refunded"

    # --- risk ----------------------------------------------------------------------------

    @rule(member=who)
    def toggle_member_freeze(self, member):
        if self.member_frozen[member]:
            member_unfreeze(member=self.members[member], actor=self.risk, reason="lifted")
        else:
            member_freeze(member=self.members[member], actor=self.risk, reason="checking")
        self.member_frozen[member] = not self.member_frozen[member]

    @rule(member=who, amount=cents)
    def hold(self, member, amount):
        short = self.available[member] < amount
        hold = expect(InsufficientFunds if short else None, holds.hold_create, member=self.members[member],
                      actor=self.risk, amount=amount, reason="court order")
        if not short:
            self.available[member] -= amount
            self.frozen[member] += amount
            self.holds.append({"obj": hold, "member": member, "amount": amount, "active": True})

    @precondition(lambda self: self.holds)
    @rule(index=pick)
    def hold_release(self, index):
        h = self.holds[index % len(self.holds)]
        expect(None if h["active"] else InvalidState, holds.hold_release, hold=h["obj"], actor=self.risk,
               reason="order lifted")
        if h["active"]:
            self.frozen[h["member"]] -= h["amount"]
            self.available[h["member"]] += h["amount"]
            h["active"] = False

    # --- withdrawals ---------------------------------------------------------------------

    @rule(member=who, amount=cents)
    def withdrawal_request(self, member, amount):
        if self.member_frozen[member]:
            error = MemberFrozen
        elif self.available[member] < amount:
            error = InsufficientFunds
        else:
            error = None
        result = expect(error, withdrawals.withdrawal_request, merchant=self.merchant, actor=None,
                        member=self.members[member], amount=amount, bank_card=self.cards[member],
                        order_no=self.next_ref("WD"))
        if error:
            return
        w, _created = result
        assert w.status == "approved"  # below the merchant's approval threshold
        self.available[member] -= amount
        self.frozen[member] += amount
        self.withdrawals.append({"obj": w, "member": member, "amount": amount, "status": "approved"})

    @precondition(lambda self: any(w["status"] == "approved" for w in self.withdrawals))
    @rule(index=pick)
    def withdrawal_process(self, index):
        w = self._with_status(self.withdrawals, {"approved"}, index)
        error = MemberFrozen if self.member_frozen[w["member"]] else None
        expect(error, withdrawals.withdrawal_process, withdrawal=w["obj"], actor=self.ops)
        if not error:
            w["status"] = "processing"

    @precondition(lambda self: any(w["status"] == "processing" for w in self.withdrawals))
    @rule(index=pick, paid=st.booleans())
    def withdrawal_outcome(self, index, paid):
        # the bank's answer is recorded as it happened, frozen member or not
        w = self._with_status(self.withdrawals, {"processing"}, index)
        if paid:
            expect(None, withdrawals.withdrawal_mark_paid, withdrawal=w["obj"], actor=self.ops,
                   bank_reference=self.next_ref("BR"))
            self.platform["supervision"] -= w["amount"]
        else:
            expect(None, withdrawals.withdrawal_mark_failed, withdrawal=w["obj"], actor=self.ops,
                   reason="account closed")
            self.available[w["member"]] += w["amount"]
        self.frozen[w["member"]] -= w["amount"]
        w["status"] = "paid" if paid else "failed"

    @precondition(lambda self: any(w["status"] in ("paid", "failed") for w in self.withdrawals))
    @rule(index=pick, step=st.sampled_from(["process", "paid", "failed"]))
    def withdrawal_step_when_finished(self, index, step):
        w = self._with_status(self.withdrawals, {"paid", "failed"}, index)
        if step == "process":
            # the freeze is checked before the state
            error = MemberFrozen if self.member_frozen[w["member"]] else InvalidState
            expect(error, withdrawals.withdrawal_process, withdrawal=w["obj"], actor=self.ops)
        elif step == "paid":
            expect(InvalidState, withdrawals.withdrawal_mark_paid, withdrawal=w["obj"], actor=self.ops)
        else:
            expect(InvalidState, withdrawals.withdrawal_mark_failed, withdrawal=w["obj"], actor=self.ops,
                   reason="account closed")

    @rule()
    def roll_up(self):
        posting.roll_up_hot_balances()

    # --- after every step ----------------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        proof = prove_merchant(self.merchant)
        assert proof.ok, proof

    @invariant()
    def no_account_is_negative(self):
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT a.id, a.balance + COALESCE((SELECT SUM(d.change) FROM ledger_hotbalancedelta d
                                                       WHERE d.account_id = a.id), 0)
                   FROM ledger_account a WHERE a.merchant_id = %s""", [self.merchant.pk])
            negative = [(pk, b) for pk, b in cursor.fetchall() if quantize(D(b)) < 0]  # SQLite: floats
        assert not negative

    @invariant()
    def balances_match_the_model(self):
        for i, member in enumerate(self.members):
            assert member_balance(member) == {"available": self.available[i], "frozen": self.frozen[i]}, i
        balances = account_balances(self.merchant)
        assert {k: balances[k] for k in self.platform} == self.platform
        # the money in the supervision account is everybody's money, nobody else's
        members = sum(self.available) + sum(self.frozen)
        assert self.platform["supervision"] == members + self.platform["escrow"] + self.platform["fee_income"] \
            + self.platform["suspense"]


def test_random_sequences_of_money_movements_keep_the_books_right():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=15, stateful_step_count=30, deadline=None, database=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
