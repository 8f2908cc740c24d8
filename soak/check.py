"""After the traffic: the clients' record against the database (run inside Django).

- lost: an operation a client saw succeed (2xx) whose rows are not in the database — its
  member, deposit, payment, refund, withdrawal or bill, or its journal entry;
- double: one operation booked more than once — more journal entries for one order (or one
  refund's idempotency key) than the clients' record allows;
- unrecorded: a journal entry booked during the soak that no client operation explains;
- mismatched: the entry or row exists but with another amount or type, or a payment whose
  refunded amount or status is not what its client saw.
Operations whose outcome a client could not learn ("unknown": retries exhausted) or learned
indirectly ("done_before": a retry answered duplicate / invalid_state) may have booked once,
never twice."""
from collections import Counter, defaultdict
from decimal import Decimal

from credit.models import CreditBill
from ledger.models import Deposit, EntryType, JournalEntry, Payment, Refund, Withdrawal
from merchants.models import Member

# An operation kind → the journal entry types it books (and the service's entry reference).
ENTRY_CLASS = {
    EntryType.DEPOSIT: "deposit_proof",
    EntryType.PAYMENT: "payment",
    EntryType.PAYMENT_HOLD: "payment",
    EntryType.PAYMENT_RELEASE: "release",
    EntryType.REFUND: "refund",
    EntryType.WITHDRAWAL_REQUEST: "withdrawal",
    EntryType.CREDIT_DRAWDOWN: "drawdown",
}
UNCERTAIN = ("done_before", "unknown")


def last_entry_id(merchant_id: int) -> int:
    last = JournalEntry.objects.filter(merchant_id=merchant_id).order_by("-id").values_list("id", flat=True).first()
    return last or 0


def expected_ref(op) -> str | None:
    r = op.ref
    if op.kind == "deposit_proof":
        return f"deposit:{r['deposit_id']}"
    if op.kind == "payment" and "payment_id" in r:
        return f"payment:{r['payment_id']}"
    if op.kind == "release":
        return f"payment-release:{r['payment_id']}:1"  # the soak releases in full: one part
    if op.kind == "refund":
        return f"refund:api:{op.key}"
    if op.kind == "withdrawal" and "withdrawal_id" in r:
        return f"withdrawal:{r['withdrawal_id']}"
    if op.kind == "drawdown":
        return f"credit-drawdown:{op.order_no}"
    return None


def check(*, merchant_id: int, after_entry_id: int, ops: list, tag: str) -> dict:
    findings = {"lost": [], "double": [], "unrecorded": [], "mismatched": []}
    entries = list(JournalEntry.objects.filter(merchant_id=merchant_id, id__gt=after_entry_id)
                   .values("id", "entry_type", "idempotency_ref", "order_no", "order_amount", "business_date"))
    by_ref = {e["idempotency_ref"]: e for e in entries}

    # 1. every operation a client saw succeed is in the database, with its amount
    ok = [op for op in ops if op.outcome == "ok"]
    for op in ok:
        ref = expected_ref(op)
        if ref is not None:
            entry = by_ref.get(ref)
            if entry is None:
                findings["lost"].append(f"{op.kind} {op.order_no} (key {op.key}): no journal entry {ref}")
            elif ENTRY_CLASS.get(entry["entry_type"]) != op.kind:
                findings["mismatched"].append(f"{op.kind} {op.order_no}: entry {ref} is {entry['entry_type']}")
            elif op.kind != "release" and entry["order_amount"] != Decimal(op.amount):
                findings["mismatched"].append(f"{op.kind} {op.order_no}: entry {ref} amount {entry['order_amount']}"
                                              f" ≠ {op.amount}")
    _rows_exist(merchant_id, ops, findings)

    # 2. every entry of the soak is explained by an operation, at most once
    explained = {expected_ref(op) for op in ops if op.outcome in ("ok", *UNCERTAIN) and expected_ref(op)}
    uncertain_orders = {(op.kind, op.order_no) for op in ops if op.outcome in UNCERTAIN or op.retried}
    allowed = Counter()  # (kind, order number) -> entries the record allows
    for op in ops:
        if op.kind in ENTRY_CLASS.values() and op.outcome in ("ok", *UNCERTAIN):
            if op.kind == "refund":  # partial refunds: one entry each
                allowed[(op.kind, op.order_no)] += 1
            else:
                allowed[(op.kind, op.order_no)] = 1
    seen = Counter()
    for e in entries:
        kind = ENTRY_CLASS.get(e["entry_type"])
        seen[(kind, e["order_no"])] += 1
        if e["idempotency_ref"] in explained:
            continue
        if kind is not None and (kind, e["order_no"]) in uncertain_orders:
            continue  # booked by a retried request whose answer the client never read
        findings["unrecorded"].append(f"entry {e['id']} {e['entry_type']} {e['idempotency_ref']} "
                                      f"order {e['order_no']} {e['order_amount']}")
    for (kind, order_no), n in seen.items():
        limit = max(allowed.get((kind, order_no), 0), 1)
        if kind is not None and n > limit:
            findings["double"].append(f"{kind} {order_no}: {n} journal entries, at most {limit} expected")
    refs = Counter(e["idempotency_ref"] for e in entries)
    findings["double"] += [f"entry reference {ref} booked {n} times" for ref, n in refs.items() if n > 1]

    # 3. members the soak created that no client asked for
    asked = {op.order_no for op in ops if op.kind == "member"}
    for user_id in Member.objects.filter(merchant_id=merchant_id, user_id__startswith=f"{tag}-")\
            .values_list("user_id", flat=True):
        if user_id not in asked:
            findings["unrecorded"].append(f"member {user_id}")
    return {"entries": len(entries), "business_dates": sorted({str(e["business_date"]) for e in entries}),
            **findings}


