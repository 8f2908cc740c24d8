"""The booking function and the Python path book the same (hypothesis, PostgreSQL).

Two merchants start alike: the same members (by user id), funded alike. The same random sequence
of movements runs on both — payments (direct or guaranteed, one to three payees, a fee, order
numbers reused so that replays and duplicates happen, amounts that overdraw), releases (in full,
under idempotency references reused so that replays and conflicts happen, or in part) and refunds,
freezes of members, of accounts, of escrow and of the merchant, members closed, a payee's account
made hot — on one merchant with payments booked by `ledger_book_payment` (ledger.sql.booking) and
full releases by `ledger_release_payment` (ledger.sql.release), on the other by the Python posting
engine (JIANGUAN_BOOK_IN_DATABASE off). Every step must answer the same (created or replayed, the status,
or the same error: code, message and details), and at the end the books must be identical: the
payments and their splits, every entry with its postings and balances after, every account's
balance with its pending deltas, the releases, the payments' audit records and the webhook events
(less the rows' own ids). So the two paths can never drift."""
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import ApplicationError
from core.models import AuditEvent
from ledger.models import Account, AccountKind, HotBalanceDelta, JournalEntry, Payment, PaymentRelease, Posting
from ledger.selectors import prove_merchant
from ledger.services.accounts import account_freeze, account_unfreeze, platform_account
from ledger.services.hot_flagging import account_set_hot
from ledger.services.payments import payment_create, payment_refund, payment_release
from merchants.models import WebhookDelivery
from merchants.services.lifecycle import merchant_freeze, merchant_unfreeze
from merchants.services.members import member_close, member_freeze, member_unfreeze
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
D = Decimal
MEMBERS = 4
FUNDS = ["120.00", "40.00", "0.00", "15.00"]

cents = st.integers(min_value=1, max_value=9000)
who = st.integers(min_value=0, max_value=MEMBERS - 1)
order = st.integers(min_value=0, max_value=5)  # a few order numbers: replays and duplicates happen
pay = st.tuples(st.just("pay"), st.permutations(range(MEMBERS)), st.integers(min_value=1, max_value=3),
                st.lists(cents, min_size=3, max_size=3), st.integers(min_value=0, max_value=300),
                st.sampled_from(["direct", "guaranteed"]), order)
step = st.one_of(
    pay, pay, pay,
    st.tuples(st.just("release"), order, st.one_of(st.none(), st.integers(min_value=0, max_value=2))),
    st.tuples(st.just("release"), order, st.none()),
    st.tuples(st.just("release_part"), order, st.integers(min_value=1, max_value=3000)),
    st.tuples(st.just("refund"), order, cents),
    st.tuples(st.sampled_from(["freeze", "unfreeze", "freeze_account", "unfreeze_account", "hot", "close"]), who),
    st.tuples(st.sampled_from(["freeze_escrow", "unfreeze_escrow", "freeze_merchant", "unfreeze_merchant"])),
    st.tuples(st.just("escrow_hot"), st.booleans()),  # an ordinary escrow: its debit by the conditional UPDATE
)
IDS = {"id", "entry", "release", "refund", "shares"}  # the rows' own ids, which differ between the two


