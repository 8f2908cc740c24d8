"""The discrepancy-case workflow: open → investigating → resolved | written_off by staff, and
the system's steps on a rerun (auto_resolve when the difference is gone, reopen when a closed
difference comes back or changes). Every transition, allowed and refused, is tested here."""
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from core.actors import Actor
from core.errors import InvalidState, PermissionRefused, ValidationFailed
from core.models import AuditEvent
from core.workflow import transition
from reconciliation.models import DiscrepancyCase
from reconciliation.services.cases import case_investigate, case_resolve, case_write_off
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import
from reconciliation.services.orders import order_file_create
from tests import factories as f

from .builders import announce, english, payment

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 11, 24)
SYSTEM = Actor.system("end-of-day")


@pytest.fixture
def case():
    merchant = f.active_merchant()
    eod_run(merchant=merchant, business_date=DAY, actor=None)  # no order file, no statement
    return DiscrepancyCase.objects.filter(kind="order_file_missing").get()


def audit(case, *actions):
    return list(AuditEvent.objects.filter(object_id=str(case.pk), action__in=actions).order_by("id")
                .values_list("action", "from_state", "to_state", "reason"))


# --- staff steps ---------------------------------------------------------------------------


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
        with pytest.raises(PermissionRefused):
            case_resolve(case=case, actor=user, reason="no")
    case.refresh_from_db()
    assert case.status == "open"


# --- the whole transition table ------------------------------------------------------------

STATES = ("open", "investigating", "resolved", "written_off")
STAFF_STEPS = {
    # step: (service, states it is allowed from)
    "investigate": (lambda case, ops: case_investigate(case=case, actor=ops, reason="look"), {"open"}),
    "resolve": (lambda case, ops: case_resolve(case=case, actor=ops, reason="fixed"), {"open", "investigating"}),
    "write_off": (lambda case, ops: case_write_off(case=case, actor=ops, reason="accepted"),
                  {"open", "investigating"}),
}
TARGET = {"investigate": "investigating", "resolve": "resolved", "write_off": "written_off",
          "auto_resolve": "resolved", "reopen": "open"}
SYSTEM_STEPS = {"auto_resolve": {"open", "investigating"}, "reopen": {"resolved", "written_off"}}


def bring_to(case, state, ops):
    """The case in `state`, reached the way production reaches it."""
    if state == "investigating":
        case = case_investigate(case=case, actor=ops, reason="look")
    elif state == "resolved":
        case = case_resolve(case=case, actor=ops, reason="fixed")
    elif state == "written_off":
        case = case_write_off(case=case, actor=ops, reason="accepted")
    assert case.status == state
    return case


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", sorted(STAFF_STEPS))
def test_every_staff_step_from_every_state(case, step, state):
    # given a case in this state and an operations officer
    ops = f.ops()
    case = bring_to(case, state, ops)
    service, allowed_from = STAFF_STEPS[step]
    before = AuditEvent.objects.count()

    # when the officer takes the step
    if state in allowed_from:
        # then it is taken, with its audit record
        assert service(case, ops).status == TARGET[step]
        assert audit(case, step)[-1][1:3] == (state, TARGET[step])
    else:
        # then it is refused and nothing changes
        with pytest.raises(InvalidState):
            service(case, ops)
        case.refresh_from_db()
        assert case.status == state and AuditEvent.objects.count() == before


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", sorted(SYSTEM_STEPS))
def test_every_system_step_from_every_state(case, step, state):
    # given a case in this state
    case = bring_to(case, state, f.ops())

    # when the end of day takes a system step
    if state in SYSTEM_STEPS[step]:
        # then it is taken and audited as the system's
        transition(case, step, actor=SYSTEM, reason="rerun")
        case.refresh_from_db()
        assert case.status == TARGET[step]
        event = AuditEvent.objects.filter(object_id=str(case.pk), action=step).get()
        assert (event.actor_id, event.actor_label, event.from_state, event.reason) == (None, "end-of-day", state,
                                                                                    "rerun")
    else:
        with pytest.raises(InvalidState):
            transition(case, step, actor=SYSTEM, reason="rerun")
        case.refresh_from_db()
        assert case.status == state


