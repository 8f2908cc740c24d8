"""Writing and reading the audit trail.

Each record carries the SHA-256 of its own content and of the record before it, so a row
altered or removed behind the application's back breaks the chain (`verify_integrity`).
Appends are serialised by a transaction-scoped advisory lock on PostgreSQL (SQLite's
IMMEDIATE transactions serialise writers already)."""
import hashlib
import json

from django.contrib.contenttypes.models import ContentType

from .actors import as_actor
from .locks import xact_lock
from .models import AuditEvent

GENESIS = "0" * 64
_CHAIN_LOCK = 0x4A47_0001  # any constant; names the audit chain's advisory lock


def _digest(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def event_fields(event: AuditEvent) -> dict:
    return {
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


def verify_chain():
    """Return None if the chain is intact, else (event id, what is wrong) for the first break."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev:
            return event.pk, "previous hash does not match (a record was removed or reordered)"
        if _digest(prev, event_fields(event)) != event.hash:
            return event.pk, "content does not match its hash (the record was altered)"
        prev = event.hash
    return None


def timeline_for(obj):
    ct = ContentType.objects.get_for_model(obj.__class__)
    return AuditEvent.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor").order_by("id")


def audit_record_many(*, actor, records) -> int:
    """Append many audit records at once (a bulk booking: one record per object, as
    audit_record would write them one by one), still one hash chain under the same lock.
    `records`: dicts with model, object_id, object_repr, merchant_id, action, and optionally
    from_state, to_state, reason, data. Returns how many were written."""
    return len(_append(actor, list(records)))


def _append(actor, records: list[dict]) -> list[AuditEvent]:
    """Chain the records after the last one, under the chain's lock, and insert them."""
    from django.utils import timezone

    if not records:
        return []
    actor = as_actor(actor)
    xact_lock(_CHAIN_LOCK)
    prev_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    content_types = {}
    now = timezone.now()
    events = []
    for record in records:
        model = record["model"]
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model)
        event = AuditEvent(
            created_at=now, actor_id=actor.user_id, actor_label=actor.label[:150],
            merchant_id=record.get("merchant_id"), content_type=content_types[model],
            object_id=str(record["object_id"]), object_repr=str(record.get("object_repr", ""))[:255],
            action=record["action"], from_state=str(record.get("from_state") or ""),
            to_state=str(record.get("to_state") or ""), reason=record.get("reason") or "",
            data=json.loads(json.dumps(record.get("data") or {}, default=str)), prev_hash=prev_hash,
        )
        event.hash = prev_hash = _digest(prev_hash, event_fields(event))
        events.append(event)
    # In chain order: ids follow the list, so verify_chain (by id) walks the same chain.
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return events