class World:
    """One merchant of the pair and the path its payments take."""

    def __init__(self, in_database: bool):
        self.in_database = in_database
        self.merchant = f.active_merchant()
        self.members = [f.member(self.merchant, user_id=f"p{i}") for i in range(MEMBERS)]
        for i, (member, amount) in enumerate(zip(self.members, FUNDS)):
            if D(amount):
                f.funded(member, amount, order_no=f"F-{i}")
        self.staff = f.risk()
        f.listening(self.merchant)

    def available(self, i) -> Account:
        return Account.objects.get(member=self.members[i], kind=AccountKind.MEMBER_AVAILABLE)

    def payment(self, key) -> Payment | None:
        return Payment.objects.filter(merchant=self.merchant, order_no=f"O-{key}").first()

    def run(self, op, n=0):
        """The step's answer (n: its place in the sequence), comparable across the two merchants."""
        try:
            with override_settings(JIANGUAN={**settings_jianguan(), "BOOK_IN_DATABASE": self.in_database}):
                return self._run(op, n)
        except ApplicationError as error:
            return ("error", error.code, str(error.message), error.details)

    def _run(self, op, n):
        kind, *args = op
        if kind == "pay":
            people, k, amounts, fee, mode, key = args
            payer, payees = self.members[people[0]], [self.members[i] for i in people[1:1 + k]]
            splits = [(payee, f"{c // 100}.{c % 100:02d}") for payee, c in zip(payees, amounts)]
            total = sum(amounts[:k]) + fee
            payment, created = payment_create(
                merchant=self.merchant, actor=None, payer=payer, amount=f"{total // 100}.{total % 100:02d}",
                order_no=f"O-{key}", mode=mode, splits=splits, platform_fee=f"{fee // 100}.{fee % 100:02d}")
            return ("paid", created, payment.status, str(payment.amount), payment.splits.count())
        if kind == "release":
            payment = self.payment(args[0])
            if payment is None:
                return ("no payment",)
            ref = None if args[1] is None else f"RL-{args[1]}"
            return ("released", payment_release(payment=payment, actor=None, idempotency_ref=ref).status)
        if kind == "release_part":
            payment, c = self.payment(args[0]), args[1]
            if payment is None:
                return ("no payment",)
            return ("released", payment_release(payment=payment, actor=None, amount=f"{c // 100}.{c % 100:02d}",
                                                idempotency_ref=f"RP-{n}").status)
        if kind == "refund":
            payment, c = self.payment(args[0]), args[1]
            if payment is None:
                return ("no payment",)
            refund = payment_refund(payment=payment, actor=None, amount=f"{c // 100}.{c % 100:02d}",
                                    reason="parity", idempotency_ref=f"R-{n}")
            return ("refunded", str(refund.amount))
        if kind in ("freeze_escrow", "unfreeze_escrow"):
            escrow = platform_account(self.merchant, AccountKind.ESCROW)
            change = account_freeze if kind == "freeze_escrow" else account_unfreeze
            return ("escrow", change(account=escrow, actor=self.staff, reason="parity").frozen)
        if kind == "escrow_hot":
            escrow = platform_account(self.merchant, AccountKind.ESCROW)
            return ("escrow", account_set_hot(account=escrow, hot=args[0], actor=self.staff, reason="parity"))
        if kind in ("freeze_merchant", "unfreeze_merchant"):
            change = merchant_freeze if kind == "freeze_merchant" else merchant_unfreeze
            self.merchant = change(merchant=self.merchant, actor=self.staff, reason="parity")
            return ("merchant", self.merchant.status)
        member = self.members[args[0]]
        if kind == "close":
            return ("member", member_close(member=member, actor=self.staff, reason="parity").status)
        if kind == "freeze":
            return ("member", member_freeze(member=member, actor=self.staff, reason="parity").status)
        if kind == "unfreeze":
            return ("member", member_unfreeze(member=member, actor=self.staff, reason="parity").status)
        if kind == "freeze_account":
            return ("account", account_freeze(account=self.available(args[0]), actor=self.staff,
                                              reason="parity").frozen)
        if kind == "unfreeze_account":
            return ("account", account_unfreeze(account=self.available(args[0]), actor=self.staff,
                                                reason="parity").frozen)
        # a busy seller's account, taking credits as deltas (both paths read is_hot from the row)
        return ("hot", Account.objects.filter(pk=self.available(args[0]).pk).update(is_hot=True))

    def books(self):
        """Everything booked, named by order numbers, user ids and account kinds (never by ids)."""
        label = {a.pk: (a.member.user_id if a.member_id else "", a.kind)
                 for a in Account.objects.filter(merchant=self.merchant).select_related("member")}
        pending = {}
        for delta in HotBalanceDelta.objects.filter(merchant=self.merchant):
            pending[delta.account_id] = pending.get(delta.account_id, D("0")) + delta.change
        balances = sorted((label[a.pk], a.balance + pending.get(a.pk, 0), a.frozen, a.is_hot)
                          for a in Account.objects.filter(merchant=self.merchant))
        payments = sorted(
            (p.order_no, p.mode, p.status, p.amount, p.platform_fee, p.refunded_amount, p.released_amount,
             p.payer.user_id, p.auto_release_at is not None, p.entry.entry_type if p.entry_id else None,
             p.release_entry.entry_type if p.release_entry_id else None, p.released_at is not None,
             sorted((r.sequence, r.amount, r.platform_fee, r.shares, r.reason, r.fingerprint,
                     r.idempotency_ref.replace(f"payment:{p.pk}:", "payment:#:"), r.entry.entry_type,
                     r.entry.order_amount)
                    for r in PaymentRelease.objects.filter(payment=p).select_related("entry")),
             sorted((s.payee.user_id, s.amount, s.refunded_amount, s.released_amount) for s in p.splits.all()))
            for p in Payment.objects.filter(merchant=self.merchant).select_related("payer", "entry"))
        entries = []
        for entry in JournalEntry.objects.filter(merchant=self.merchant).order_by("id"):
            postings = sorted((label[p.account_id], p.amount, p.balance_after)
                              for p in Posting.objects.filter(entry=entry))
            entries.append((entry.entry_type, entry.order_no, entry.payer.user_id if entry.payer_id else None,
                            entry.payee.user_id if entry.payee_id else None, entry.order_amount,
                            "" if entry.entry_type == "deposit" else entry.description,  # the bank's reference
                            entry.business_date, entry.actor_kind, postings))
        audit = [(e.action, e.object_repr, e.from_state, e.to_state, e.reason, e.actor_label,
                  {k: v for k, v in e.data.items() if k not in IDS})
                 for e in AuditEvent.objects.filter(merchant_id=self.merchant.pk,
                                                    content_type__model="payment").order_by("id")]
        events = [(d.event_type, {k: v for k, v in d.payload["data"].items() if k not in IDS})
                  for d in WebhookDelivery.objects.filter(merchant_id=self.merchant.pk).order_by("id")]
        return {"balances": balances, "payments": payments, "entries": entries, "audit": audit, "events": events}


