"""Discrepancy cases: one per end-of-day difference, open → investigating → resolved |
written_off, each step with a reason and an audit record (core.workflow.transition).

A rerun of the day (cases_sync) keeps the cases in step with the differences it finds, and
every change it makes is a workflow transition by the system, with a reason:
- a new difference opens a case (audited as "open", in one bulk append to the audit chain);
  one that persists updates its case's figures;
- an open or investigating case whose difference is gone is closed (auto_resolve);
- a resolved or written-off case whose difference comes back (it was gone in an earlier run)
  or changes (its gap, platform/bank amount minus ledger amount, is not the one that was
  closed; for a party mismatch, the parties it names) is reopened, the same case, so its history stays on one timeline. A closed case
  whose difference is still there, unchanged, stays closed: that is the difference the person
  closed it for (a write-off accepts a difference that will be found again on every rerun).
"""
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
# gettext itself, not an alias: makemessages only extracts the names it knows.
from django.utils.translation import gettext

from core.actors import Actor, as_actor
from core.audit import audit_record_many
from core.workflow import transition

from .. import sql
from ..models import DiscrepancyCase, EodDifference, EodRun
from ..models.eod import DifferenceKind

OPEN_STATES = (DiscrepancyCase.Status.OPEN, DiscrepancyCase.Status.INVESTIGATING)
CLOSED_STATES = (DiscrepancyCase.Status.RESOLVED, DiscrepancyCase.Status.WRITTEN_OFF)
# Whose figures are information (the book balance beside a missing statement), not the gap:
# these come back only by having been gone.
_NO_GAP_KINDS = (DifferenceKind.ORDER_FILE_MISSING, DifferenceKind.BANK_STATEMENT_MISSING)
END_OF_DAY = Actor.system("end-of-day")


def cases_sync(*, run: EodRun, actor) -> None:
    """Open a case per difference of the run (set-based), update the ones already there,
    close the open ones whose difference is gone and reopen the closed ones whose difference
    came back or changed. Runs inside the end-of-day transaction. The closing and reopening
    are the system's (END_OF_DAY), whoever started the run: it is recorded as run_by."""
    run_by = as_actor(actor).label
    params = {"run": run.pk, "merchant": run.merchant_id, "day": run.business_date, "now": timezone.now()}
    returning = _closed_cases_coming_back(run)  # before the upsert overwrites what they were
    with connection.cursor() as cursor:
        cursor.execute(sql.load("eod_cases"), params)
        cursor.execute(sql.load("eod_link_cases"), params)
    _audit_opened(run, params["now"], run_by)
    present = EodDifference.objects.filter(run=run, case_id__isnull=False).values("case_id")
    stale = DiscrepancyCase.objects.filter(merchant_id=run.merchant_id, business_date=run.business_date).exclude(
        pk__in=present)
    stale.update(still_present=False)
    for case in stale.filter(status__in=OPEN_STATES).select_for_update(no_key=True).order_by("pk"):
        case.resolution = gettext("The difference was gone when the day was run again.")
        case.resolved_by, case.closed_at, case.updated_at = None, timezone.now(), timezone.now()
        transition(case, "auto_resolve", actor=END_OF_DAY, reason=case.resolution,
                   data={"run": run.pk, "run_by": run_by})
    for case in DiscrepancyCase.objects.filter(pk__in=returning).select_for_update(no_key=True).order_by("pk"):
        reason, was = returning[case.pk]
        data = {"run": run.pk, "run_by": run_by, "previous_status": case.status,
                "previous_resolution": case.resolution, "previously_closed_by": case.resolved_by_id,
                "was": was, "now": [case.expected_amount, case.actual_amount]}
        case.resolution, case.resolved_by, case.closed_at, case.updated_at = "", None, None, timezone.now()
        transition(case, "reopen", actor=END_OF_DAY, reason=reason, data=data)


def _audit_opened(run: EodRun, now, run_by: str) -> None:
    """The cases the upsert inserted (opened_at is this sync's `now`; an updated case keeps its
    own) get their first audit record."""
    opened = DiscrepancyCase.objects.filter(merchant_id=run.merchant_id, business_date=run.business_date,
                                            opened_at=now).order_by("pk")
    reason = gettext("Found by the end of day.")
    audit_record_many(actor=END_OF_DAY, records=(
        {"model": DiscrepancyCase, "object_id": case.pk, "object_repr": str(case), "merchant_id": run.merchant_id,
         "action": "open", "to_state": DiscrepancyCase.Status.OPEN, "reason": reason,
         "data": {"run": run.pk, "run_by": run_by, "expected": case.expected_amount, "actual": case.actual_amount}}
        for case in opened.only("pk", "business_date", "kind", "key", "order_no", "expected_amount",
                                "actual_amount").iterator(chunk_size=2000)))


def _closed_cases_coming_back(run: EodRun) -> dict[int, tuple[str, list]]:
    """case id -> (reason, [expected, actual] when closed) for the closed cases this run reopens.
    Few rows: only closed cases whose (kind, key) is among the run's differences."""
    same = EodDifference.objects.filter(run=run, kind=OuterRef("kind"), key=OuterRef("key"))
    closed = (DiscrepancyCase.objects
              .filter(Exists(same), merchant_id=run.merchant_id, business_date=run.business_date,
                      status__in=CLOSED_STATES)
              .annotate(new_expected=Subquery(same.values("expected_amount")[:1]),
                        new_actual=Subquery(same.values("actual_amount")[:1]),
                        new_detail=Subquery(same.values("detail")[:1]))
              .values_list("pk", "kind", "still_present", "expected_amount", "actual_amount", "new_expected",
                           "new_actual", "detail", "new_detail"))
    returning = {}
    for pk, kind, still_present, expected, actual, new_expected, new_actual, detail, new_detail in closed:
        if not still_present:
            returning[pk] = (gettext("The difference returned on rerun."), [expected, actual])
        elif kind == DifferenceKind.PARTY_MISMATCH and detail != new_detail:
            # Same amount on both sides: what can change is who the parties are.
            returning[pk] = (gettext("The difference changed on rerun: it was “%(was)s”, it is now “%(now)s”.")
                             % {"was": detail, "now": new_detail}, [expected, actual])
        elif kind not in _NO_GAP_KINDS and _gap(expected, actual) != _gap(new_expected, new_actual):
            returning[pk] = (gettext("The difference changed on rerun: the gap was %(was)s, it is now %(now)s.")
                             % {"was": _gap(expected, actual), "now": _gap(new_expected, new_actual)},
                             [expected, actual])
    return returning


def _gap(expected, actual) -> Decimal:
    return Decimal(expected or 0) - Decimal(actual or 0)


def _close(case: DiscrepancyCase, name: str, *, actor, reason: str, reason_required: bool) -> DiscrepancyCase:
    case = DiscrepancyCase.objects.select_for_update(no_key=True).get(pk=case.pk)
    actor = as_actor(actor)
    case.resolution, case.resolved_by = (reason or "").strip(), actor.user
    case.closed_at = case.updated_at = timezone.now()
    return transition(case, name, actor=actor, reason=reason, reason_required=reason_required)


@transaction.atomic
def case_investigate(*, case: DiscrepancyCase, actor, reason: str = "") -> DiscrepancyCase:
    case = DiscrepancyCase.objects.select_for_update(no_key=True).get(pk=case.pk)
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
