"""The soak's platform clients: each a thread with its own `jianguan_client.JianguanClient` (and a
second one signing as the payment channel), sending mixed signed traffic until the deadline.

Every money-moving request carries an Idempotency-Key the client chose. A request that fails at
the transport level (a killed gunicorn worker drops its connection), answers 5xx, 429 or
409 `in_progress` (the key's first request died with its worker: the server takes the key over
once it is stale), or 503 `database_unavailable` (PostgreSQL is down or restarting: after the
answer's Retry-After) is sent again with the same key and body until it gets an answer — the API's
contract. An answer of "already done" to such a retry (409 duplicate / invalid_state) is
recorded as such and resolved against the database afterwards.

Each client keeps conservative estimates of its members' balances (money it put in and took
out itself), so that refused requests (insufficient funds) stay rare: an error is a finding,
not noise. What a client records, per operation: kind, order number, idempotency key, amount,
the ids it was given, and the outcome ("ok", "done_before", "refused:<code>", "unknown")."""
import random
import threading
import time
from decimal import Decimal

import requests

from jianguan_client import JianguanClient, JianguanError

from .records import Op, Stats

TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
# How long one operation keeps retrying: the idempotency record of a request whose worker was
# killed is taken over only once it is stale (core.api.idempotency.STALE_AFTER, 120 s).
RETRY_BUDGET_SECONDS = 200.0
# Answers to a retry that mean "the first attempt was booked": resolved in the database later.
ALREADY_DONE = {
    "member": {"duplicate"},
    "card": set(),
    "deposit": {"duplicate_order"},
    "release": {"invalid_state"},
}
WEIGHTS = {"member": 4, "deposit": 12, "pay_direct": 22, "pay_guaranteed": 16, "release": 12, "refund": 10,
           "withdrawal": 8, "drawdown": 10, "read": 6}
CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


