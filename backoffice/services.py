"""The back office's few writes: the audited complaint look-up and the performance snapshots."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import as_actor
from core.audit import audit_record

from .models import PerformanceSnapshot
from .selectors import complaints, performance


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
                created.append(PerformanceSnapshot.objects.create(
                    period=period.key, period_start=period.start, period_end=period.end,
                    relationship_manager_id=row.rm_id, taken_at=timezone.now(), taken_by=label, **row.values()))
        except IntegrityError:
            continue  # another worker took it first: theirs stands
    return created
