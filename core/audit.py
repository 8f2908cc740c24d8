"""Writing and reading the audit trail, and the rule that every decision leaves a trace.

The rule. Every service that changes state writes, in its own transaction, at least one of:
- a money movement: a `ledger.JournalEntry` row, written only by `ledger.posting.post_entry`
  or the bulk poster (`ledger.posting_bulk.post_credits_bulk`). The entry is the movement's
  audit: who (actor), when, which order, which accounts, how much;
- a decision: a `core.models.AuditEvent`, appended by `audit_record` / `audit_record_many`
  below or by `core.workflow.transition` (which writes one for every workflow step).
A change that moves no money (an announcement, a receivable, a setting, a mark as read) is a
decision and needs an audit record; a movement that also decides something (a withdrawal
approved, a payment released) writes both. A job that commits one transaction per item (an
expiry, an auto-release, the overdue sweep, the nightly integrity check) writes the trace in
each transaction that decides something. A call that changes nothing (a replay of the same
request, a rerun with nothing new) writes nothing. A refusal writes nothing either: its
transaction rolls back, unless the refusal itself is kept on purpose, and then it is audited
too (a wrong micro-deposit amount counts against the card; a refused statement file is kept
with its errors). Reads (selectors, the services' look-up helpers) never write; the one read
that is itself a decision, a staff look-up of personal data
(backoffice.services.complaint_lookup), is audited as one.
tests/core/test_every_decision_leaves_a_trace.py runs every service and holds it to this.

Each record carries the SHA-256 of its own content and of the record before it in its chain, so
a row altered or removed behind the application's back breaks the chain (`verify_integrity`).

One chain per merchant, and one for the bank's own records (merchant_id NULL: staff, channels,
the calendar), each in LANES lanes: a transaction's records of one chain go to the lane of the first
object it records there (a stable hash of the object's model and id), so two transactions about two
objects mostly take two lanes. An append locks only its lane (a transaction-scoped advisory lock
held to commit on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers already), so a
100,000-line import of one merchant never makes another merchant wait, and one merchant's releases
of different payments don't queue behind each other's commits. Records carry their chain (`chain`:
the merchant's id, 0 for the bank) and lane (`lane`, hashed with the record when it is not 0:
records written before lanes are lane 0, hashed as they were). Records written before chains were
split (chain NULL) form the legacy chain, verified as it was; each new chain or lane starts from the
legacy chain's last hash, so removing that record is detected too."""
import hashlib
import json

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q

from .actors import as_actor
from .locks import Lock
from .models import AuditEvent

GENESIS = "0" * 64
BANK_CHAIN = 0
LANES = 16


def chain_of(merchant_id) -> int:
    return BANK_CHAIN if merchant_id is None else int(merchant_id)


def lane_of(model, object_id) -> int:
    """The lane of an object's records: stable across processes and releases of the code."""
    key = f"{model._meta.label_lower}:{object_id}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=2).digest(), "big") % LANES


def chain_lock_ids(chain: int, lane: int = 0) -> tuple[int, int]:
    """The advisory lock (namespace, key) of one lane of a chain (core.locks.Lock.AUDIT_CHAIN)."""
    return (int(Lock.AUDIT_CHAIN), (chain * LANES + lane) & 0x7FFFFFFF)  # keys are int4; a wrap only shares a lock