@pytest.mark.parametrize("step", sorted(SYSTEM_STEPS))
def test_no_staff_user_takes_a_system_step_and_no_button_offers_it(case, step):
    # given a case the system could move, and staff who may work cases (even a superuser)
    ops = f.ops()
    case = bring_to(case, "resolved" if step == "reopen" else "open", ops)
    superuser = f.ops(is_superuser=True)
    for user in (ops, superuser):
        # then the step is refused to them, and it is not among their available steps
        with pytest.raises(PermissionRefused):
            transition(case, step, actor=user, reason="by hand")
        assert step not in {t.name for t in case.get_available_user_status_transitions(user=user)}
    case.refresh_from_db()
    assert case.status == ("resolved" if step == "reopen" else "open")


# --- what a rerun does to the cases --------------------------------------------------------


@pytest.fixture
def day():
    """A merchant whose DAY holds a statement-proven deposit D-1 of 1000.00 and a payment P-1 of
    200.00: with the platform's file saying the same, the day is balanced."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    deposit = announce(merchant, buyer, "1000.00", "D-1")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR1", DAY.isoformat(), "1000.00", "Zhang", "1", "B", deposit.payment_code, "1000.00")]))
    payment(merchant, buyer, seller, "200.00", "P-1", DAY)
    return merchant


def platform_says(merchant, amount):
    """The platform's order file for DAY: D-1 as booked, and P-1 for `amount`."""
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[
        {"order_no": "D-1", "type": "deposit", "amount": "1000.00"},
        {"order_no": "P-1", "type": "payment", "amount": amount}])


def rerun(merchant, actor=None):
    return eod_run(merchant=merchant, business_date=DAY, actor=actor)


def mismatch(merchant):
    return DiscrepancyCase.objects.get(merchant=merchant, kind="amount_mismatch")


def test_an_open_or_investigating_case_whose_difference_is_gone_is_closed_by_the_system(day):
    # given an amount mismatch whose case is being investigated
    merchant = day
    platform_says(merchant, "250.00")
    rerun(merchant)
    case = case_investigate(case=mismatch(merchant), actor=f.ops(), reason="asked the platform")
    # when the platform corrects its file and an officer reruns the day
    platform_says(merchant, "200.00")
    officer = f.ops()
    run = rerun(merchant, actor=officer)
    # then the case is resolved by the system, with the reason and who ran the day on record
    case.refresh_from_db()
    assert (case.status, case.still_present, case.resolved_by_id) == ("resolved", False, None)
    assert case.resolution == "The difference was gone when the day was run again."
    event = AuditEvent.objects.get(object_id=str(case.pk), action="auto_resolve")
    assert (event.from_state, event.to_state, event.actor_id, event.actor_label) == (
        "investigating", "resolved", None, "end-of-day")
    assert event.reason == case.resolution and event.data == {"run": run.pk, "run_by": officer.username}


@pytest.mark.parametrize("closed_as", ["resolved", "written_off", "auto_resolved"])
def test_a_closed_case_whose_difference_comes_back_is_reopened(day, closed_as):
    # given an amount mismatch, closed (by staff, or by the system when it went away)
    merchant = day
    platform_says(merchant, "250.00")
    rerun(merchant)
    case, ops = mismatch(merchant), f.ops()
    if closed_as == "resolved":
        case_resolve(case=case, actor=ops, reason="the platform will correct it")
    elif closed_as == "written_off":
        case_write_off(case=case, actor=ops, reason="accepted")
    # ... the difference goes away on a rerun (the case stays closed, or is closed by the system)
    platform_says(merchant, "200.00")
    rerun(merchant)
    case.refresh_from_db()
    assert (case.status, case.still_present) == ("written_off" if closed_as == "written_off" else "resolved", False)
    closed_status = case.status

    # when it comes back on a later rerun
    platform_says(merchant, "250.00")
    run = rerun(merchant)

    # then the same case is open again, with the reason and what it was on record; no new case
    case.refresh_from_db()
    assert DiscrepancyCase.objects.filter(merchant=merchant, kind="amount_mismatch").count() == 1
    assert (case.status, case.still_present, case.run_id) == ("open", True, run.pk)
    assert (case.resolution, case.resolved_by_id, case.closed_at) == ("", None, None)
    event = AuditEvent.objects.filter(object_id=str(case.pk), action="reopen").get()
    assert (event.from_state, event.to_state, event.reason, event.actor_label) == (
        closed_status, "open", "The difference returned on rerun.", "end-of-day")
    assert event.data["previous_status"] == closed_status and event.data["run"] == run.pk
    # and staff can work it again
    assert case_investigate(case=case, actor=ops).status == "investigating"


