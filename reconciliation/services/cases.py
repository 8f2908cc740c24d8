"""Discrepancy cases: one per end-of-day difference, open → investigating → resolved |
written_off, each step with a reason and an audit record (core.workflow.transition)."""
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _g

from core.actors import as_actor
from core.workflow import transition

from .. import sql
from ..models import DiscrepancyCase, EodDifference, EodRun

OPEN_STATES = (DiscrepancyCase.Status.OPEN, DiscrepancyCase.Status.INVESTIGATING)


def cases_sync(*, run: EodRun, actor) -> None:
    """Open a case per difference of the run (set-based), update the ones already open, and
    close the open ones whose difference is gone. Runs inside the end-of-day transaction."""
    params = {"run": run.pk, "merchant": run.merchant_id, "day": run.business_date, "now": timezone.now()}
    with connection.cursor() as cursor:
        cursor.execute(sql.load("eod_cases"), params)
        cursor.execute(sql.load("eod_link_cases"), params)
    present = EodDifference.objects.filter(run=run, case_id__isnull=False).values("case_id")
    stale = DiscrepancyCase.objects.filter(merchant_id=run.merchant_id, business_date=run.business_date).exclude(
        pk__in=present)
    stale.update(still_present=False)
    for case in stale.filter(status__in=OPEN_STATES).select_for_update():
        case.resolution = _g("The difference was gone when the day was run again.")
        case.resolved_by, case.closed_at, case.updated_at = None, timezone.now(), timezone.now()
        transition(case, "resolve", actor=as_actor(actor) if actor else None, reason=case.resolution,
                   action="auto_resolve", data={"run": run.pk})


def _close(case: DiscrepancyCase, name: str, *, actor, reason: str, reason_required: bool) -> DiscrepancyCase:
    case = DiscrepancyCase.objects.select_for_update().get(pk=case.pk)
    actor = as_actor(actor)
    case.resolution, case.resolved_by = (reason or "").strip(), actor.user
    case.closed_at = case.updated_at = timezone.now()
    return transition(case, name, actor=actor, reason=reason, reason_required=reason_required)


@transaction.atomic
def case_investigate(*, case: DiscrepancyCase, actor, reason: str = "") -> DiscrepancyCase:
    case = DiscrepancyCase.objects.select_for_update().get(pk=case.pk)
    case.updated_at = timezone.now()
    return transition(case, "investigate", actor=actor, reason=reason)


@transaction.atomic
def case_resolve(*, case: DiscrepancyCase, actor, reason: str) -> DiscrepancyCase:
    """Closed with an explanation (the correcting entry, the late statement, the platform's fix)."""
    return _close(case, "resolve", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def case_write_off(*, case: DiscrepancyCase, actor, reason: str) -> DiscrepancyCase:
    """Accepted as it is, with the reason on record."""
    return _close(case, "write_off", actor=actor, reason=reason, reason_required=True)