def _digest(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def event_fields(event: AuditEvent) -> dict:
    fields = {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "merchant_id": event.merchant_id,
        "content_type_id": event.content_type_id,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "data": event.data,
    }
    if event.chain is not None:  # the legacy chain's records were hashed without it
        fields["chain"] = event.chain
    if event.lane:  # records written before lanes (lane 0) were hashed without it
        fields["lane"] = event.lane
    return fields


def audit_record(*, actor, obj, action: str, from_state="", to_state="", reason="",
                 data=None, merchant_id=None) -> AuditEvent:
    """Append one audit record. Call inside the service's transaction."""
    if merchant_id is None:
        merchant_id = getattr(obj, "merchant_id", None)
        if merchant_id is None and obj.__class__.__name__ == "Merchant":
            merchant_id = obj.pk
    return _append(actor, [{"model": obj.__class__, "object_id": obj.pk, "object_repr": str(obj),
                            "merchant_id": merchant_id, "action": action, "from_state": from_state,
                            "to_state": to_state, "reason": reason, "data": data}])[0]


def verify_chain(chain: int | None = None):
    """Return None if every chain (or the one given, with the legacy chain it starts from) is
    intact, else (event id, what is wrong) for the first break. One pass in id order, keeping the
    last hash of each lane of each chain."""
    legacy_tail, last = GENESIS, {}
    events = AuditEvent.objects.order_by("id")
    if chain is not None:
        events = events.filter(Q(chain=chain) | Q(chain__isnull=True))
    for event in events.iterator(chunk_size=2000):
        if event.chain is None:
            prev = legacy_tail
            if last:
                return event.pk, "a record without a chain after the chains began"
        else:
            prev = last.get((event.chain, event.lane), legacy_tail)
        if event.prev_hash != prev:
            return event.pk, "previous hash does not match (a record was removed or reordered)"
        if _digest(prev, event_fields(event)) != event.hash:
            return event.pk, "content does not match its hash (the record was altered)"
        if event.chain is None:
            legacy_tail = event.hash
        else:
            last[(event.chain, event.lane)] = event.hash
    return None


def timeline_for(obj):
    ct = ContentType.objects.get_for_model(obj.__class__)
    return AuditEvent.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor").order_by("id")


def audit_record_many(*, actor, records) -> int:
    """Append many audit records at once (a bulk booking: one record per object, as
    audit_record would write them one by one), one lane per chain under its lock.
    `records`: dicts with model, object_id, object_repr, merchant_id, action, and optionally
    from_state, to_state, reason, data. Returns how many were written."""
    return len(_append(actor, list(records)))


def _append(actor, records: list[dict]) -> list[AuditEvent]:
    """Chain the records after the last one of their chain's lane, each lane under its own lock,
    and insert them. A transaction writes all its records of one chain into one lane — the lane of
    the first object it records there — so it holds one lane per chain, taken in chain order, and two
    appends never wait on each other in a cycle."""
    from django.utils import timezone

    if not records:
        return []
    actor = as_actor(actor)
    proposed = {}
    for record in records:
        proposed.setdefault(chain_of(record.get("merchant_id")), lane_of(record["model"], record["object_id"]))
    lanes = _lock_lanes(proposed)
    prev = {chain: _tail(chain, lane) for chain, lane in lanes.items()}
    content_types = {}
    now = timezone.now()
    events = []
    for record in records:
        model = record["model"]
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model)
        chain = chain_of(record.get("merchant_id"))
        event = AuditEvent(
            created_at=now, actor_id=actor.user_id, actor_label=actor.label[:150],
            merchant_id=record.get("merchant_id"), chain=chain, lane=lanes[chain], content_type=content_types[model],
            object_id=str(record["object_id"]), object_repr=str(record.get("object_repr", ""))[:255],
            action=record["action"], from_state=str(record.get("from_state") or ""),
            to_state=str(record.get("to_state") or ""), reason=record.get("reason") or "",
            data=json.loads(json.dumps(record.get("data") or {}, default=str)), prev_hash=prev[chain],
        )
        event.hash = prev[chain] = _digest(prev[chain], event_fields(event))
        events.append(event)
    # Ids follow the list, so verify_chain (by id) walks each lane in the order it was chained.
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return events


# One statement: each chain's lane — the one this transaction already holds (a transaction-local
# setting, gone at COMMIT or ROLLBACK), else the one proposed — locked in (chain, lane) order and
# remembered for the transaction's later appends.
_LOCK_LANES = """SELECT s.chain, s.lane, pg_advisory_xact_lock(%s, ((s.chain * %s + s.lane) & 2147483647)::int),
       set_config('jianguan.audit_lane_' || s.chain, s.lane::text, true)
FROM (SELECT c.chain,
             coalesce(nullif(current_setting('jianguan.audit_lane_' || c.chain, true), '')::int, c.lane) AS lane
      FROM unnest(%s::bigint[], %s::int[]) AS c(chain, lane) ORDER BY 1, 2 OFFSET 0) s
"""


def _lock_lanes(proposed: dict) -> dict:
    """{chain: lane} this transaction appends to, each lane locked until the transaction ends
    (SQLite's IMMEDIATE transactions serialise writers already: the proposed lanes)."""
    if connection.vendor != "postgresql":
        return dict(proposed)
    chains = sorted(proposed)
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_LANES, [chain_lock_ids(0)[0], LANES, chains, [proposed[c] for c in chains]])
        return {chain: lane for chain, lane, _locked, _pinned in cursor.fetchall()}


def _tail(chain: int, lane: int) -> str:
    """The last hash of a chain's lane; a new one starts from the legacy chain's last hash. One
    statement either way (index audit_chain_lane_idx, and audit_chain_idx for the legacy chain)."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce((SELECT hash FROM {table} WHERE chain = %s AND lane = %s ORDER BY id DESC LIMIT 1), "
            f"(SELECT hash FROM {table} WHERE chain IS NULL ORDER BY id DESC LIMIT 1))", [chain, lane])
        return cursor.fetchone()[0] or GENESIS
