"""The audit trail is one hash chain per merchant (and one for the bank's own records), each in
lanes by object: an append locks only its lane, and verify_integrity proves every chain."""
import threading

import pytest
from django.db import connection, transaction

from core.audit import (
    BANK_CHAIN,
    GENESIS,
    LANES,
    _digest,
    audit_record,
    chain_lock_ids,
    event_fields,
    lane_of,
    verify_chain,
)
from core.models import AuditEvent
from merchants.services.lifecycle import merchant_freeze
from tests import factories as f
from tests.faults.helpers import every_lane_of, holding

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_each_merchant_has_its_own_chain_and_the_bank_one_of_its_own():
    a, b = f.active_merchant(), f.active_merchant()
    merchant_freeze(merchant=a, actor=f.risk(), reason="fraud report")
    merchant_freeze(merchant=b, actor=f.risk(), reason="court order")
    by_chain = {}
    for event in AuditEvent.objects.order_by("id"):
        assert event.chain == (event.merchant_id if event.merchant_id is not None else BANK_CHAIN)
        assert 0 <= event.lane < LANES
        by_chain.setdefault((event.chain, event.lane), []).append(event)
    assert {a.pk, b.pk} <= {chain for chain, _lane in by_chain}
    for chain, events in by_chain.items():  # each chain's lane links only to its own records
        assert events[0].prev_hash == GENESIS
        assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:]))
    assert verify_chain() is None and verify_chain(a.pk) is None


@pytest.mark.django_db
def test_a_break_in_one_chain_is_found_and_named():
    a, b = f.active_merchant(), f.active_merchant()
    merchant_freeze(merchant=a, actor=f.risk(), reason="x")
    last_b = AuditEvent.objects.filter(chain=b.pk).order_by("-id").first()
    with connection.cursor() as cursor:  # the attacker: a superuser with the triggers disabled
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE core_auditevent SET reason = 'edited' WHERE id = %s", [last_b.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert verify_chain() == (last_b.pk, "content does not match its hash (the record was altered)")
    assert verify_chain(a.pk) is None  # merchant a's own chain is intact


@pytest.mark.django_db
def test_new_chains_start_from_the_records_written_before_the_split():
    """Given records of the single bank-wide chain (chain NULL), the first record of each new
    chain links to its last hash: removing that record would break every chain after it."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    ct = ContentType.objects.get_for_model(AuditEvent)
    prev = GENESIS
    for n in range(3):
        event = AuditEvent(created_at=timezone.now(), actor_label="legacy", content_type=ct, object_id=str(n),
                           object_repr="legacy", action="legacy", prev_hash=prev)
        event.hash = prev = _digest(prev, event_fields(event))
        event.save()
    merchant = f.active_merchant()
    first = AuditEvent.objects.filter(chain=merchant.pk).order_by("id").first()
    assert first.prev_hash == prev
    assert verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_a_merchant_whose_chain_is_busy_makes_no_other_merchant_wait():
    # given merchant A's chain held by a long transaction (a 100,000-line import, say)
    a, b = f.active_merchant(), f.active_merchant()
    officer = f.risk()
    done = {}

    def freeze(merchant, key):
        try:
            merchant_freeze(merchant=merchant, actor=officer, reason=f"check {key}")
            done[key] = "frozen"
        finally:
            connection.close()

    with holding(*every_lane_of(a.pk)):
        # when both merchants are frozen at the same time
        waiting = threading.Thread(target=freeze, args=(a, "a"))
        waiting.start()
        free = threading.Thread(target=freeze, args=(b, "b"))
        free.start()
        free.join(60)
        # then B's freeze is committed while A's still waits for A's chain
        assert done == {"b": "frozen"} and waiting.is_alive()
        pids = [row for row in _waiting_on_advisory_locks()]
        assert len(pids) == 1
    waiting.join(60)
    assert done == {"a": "frozen", "b": "frozen"}
    assert verify_chain() is None


def _waiting_on_advisory_locks():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return [row[0] for row in cursor.fetchall()]


def test_no_two_lock_namespaces_collide():
    from core.locks import Lock

    values = [int(member) for member in Lock]
    assert len(values) == len(set(values)) and all(0 < v < 2 ** 31 for v in values)


@pytest.mark.django_db(transaction=True)
def test_one_merchant_s_records_of_two_objects_in_two_lanes_do_not_wait_for_each_other():
    # given two members of one merchant whose records go to two lanes, the first one's lane held
    merchant = f.active_merchant()
    first, second = _two_lanes(merchant)
    done = {}

    def note(member, key):
        try:
            with transaction.atomic():
                audit_record(actor=None, obj=member, action="mark_hot")
            done[key] = True
        finally:
            connection.close()

    lane = chain_lock_ids(merchant.pk, lane_of(type(first), first.pk))
    with holding("SELECT pg_advisory_xact_lock(%s, %s)", list(lane)):
        # when a record of each is appended at the same time
        waiting = threading.Thread(target=note, args=(first, "first"))
        waiting.start()
        free = threading.Thread(target=note, args=(second, "second"))
        free.start()
        free.join(60)
        # then the second's is committed while the first's waits for its lane
        assert done == {"second": True} and waiting.is_alive()
    waiting.join(60)
    assert done == {"first": True, "second": True}
    assert verify_chain() is None and verify_chain(merchant.pk) is None


@pytest.mark.django_db(transaction=True)
def test_a_transaction_writes_one_chain_into_one_lane_so_two_never_wait_in_a_cycle():
    # given two members of one merchant whose objects hash to two lanes
    merchant = f.active_merchant()
    first, second = _two_lanes(merchant)
    # when one transaction records the first then the second, and another the second then the first
    with transaction.atomic():
        audit_record(actor=None, obj=first, action="mark_hot")
        audit_record(actor=None, obj=second, action="mark_hot")
    with transaction.atomic():
        audit_record(actor=None, obj=second, action="mark_ordinary")
        audit_record(actor=None, obj=first, action="mark_ordinary")
    # then each transaction's two records share the lane of its first object: one lock each
    hot, ordinary = (list(AuditEvent.objects.filter(action=action, chain=merchant.pk).order_by("id"))
                     for action in ("mark_hot", "mark_ordinary"))
    assert {e.lane for e in hot} == {lane_of(type(first), first.pk)}
    assert {e.lane for e in ordinary} == {lane_of(type(second), second.pk)}
    assert verify_chain() is None


def _two_lanes(merchant):
    members = [f.member(merchant)]
    while True:
        candidate = f.member(merchant)
        if lane_of(type(candidate), candidate.pk) != lane_of(type(members[0]), members[0].pk):
            return members[0], candidate