@pytest.mark.parametrize(("close", "closed_status"), [(case_resolve, "resolved"), (case_write_off, "written_off")])
def test_a_closed_case_whose_difference_persists_unchanged_stays_closed(day, close, closed_status):
    # given an amount mismatch closed by staff while it was there
    merchant = day
    platform_says(merchant, "250.00")
    rerun(merchant)
    case = close(case=mismatch(merchant), actor=f.ops(), reason="explained")
    # when the day is run again and the same difference is found
    run = rerun(merchant)
    # then the case stays closed (it is the difference staff closed), seen in the last run
    case.refresh_from_db()
    assert (case.status, case.still_present, case.run_id) == (closed_status, True, run.pk)
    assert case.resolution == "explained"
    assert not AuditEvent.objects.filter(object_id=str(case.pk), action="reopen").exists()


def test_a_closed_case_whose_difference_changes_is_reopened(day):
    # given an amount mismatch of 50.00, written off
    merchant = day
    platform_says(merchant, "250.00")
    rerun(merchant)
    case = case_write_off(case=mismatch(merchant), actor=f.ops(), reason="50.00 shipping, agreed")
    # when the platform's figure changes and the gap is now 60.00
    platform_says(merchant, "260.00")
    rerun(merchant)
    # then the write-off no longer covers it: the case is reopened with the old figures on record
    case.refresh_from_db()
    assert (case.status, case.expected_amount, case.actual_amount) == ("open", D("260.00"), D("200.00"))
    event = AuditEvent.objects.get(object_id=str(case.pk), action="reopen")
    assert event.reason == "The difference changed on rerun: the gap was 50.00, it is now 60.00."
    assert event.data["was"] == ["250.00", "200.00"] and event.data["previous_resolution"] == "50.00 shipping, agreed"


def test_a_written_off_missing_statement_stays_closed_when_only_the_book_balance_moves():
    # given "no bank statement" written off on a day without orders
    merchant = f.active_merchant()
    order_file_create(merchant=merchant, actor=None, business_date=DAY, orders=[])
    rerun(merchant)
    case = DiscrepancyCase.objects.get(merchant=merchant)
    assert (case.kind, case.actual_amount) == ("bank_statement_missing", D("0.00"))
    case_write_off(case=case, actor=f.ops(), reason="the bank's export is down; checked by phone")
    # when money booked on that day moves the book balance shown beside it, and the day reruns
    book_on_day(merchant, "10.00")
    rerun(merchant)
    # then the case stays written off: its figure is information, not the difference
    case.refresh_from_db()
    assert (case.status, case.actual_amount) == ("written_off", D("10.00"))


def book_on_day(merchant, amount):
    """Plain setup: money in to a member on DAY, outside any order (an adjustment)."""
    from django.db import transaction

    from ledger.models import AccountKind, EntryType
    from ledger.posting import Leg, post_entry
    from ledger.services.accounts import member_accounts, platform_account

    with transaction.atomic():
        post_entry(merchant=merchant, entry_type=EntryType.ADJUSTMENT, idempotency_ref=f"test-adjust:{amount}",
                   legs=[Leg(platform_account(merchant, AccountKind.SUPERVISION), D(amount), check=False),
                         Leg(member_accounts(f.member(merchant))[0], D(amount))], actor=None, business_date=DAY)


def test_a_rerun_by_staff_without_case_permission_still_closes_and_reopens(day, django_user_model):
    # given an officer who may run the end of day but not work cases
    runner = f.auditor()
    runner.user_permissions.add(Permission.objects.get(codename="run_endofday"))
    runner = django_user_model.objects.get(pk=runner.pk)
    merchant = day
    platform_says(merchant, "250.00")
    rerun(merchant, actor=runner)
    case = mismatch(merchant)
    # when the difference goes and comes back on their reruns
    platform_says(merchant, "200.00")
    rerun(merchant, actor=runner)
    case.refresh_from_db()
    assert case.status == "resolved"
    platform_says(merchant, "250.00")
    rerun(merchant, actor=runner)
    # then the system did both, in their runs
    case.refresh_from_db()
    assert case.status == "open"
    assert [a for a, *_ in audit(case, "auto_resolve", "reopen")] == ["auto_resolve", "reopen"]