def _rows_exist(merchant_id, ops, findings):
    """The rows behind the entries: members, deposits, payments (status, refunds), withdrawals, bills."""
    ok = [op for op in ops if op.outcome == "ok"]
    members = set(Member.objects.filter(merchant_id=merchant_id, user_id__in=[op.order_no for op in ops
                                                                             if op.kind == "member"])
                  .values_list("user_id", flat=True))
    for op in ops:
        if op.kind == "member" and op.outcome in ("ok", "done_before") and op.order_no not in members:
            findings["lost"].append(f"member {op.order_no}")
    deposits = {d.order_no: d for d in Deposit.objects.filter(merchant_id=merchant_id,
                                                              order_no__in=[op.order_no for op in ops
                                                                            if op.kind == "deposit"])}
    for op in ok:
        if op.kind == "deposit":
            d = deposits.get(op.order_no)
            if d is None:
                findings["lost"].append(f"deposit {op.order_no}")
            elif d.amount != Decimal(op.amount):
                findings["mismatched"].append(f"deposit {op.order_no}: {d.amount} ≠ {op.amount}")
        if op.kind == "deposit_proof":
            d = deposits.get(op.order_no)
            if d is None or d.status != Deposit.Status.SUCCEEDED:
                findings["lost"].append(f"deposit {op.order_no} credited by notification {op.key}: "
                                        f"{'missing' if d is None else d.status}")
    for op in ops:
        if op.kind == "deposit" and op.outcome == "done_before" and op.order_no not in deposits:
            findings["lost"].append(f"deposit {op.order_no} (answered duplicate_order, not in the database)")

    payments = {p.order_no: p for p in Payment.objects.filter(merchant_id=merchant_id, order_no__in=[
        op.order_no for op in ops if op.kind == "payment"])}
    refunds = defaultdict(Decimal)
    uncertain_refunds = set()
    released = set()
    for op in ops:
        if op.kind == "refund" and op.outcome == "ok":
            refunds[op.order_no] += Decimal(op.amount)
        elif op.kind == "refund" and op.outcome in UNCERTAIN:
            uncertain_refunds.add(op.order_no)
        if op.kind == "release" and op.outcome in ("ok", "done_before"):
            released.add(op.order_no)
    for op in ok:
        if op.kind != "payment":
            continue
        p = payments.get(op.order_no)
        if p is None:
            findings["lost"].append(f"payment {op.order_no}")
            continue
        if p.amount != Decimal(op.amount):
            findings["mismatched"].append(f"payment {op.order_no}: {p.amount} ≠ {op.amount}")
        if op.order_no not in uncertain_refunds and p.refunded_amount != refunds[op.order_no]:
            findings["mismatched"].append(f"payment {op.order_no}: refunded {p.refunded_amount} in the database, "
                                          f"{refunds[op.order_no]} by the client")
        if op.order_no in released and p.status not in (Payment.Status.RELEASED, Payment.Status.REFUNDED):
            findings["lost"].append(f"release of payment {op.order_no}: status {p.status}")
    refund_rows = set(Refund.objects.filter(merchant_id=merchant_id, idempotency_ref__in=[
        f"api:{op.key}" for op in ok if op.kind == "refund"]).values_list("idempotency_ref", flat=True))
    for op in ok:
        if op.kind == "refund" and f"api:{op.key}" not in refund_rows:
            findings["lost"].append(f"refund {op.order_no} (key {op.key})")
    withdrawals = {w.order_no: w for w in Withdrawal.objects.filter(merchant_id=merchant_id, order_no__in=[
        op.order_no for op in ok if op.kind == "withdrawal"])}
    bills = {b.order_no: b for b in CreditBill.objects.filter(merchant_id=merchant_id, order_no__in=[
        op.order_no for op in ok if op.kind == "drawdown"])}
    for op in ok:
        rows = {"withdrawal": withdrawals, "drawdown": bills}.get(op.kind)
        if rows is None:
            continue
        row = rows.get(op.order_no)
        if row is None:
            findings["lost"].append(f"{op.kind} {op.order_no}")
        elif row.amount != Decimal(op.amount):
            findings["mismatched"].append(f"{op.kind} {op.order_no}: {row.amount} ≠ {op.amount}")