class SoakClient(threading.Thread):
    def __init__(self, index: int, *, base_url: str, seed: dict, deadline: float, stats: Stats, ops: list,
                 lock: threading.Lock, tag: str):
        super().__init__(name=f"soak-client-{index}", daemon=True)
        self.i, self.seed, self.deadline, self.tag = index, seed, deadline, tag
        self.stats, self.ops, self.lock = stats, ops, lock
        self.api = JianguanClient(base_url, app_id=seed["app_id"], secret=seed["secret"], timeout=60)
        ch = seed["channel"]
        self.channel_api = JianguanClient(base_url, app_id=ch["app_id"], secret=ch["secret"], timeout=60)
        self.rng = random.Random(f"{tag}-{index}")
        self.n = 0
        self.buyers: dict[str, Decimal] = {}  # user id -> available (lower bound)
        self.sellers: dict[str, Decimal] = {}  # own sellers: user id -> available (lower bound)
        self.cards: dict[str, int] = {}
        self.held: list[dict] = []  # guaranteed payments still in escrow
        self.refundable: list[dict] = []  # settled / released payments with something left
        self.credit_buyer = seed["credit_buyers"][index]
        self.fatal: str | None = None

    # --- plumbing ---
    def next_id(self, what: str) -> str:
        self.n += 1
        return f"{self.tag}-{self.i}-{what}{self.n}"

    def call(self, op: Op, fn, client: JianguanClient | None = None):
        """fn(key) → answer (sent by `client`, the platform's by default). Retries with the same
        key as the contract allows; returns the answer, or None with op.outcome saying why."""
        first_failure = None
        while True:
            op.attempts += 1
            t0 = time.monotonic()
            try:
                answer = fn(op.key)
            except TRANSPORT_ERRORS as error:
                self.stats.add(None, "transport", None, f"{type(error).__name__}: {error}")
                op.transport_failures += 1
                delay = 0.5
            except JianguanError as error:
                ms = (time.monotonic() - t0) * 1000
                self.stats.add(ms, error.status, error.code, error.message)
                if error.status == 503 and error.code == "database_unavailable":
                    # The database is down (crashed, restarting): nothing was booked, or the
                    # retry replays what was. Wait as told, then the same key again.
                    op.unavailable += 1
                    retry_after = (client or self.api).last_response.headers.get("Retry-After")
                    if retry_after and retry_after.isdigit():
                        self.stats.unavailable += 1
                        delay = min(max(float(retry_after), 0.5), 10.0)
                    else:
                        self.stats.unavailable_without_retry_after += 1
                        delay = 1.0
                elif error.status >= 500:
                    op.server_errors += 1
                    delay = 1.0
                elif error.status == 409 and error.details.get("reason") == "in_progress":
                    op.in_progress += 1
                    delay = 1.0  # Retry-After: 1
                elif error.status == 429:
                    op.throttled += 1
                    delay = 1.0
                else:
                    done_before = op.retried and error.code in ALREADY_DONE.get(op.kind, ())
                    op.outcome = "done_before" if done_before else f"refused:{error.code}"
                    self.record(op)
                    return None
            else:
                ms = (time.monotonic() - t0) * 1000
                status = (client or self.api).last_response.status_code
                if answer is None and op.kind != "read":
                    # A body cut short (the worker died while writing it): ask again.
                    self.stats.add(ms, "truncated", None, "empty or unreadable body")
                    op.transport_failures += 1
                    delay = 0.5
                else:
                    self.stats.add(ms, status)
                    op.outcome = "ok"
                    self.record(op)
                    return answer
            first_failure = first_failure or time.monotonic()
            if time.monotonic() - first_failure > RETRY_BUDGET_SECONDS:
                op.outcome = "unknown"
                self.record(op)
                return None
            time.sleep(delay)

    def record(self, op: Op):
        with self.lock:
            self.ops.append(op)

    # --- operations ---
    def new_member(self, seller: bool):
        user_id = self.next_id("s" if seller else "b")
        name = f"Soak {'Seller' if seller else 'Buyer'} {self.i}-{self.n}"
        op = Op("member", self.next_id("k"), order_no=user_id, ref={"user_id": user_id})
        member = self.call(op, lambda key: self.api.create_member(
            user_id=user_id, name=name, kind="individual", roles=["seller" if seller else "buyer"],
            id_number=f"3701021990{self.rng.randint(10**7, 10**8 - 1)}",
            phone=f"139{self.rng.randint(10**7, 10**8 - 1)}",
            idempotency_key=key))
        if member is None and op.outcome != "done_before":
            return None
        if seller:
            card_op = Op("card", self.next_id("k"), order_no=user_id, ref={"user_id": user_id})
            card = self.call(card_op, lambda key: self.api.add_bank_card(
                user_id, account_number=f"6222{self.rng.randint(10**11, 10**12 - 1)}", account_name=name,
                bank_name="Soak Bank", idempotency_key=key))
            if card is None or not card.get("verified"):
                return None
            self.cards[user_id] = card["id"]
            self.sellers[user_id] = Decimal(0)
        else:
            self.buyers[user_id] = Decimal(0)
        return user_id

    def deposit(self, user_id: str):
        amount = Decimal(self.rng.randint(500, 3000))
        order_no = self.next_id("D")
        op = Op("deposit", self.next_id("k"), order_no=order_no, amount=money(amount), ref={"user_id": user_id})
        deposit = self.call(op, lambda key: self.api.create_deposit(
            user_id=user_id, amount=money(amount), order_no=order_no, method="channel",
            channel=self.seed["channel"]["code"], idempotency_key=key))
        if deposit is None:
            return
        op.ref["deposit_id"] = deposit["id"]
        tx = self.next_id("TX")
        proof = Op("deposit_proof", tx, order_no=order_no, amount=money(amount), ref={"deposit_id": deposit["id"]})
        body = {"transaction_id": tx, "amount": money(amount), "payment_code": deposit["payment_code"],
                "deposit_id": deposit["id"]}
        path = f"/channels/{self.seed['channel']['code']}/notifications"
        answer = self.call(proof, lambda key: self.channel_api.request("POST", path, body=body), self.channel_api)
        if answer is not None and answer.get("result") == "credited":
            self.buyers[user_id] += amount
        elif answer is not None:
            proof.outcome = f"unexpected:{answer.get('result')}"

    def pay(self, mode: str):
        buyer = self.rich_buyer(Decimal(100))
        if buyer is None:
            return
        shared = mode == "direct" and self.rng.random() < 0.3
        payee = self.seed["shared_seller"] if shared else self.rng.choice(list(self.sellers))
        amount = Decimal(self.rng.randint(500, 8000)) / 100
        fee = (amount / 100).quantize(CENT)
        order_no = self.next_id("P")
        op = Op("payment", self.next_id("k"), order_no=order_no, amount=money(amount),
                ref={"mode": mode, "payee": payee, "fee": money(fee)})
        payment = self.call(op, lambda key: self.api.create_payment(
            payer_user_id=buyer, payee_user_id=payee, amount=money(amount), platform_fee=money(fee),
            order_no=order_no, mode=mode, description="soak", idempotency_key=key))
        if payment is None:
            return
        op.ref["payment_id"] = payment["id"]
        self.buyers[buyer] -= amount
        row = {"id": payment["id"], "order_no": order_no, "amount": amount, "left": amount, "fee": fee,
               "payee": payee, "buyer": buyer}
        if mode == "guaranteed":
            self.held.append(row)
        else:
            if not shared:
                self.sellers[payee] += amount - fee
            self.refundable.append(row)

    def release(self):
        if not self.held:
            return self.pay("guaranteed")
        row = self.held.pop(self.rng.randrange(len(self.held)))
        op = Op("release", self.next_id("k"), order_no=row["order_no"], amount=money(row["left"]),
                ref={"payment_id": row["id"]})
        payment = self.call(op, lambda key: self.api.release_payment(row["id"], idempotency_key=key))
        if payment is not None or op.outcome == "done_before":
            if row["payee"] in self.sellers:
                share = (row["left"] * (row["amount"] - row["fee"]) / row["amount"]).quantize(CENT) - CENT
                self.sellers[row["payee"]] += max(share, Decimal(0))
            self.refundable.append(row)

    def refund(self):
        candidates = self.held + [r for r in self.refundable if r["payee"] == self.seed["shared_seller"]
                                  or self.sellers.get(r["payee"], 0) > r["left"]]
        if not candidates:
            return self.pay("direct")
        row = self.rng.choice(candidates)
        amount = min(row["left"], (row["left"] * Decimal(self.rng.choice(["0.3", "0.5", "1"]))).quantize(CENT))
        if amount <= 0:
            return
        op = Op("refund", self.next_id("k"), order_no=row["order_no"], amount=money(amount),
                ref={"payment_id": row["id"]})
        refund = self.call(op, lambda key: self.api.refund_payment(row["id"], amount=money(amount), reason="soak",
                                                                   idempotency_key=key))
        if refund is None:
            return
        row["left"] -= amount
        self.buyers[row["buyer"]] += amount
        if row not in self.held and row["payee"] in self.sellers:
            self.sellers[row["payee"]] -= amount
        if row["left"] <= 0:
            for bucket in (self.held, self.refundable):
                if row in bucket:
                    bucket.remove(row)

    def withdrawal(self):
        rich = [u for u, v in self.sellers.items() if v >= 20 and u in self.cards]
        if not rich:
            return self.pay("direct")
        seller = self.rng.choice(rich)
        amount = (self.sellers[seller] * Decimal("0.3")).quantize(CENT)
        order_no = self.next_id("W")
        op = Op("withdrawal", self.next_id("k"), order_no=order_no, amount=money(amount), ref={"user_id": seller})
        withdrawal = self.call(op, lambda key: self.api.create_withdrawal(
            user_id=seller, amount=money(amount), bank_card_id=self.cards[seller], order_no=order_no,
            idempotency_key=key))
        if withdrawal is not None:
            op.ref["withdrawal_id"] = withdrawal["id"]
            self.sellers[seller] -= amount

    def drawdown(self):
        payee = self.rng.choice(list(self.sellers) + [self.seed["shared_seller"]])
        amount = Decimal(self.rng.randint(1000, 20000)) / 100
        order_no = self.next_id("C")
        op = Op("drawdown", self.next_id("k"), order_no=order_no, amount=money(amount), ref={"payee": payee})
        bill = self.call(op, lambda key: self.api.credit_drawdown(
            user_id=self.credit_buyer, payee_user_id=payee, amount=money(amount), order_no=order_no,
            idempotency_key=key))
        if bill is not None:
            op.ref["bill_id"] = bill["id"]
            if payee in self.sellers:
                self.sellers[payee] += amount

    def read(self):
        user_id = self.rng.choice(list(self.buyers) + list(self.sellers))
        op = Op("read", None, order_no=user_id)
        self.call(op, lambda key: self.api.get_balance(user_id))

    def rich_buyer(self, at_least: Decimal):
        rich = [u for u, v in self.buyers.items() if v >= at_least]
        if rich:
            return self.rng.choice(rich)
        self.deposit(self.rng.choice(list(self.buyers)))
        return None

    # --- the loop ---
    def run(self):
        try:
            while not self.new_member(seller=False) and time.monotonic() < self.deadline:
                pass
            while not self.new_member(seller=True) and time.monotonic() < self.deadline:
                pass
            if not self.buyers or not self.sellers:
                self.fatal = "could not create its first members"
                return
            self.deposit(next(iter(self.buyers)))
            kinds, weights = zip(*WEIGHTS.items())
            while time.monotonic() < self.deadline:
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "member":
                    self.new_member(seller=self.rng.random() < 0.5)
                elif kind == "deposit":
                    self.deposit(self.rng.choice(list(self.buyers)))
                elif kind == "pay_direct":
                    self.pay("direct")
                elif kind == "pay_guaranteed":
                    self.pay("guaranteed")
                else:
                    getattr(self, kind)()
        except Exception as error:  # noqa: BLE001 - a bug of the soak itself: reported, fails the run
            import traceback

            self.fatal = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