def settings_jianguan():
    from django.conf import settings as django_settings

    return django_settings.JIANGUAN


GUARANTEED = ("pay", [0, 1, 3, 2], 2, [3000, 2000, 0], 150, "guaranteed")  # 51.50 from p0, a fee of 1.50


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=14))
# the rest of a payment partly released and refunded (the fee's held part), a replay and a reuse of a reference
@example(steps=[(*GUARANTEED, 1), ("release_part", 1, 1234), ("refund", 1, 777), ("release", 1, 0),
                ("release", 1, 0), ("release", 1, None), (*GUARANTEED, 2), ("release", 2, 0)])
# escrow frozen, then ordinary (its debit by the UPDATE, with a balance after); a frozen payee and account
@example(steps=[(*GUARANTEED, 2), ("freeze_escrow",), ("release", 2, None), ("unfreeze_escrow",),
                ("escrow_hot", False), ("freeze", 1), ("freeze_account", 3), ("hot", 3), ("release", 2, 1)])
# a frozen merchant; a payee closed before the release (the payee never received: nothing stands in the way)
@example(steps=[(*GUARANTEED, 4), ("freeze_merchant",), ("release", 4, None), ("unfreeze_merchant",),
                ("pay", [0, 2, 1, 3], 1, [900, 0, 0], 0, "guaranteed", 3), ("close", 2), ("release", 3, None),
                ("release", 4, 2)])
def test_the_booking_function_and_the_python_path_book_the_same(steps):
    # given two merchants alike, one booking payments in the database, the other in Python
    in_database, in_python = World(in_database=True), World(in_database=False)
    for n, op in enumerate(steps):
        # when the same movement runs on both, then both answer the same
        assert in_database.run(op, n) == in_python.run(op, n), op
    # and the books are identical, and balanced
    assert in_database.books() == in_python.books()
    assert prove_merchant(in_database.merchant).ok and prove_merchant(in_python.merchant).ok


def test_a_payment_booked_by_the_function_is_the_one_the_python_path_books():
    # given the pair, when one payment with two payees and a fee is booked on each
    worlds = World(in_database=True), World(in_database=False)
    answers = [w.run(("pay", [0, 1, 3, 2], 2, [3000, 2000, 0], 150, "direct", 1)) for w in worlds]
    # then it is booked, and the books are the same: the entry, its four postings with balances after
    assert answers[0] == answers[1] == ("paid", True, "settled", "51.50", 2)
    assert worlds[0].books() == worlds[1].books()
    entry = worlds[0].books()["entries"][-1]
    assert entry[0] == "payment" and len(entry[-1]) == 4
    assert all(balance is not None for (_who, kind), _amount, balance in entry[-1] if kind != "fee_income")
