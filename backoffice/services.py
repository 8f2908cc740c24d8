"""The back office's few writes: the audited complaint look-up, the performance snapshots and the
record of the nightly integrity check."""
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import as_actor
from core.audit import audit_record

from .models import IntegrityCheck, PerformanceSnapshot
from .selectors import complaints, performance

logger = logging.getLogger("jianguan.integrity")


@transaction.atomic
def complaint_lookup(*, actor, query: str) -> complaints.LookupResult:
    """Run the look-up and record who looked for what and how much they saw (a phone number in
    the query is kept masked). A look-up is audited even when it finds nothing."""
    result = complaints.find(actor, query)
    audit_record(actor=actor, obj=actor, action="complaint_lookup", data={
        "query": complaints.mask_query(result.query), "results": result.count,
        "matched_by": result.matched_by,
        "merchants": sorted({s.merchant.pk for s in result.stories} | {m.merchant_id for m in result.members}),
    })
    return result


def performance_snapshot_take(*, period: performance.Period, actor, as_of=None) -> list[PerformanceSnapshot]:
    """Freeze the period's figures for every RM who has none yet. An existing snapshot is never
    changed: the appraisal was made on it (a correction shows on the screen as a difference).
    Returns the snapshots created."""
    label = as_actor(actor).label[:150]
    created = []
    rows = performance.performance(period, as_of=as_of)
    existing = set(PerformanceSnapshot.objects.filter(period=period.key).values_list("relationship_manager_id",
                                                                                     flat=True))
    for row in rows:
        if row.rm_id in existing:
            continue
        try:
            with transaction.atomic():
                snapshot = PerformanceSnapshot.objects.create(
                    period=period.key, period_start=period.start, period_end=period.end,
                    relationship_manager_id=row.rm_id, taken_at=timezone.now(), taken_by=label, **row.values())
                # The figures an appraisal is made on are on record with the snapshot (core.audit).
                audit_record(actor=actor, obj=snapshot, action="take_snapshot",
                             data={"period": period.key, "relationship_manager": row.rm_id, **row.values()})
        except IntegrityError:
            continue  # another worker took it first: theirs stands
        created.append(snapshot)
    return created


def integrity_check_run(*, actor) -> IntegrityCheck:
    """Run the full proof of the books (ledger.integrity.first_break, as `manage.py
    verify_integrity` does) and record the outcome. The row is committed as `running` before
    the proof starts, so a check that dies (worker killed, database gone) leaves a trace; the
    proof only reads, one statement at a time, each in its own snapshot, so bookings going on
    meanwhile never make it fail. An error while proving is recorded, then raised."""
    from ledger.integrity import first_break

    check = IntegrityCheck.objects.create(actor_label=as_actor(actor).label[:150])
    try:
        problem = first_break()
    except Exception as error:  # noqa: BLE001 - recorded for the dashboard, then re-raised for the log
        check.status, check.detail = IntegrityCheck.Status.ERROR, f"{type(error).__name__}: {error}"[:2000]
        check.finished_at = timezone.now()
        with transaction.atomic():
            check.save(update_fields=["status", "finished_at", "detail"])
            _audit_outcome(check, actor)
        raise
    if problem is None:
        check.status = IntegrityCheck.Status.PASSED
    else:
        check.status = IntegrityCheck.Status.FAILED
        check.check_name, check.location, check.detail = problem.check[:64], problem.where[:255], problem.detail
        logger.error("Integrity break: %s", problem)
    check.finished_at = timezone.now()
    with transaction.atomic():
        check.save(update_fields=["status", "finished_at", "check_name", "location", "detail"])
        _audit_outcome(check, actor)
    return check


def _audit_outcome(check: IntegrityCheck, actor):
    """The verdict on the books is on record with the check's outcome (core.audit). The `running`
    row committed before the proof decides nothing: it is there so a check that dies leaves a row."""
    audit_record(actor=actor, obj=check, action="integrity_check", from_state=IntegrityCheck.Status.RUNNING,
                 to_state=check.status, data={"check": check.check_name, "location": check.location,
                                             "detail": check.detail[:500]})
