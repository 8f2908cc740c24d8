"""The discrepancy-case workflow: open → investigating → resolved | written_off."""
import datetime

import pytest

from core.errors import InvalidState, PermissionRefused, ValidationFailed
from core.models import AuditEvent
from reconciliation.models import DiscrepancyCase
from reconciliation.services.cases import case_investigate, case_resolve, case_write_off
from reconciliation.services.eod import eod_run
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    merchant = f.active_merchant()
    eod_run(merchant=merchant, business_date=datetime.date(2026, 11, 24), actor=None)  # no order file, no statement
    return DiscrepancyCase.objects.filter(kind="order_file_missing").get()


def test_a_case_is_investigated_then_resolved_with_reasons_on_record(case):
    ops = f.ops()
    case = case_investigate(case=case, actor=ops, reason="Asked the platform")
    assert case.status == "investigating"
    case = case_resolve(case=case, actor=ops, reason="The platform sent the file late")
    assert (case.status, case.resolution, case.resolved_by_id) == ("resolved", "The platform sent the file late",
                                                                   ops.pk)
    assert list(AuditEvent.objects.filter(object_id=str(case.pk), action__in=["investigate", "resolve"])
                .order_by("id").values_list("from_state", "to_state", "reason")) == [
        ("open", "investigating", "Asked the platform"), ("investigating", "resolved", "The platform sent the file late")]


def test_a_case_can_be_written_off_from_open(case):
    case = case_write_off(case=case, actor=f.ops(), reason="Test merchant, no platform yet")
    assert case.status == "written_off"


def test_closing_needs_a_reason(case):
    with pytest.raises(ValidationFailed):
        case_resolve(case=case, actor=f.ops(), reason="")
    with pytest.raises(ValidationFailed):
        case_write_off(case=case, actor=f.ops(), reason="  ")
    case.refresh_from_db()
    assert case.status == "open"


def test_a_closed_case_takes_no_further_step(case):
    ops = f.ops()
    case_resolve(case=case, actor=ops, reason="done")
    with pytest.raises(InvalidState):
        case_investigate(case=case, actor=ops)
    with pytest.raises(InvalidState):
        case_write_off(case=case, actor=ops, reason="again")


def test_only_staff_with_the_permission_work_cases(case):
    for user in (f.auditor(), f.rm()):
        with pytest.raises(PermissionRefused):
            case_investigate(case=case, actor=user)
        with pytest.raises(PermissionRefused):
            case_write_off(case=case, actor=user, reason="no")
    case.refresh_from_db()
    assert case.status == "open"
