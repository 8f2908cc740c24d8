"""Bulk posting of money in: many entries of the same type in a few set-based statements.

The posting engine (ledger.posting.post_entry) books one entry at a time: about a dozen
statements each. A statement import books thousands of entries in one transaction (each
deposit credited, each unidentified line parked in suspense), so it goes through here. Every
invariant of post_entry holds, entry by entry:
- one journal entry per item, with its own idempotency reference (unique per merchant: an
  item whose reference is already booked is not booked again, its entry is returned) and its
  own order (order number, payer/payee, amount, description) and business date;
- its postings sum to zero (the legs must balance; PostgreSQL checks it again per INSERT
  statement, so an entry's postings go in one statement: ledger.sql.integrity), each
  ordinary account's posting carries the balance after it, in entry order; ordinary accounts
  are locked in id order (as post_entry's UPDATEs) and moved by one UPDATE each; hot accounts
  get HotBalanceDelta rows instead of a lock.
Only legs that RAISE natural balances are taken (money in: supervision up, a liability up):
no overdraft and no frozen-account check can refuse them, so one refused item never has to
undo the others. Anything else goes through post_entry.

PostgreSQL: five statements per call whatever the number of entries. Elsewhere (SQLite
development) it falls back to post_entry per item."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from core.actors import as_actor
from core.sql.arrays import pg_array

from .calendar import business_date_for
from .posting import Leg, Order, UnbalancedEntry, post_entry, validated_legs


@dataclass(frozen=True)
class BulkEntry:
    idempotency_ref: str
    legs: tuple[Leg, ...]
    order: Order = Order()
    business_date: date | None = None


@dataclass(frozen=True)
class BulkBooked:
    entry_id: int
    created: bool


def post_credits_bulk(*, merchant, entry_type: str, actor, entries: list[BulkEntry]) -> dict[str, BulkBooked]:
    """Book every entry; returns idempotency reference -> (entry id, created now)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_credits_bulk must run inside the service's transaction.atomic()")
    if not entries:
        return {}
    refs = [e.idempotency_ref for e in entries]
    if len(set(refs)) != len(refs):
        raise UnbalancedEntry("two entries of one bulk booking share an idempotency reference")
    for e in entries:
        if any(leg.change <= 0 for leg in e.legs):
            raise UnbalancedEntry("a bulk booking takes only legs that raise natural balances")
        validated_legs(merchant, e.legs, entry_type)
    actor = as_actor(actor)
    if connection.vendor != "postgresql":
        return {e.idempotency_ref: _one(merchant, entry_type, actor, e) for e in entries}
    today = business_date_for()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO ledger_journalentry
                   (merchant_id, entry_type, idempotency_ref, order_no, payer_id, payee_id, order_amount,
                    description, actor_kind, actor_label, actor_user_id, business_date, created_at)
               SELECT %s, %s, t.ref, t.order_no, t.payer, t.payee, t.amount, t.description, %s, %s, %s, t.day, %s
               FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::numeric[], %s::text[], %s::date[])
                    WITH ORDINALITY AS t(ref, order_no, payer, payee, amount, description, day, n)
               ORDER BY t.n
               ON CONFLICT (merchant_id, idempotency_ref) DO NOTHING
               RETURNING id, idempotency_ref""",
            [merchant.pk, entry_type, actor.kind, actor.label[:150], actor.user_id, timezone.now(),
             pg_array(refs), pg_array(e.order.order_no[:64] for e in entries),
             pg_array(e.order.payer_id for e in entries), pg_array(e.order.payee_id for e in entries),
             pg_array(e.order.amount for e in entries), pg_array(e.order.description[:255] for e in entries),
             pg_array((e.business_date or today).isoformat() for e in entries)])
        created = dict((ref, pk) for pk, ref in cursor.fetchall())
        booked = {ref: BulkBooked(pk, True) for ref, pk in created.items()}
        missing = [ref for ref in refs if ref not in created]
        if missing:  # booked before (a replay): return those entries, book nothing for them
            cursor.execute("SELECT idempotency_ref, id FROM ledger_journalentry "
                           "WHERE merchant_id = %s AND idempotency_ref = ANY(%s::text[])",
                           [merchant.pk, pg_array(missing)])
            booked.update({ref: BulkBooked(pk, False) for ref, pk in cursor.fetchall()})
        _post_legs(cursor, merchant, [(created[e.idempotency_ref], e.legs) for e in entries
                                      if e.idempotency_ref in created])
    return booked


def _post_legs(cursor, merchant, entries):
    """The postings of the new entries, the ordinary accounts' balances, the hot deltas."""
    entry_ids, account_ids, amounts, changes, hot = [], [], [], [], []
    hot_totals: dict[int, Decimal] = defaultdict(Decimal)
    ordinary = set()
    for entry_id, legs in entries:
        for leg in legs:
            entry_ids.append(entry_id)
            account_ids.append(leg.account.pk)
            amounts.append(leg.account.natural_sign * leg.change)
            changes.append(leg.change)
            hot.append(leg.account.is_hot)
            if leg.account.is_hot:
                hot_totals[leg.account.pk] += leg.change
            else:
                ordinary.add(leg.account.pk)
    if not entry_ids:
        return
    if ordinary:  # the same lock order (and strength) as post_entry's UPDATEs: two movements never deadlock
        cursor.execute("SELECT id FROM ledger_account WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE",
                       [pg_array(sorted(ordinary))])
    # Each ordinary account moves once by the chunk's total; each posting's balance_after is the
    # balance before the chunk plus the running sum up to it, in entry order.
    cursor.execute(
        """WITH items AS (
               SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::numeric[], %s::boolean[])
                      WITH ORDINALITY AS t(entry_id, account_id, amount, change, hot, n)),
           totals AS (SELECT account_id, SUM(change) AS total FROM items WHERE NOT hot GROUP BY account_id),
           moved AS (UPDATE ledger_account a SET balance = a.balance + t.total FROM totals t
                     WHERE a.id = t.account_id RETURNING a.id, a.balance, t.total)
           INSERT INTO ledger_posting (merchant_id, entry_id, account_id, amount, balance_after)
           SELECT %s, i.entry_id, i.account_id, i.amount,
                  CASE WHEN i.hot THEN NULL
                       ELSE m.balance - m.total + SUM(i.change) OVER (PARTITION BY i.account_id ORDER BY i.n) END
           FROM items i LEFT JOIN moved m ON m.id = i.account_id
           ORDER BY i.n""",
        [pg_array(entry_ids), pg_array(account_ids), pg_array(amounts), pg_array(changes), pg_array(hot),
         merchant.pk])
    if hot_totals:  # one delta per hot account: the roll-up adds the same total
        cursor.execute(
            "INSERT INTO ledger_hotbalancedelta (merchant_id, account_id, change) "
            "SELECT %s, account_id, change FROM unnest(%s::bigint[], %s::numeric[]) AS t(account_id, change)",
            [merchant.pk, list(hot_totals), list(hot_totals.values())])


def _one(merchant, entry_type, actor, e: BulkEntry) -> BulkBooked:
    booked = post_entry(merchant=merchant, entry_type=entry_type, idempotency_ref=e.idempotency_ref,
                        legs=list(e.legs), actor=actor, order=e.order, business_date=e.business_date)
    return BulkBooked(booked.entry.pk, booked.created)
