"""Credit applications: draft → submitted → rm_reviewed → approved | rejected, maker-checker,
a second approver above the threshold, limit changes, and every refusal."""
from decimal import Decimal

import pytest

from core.errors import (
    Duplicate,
    InvalidState,
    NotFound,
    PermissionRefused,
    ValidationFailed,
)
from core.models import AuditEvent
from credit import services
from credit.models import CreditApplication, CreditLine
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


def _draft(world, **overrides):
    data = dict(merchant=world.merchant, actor=world.merchant.relationship_manager, member=world.buyer,
                proposed_limit="50000.00", term_days=30, grace_days=5, penalty_rate="0.0005",
                creditor_member=world.core, purpose="Buys steel monthly from the core enterprise")
    data.update(overrides)
    return services.credit_application_create(**data)


def _actions(application):
    return list(AuditEvent.objects.filter(content_type__model="creditapplication", object_id=str(application.pk))
                .order_by("id").values_list("action", "to_state"))


def test_the_full_path_opens_a_line_with_the_approved_terms(world, clock):
    # given a draft prepared by the merchant's RM
    rm = world.merchant.relationship_manager
    application = _draft(world)
    assert application.status == CreditApplication.Status.DRAFT and application.prepared_by == rm
    # when the RM submits, a risk officer reviews and another approves
    services.credit_application_submit(application=application, actor=rm)
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.scored_as_of == clock.day and len(application.score_factors) == 6
    services.credit_application_review(application=application, actor=f.risk())
    approver = f.risk()
    services.credit_application_approve(application=application, actor=approver, reason="Good payer")
    # then the application is approved and the line exists with its terms
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.APPROVED
    assert application.first_approver == approver == application.decided_by
    line = application.line
    assert (line.status, line.limit, line.used, line.term_days, line.grace_days) == (
        "active", Decimal("50000.00"), 0, 30, 5)
    assert line.penalty_rate == Decimal("0.000500") and line.creditor_member == world.core
    assert _actions(application) == [("create", "draft"), ("submit", "submitted"), ("review", "rm_reviewed"),
                                      ("approve", "approved")]
    assert AuditEvent.objects.filter(content_type__model="creditline", object_id=str(line.pk), action="open").exists()


def test_the_preparer_never_reviews_approves_or_rejects_even_with_the_permissions(world):
    # given an RM who also holds the risk officer's role
    both = f.rm()
    from django.contrib.auth.models import Group

    both.groups.add(Group.objects.get(name="risk_officer"))
    world.merchant.relationship_manager = both
    world.merchant.save()
    application = _draft(world, actor=both)
    services.credit_application_submit(application=application, actor=both)
    # when they try to review, then reject their own application
    with pytest.raises(PermissionRefused):
        services.credit_application_review(application=application, actor=both)
    with pytest.raises(PermissionRefused):
        services.credit_application_reject(application=application, actor=both, reason="no")
    # and after another officer's review, to approve it
    services.credit_application_review(application=application, actor=f.risk())
    with pytest.raises(PermissionRefused):
        services.credit_application_approve(application=application, actor=both)
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.RM_REVIEWED and application.first_approver is None


@pytest.mark.parametrize("role", ["rm", "ops", "auditor"])
def test_only_risk_officers_review_and_approve(world, role):
    application = _draft(world)
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    with pytest.raises(PermissionRefused):
        services.credit_application_review(application=application, actor=getattr(f, role)())
    services.credit_application_review(application=application, actor=f.risk())
    with pytest.raises(PermissionRefused):
        services.credit_application_approve(application=application, actor=getattr(f, role)())


@pytest.mark.parametrize("role", ["risk", "ops", "auditor"])
def test_only_relationship_managers_prepare_and_submit(world, role):
    with pytest.raises(PermissionRefused):
        _draft(world, actor=getattr(f, role)())
    application = _draft(world)
    with pytest.raises(PermissionRefused):
        services.credit_application_submit(application=application, actor=getattr(f, role)())


def test_platforms_and_the_system_decide_nothing(world):
    from core.actors import Actor

    with pytest.raises(PermissionRefused):
        _draft(world, actor=Actor.platform("app"))
    application = _draft(world)
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    with pytest.raises(PermissionRefused):
        services.credit_application_review(application=application, actor=None)


def test_an_rm_prepares_only_for_their_own_portfolio(world):
    with pytest.raises(NotFound):
        _draft(world, actor=f.rm())


def test_above_the_threshold_two_different_risk_officers_approve(world, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "CREDIT_SECOND_APPROVAL_ABOVE": "20000.00"}
    application = _draft(world, proposed_limit="20000.01")
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    services.credit_application_review(application=application, actor=f.risk())
    # when the first officer approves
    first = f.risk()
    services.credit_application_approve(application=application, actor=first)
    # then the approval is recorded and the application still waits, with no line
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.RM_REVIEWED
    assert application.first_approver == first and application.line is None
    assert not CreditLine.objects.filter(member=world.buyer).exists()
    # and the same officer can't give the second approval
    with pytest.raises(PermissionRefused):
        services.credit_application_approve(application=application, actor=first)
    # when a second officer approves
    second = f.risk()
    services.credit_application_approve(application=application, actor=second)
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.APPROVED
    assert (application.first_approver, application.second_approver, application.decided_by) == (first, second,
                                                                                                  second)
    assert application.line.limit == Decimal("20000.01")
    approvals = AuditEvent.objects.filter(content_type__model="creditapplication", object_id=str(application.pk),
                                          action="approve").order_by("id")
    assert [(e.to_state, e.data["approval"]) for e in approvals] == [("rm_reviewed", 1), ("approved", 2)]


def test_at_the_threshold_one_approval_is_enough(world, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "CREDIT_SECOND_APPROVAL_ABOVE": "20000.00"}
    application = _draft(world, proposed_limit="20000.00")
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    services.credit_application_review(application=application, actor=f.risk())
    services.credit_application_approve(application=application, actor=f.risk())
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.APPROVED and application.second_approver is None


def test_a_second_officer_may_reject_after_the_first_approval(world, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "CREDIT_SECOND_APPROVAL_ABOVE": "100.00"}
    application = _draft(world)
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    services.credit_application_review(application=application, actor=f.risk())
    services.credit_application_approve(application=application, actor=f.risk())
    services.credit_application_reject(application=application, actor=f.risk(), reason="Exposure too high")
    application.refresh_from_db()
    assert application.status == CreditApplication.Status.REJECTED and application.line is None


@pytest.mark.parametrize("stage", ["submitted", "rm_reviewed"])
def test_rejection_needs_a_reason_and_is_final(world, stage):
    application = _draft(world)
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    if stage == "rm_reviewed":
        services.credit_application_review(application=application, actor=f.risk())
    officer = f.risk()
    with pytest.raises(ValidationFailed):
        services.credit_application_reject(application=application, actor=officer, reason="  ")
    services.credit_application_reject(application=application, actor=officer, reason="Thin trade history")
    application.refresh_from_db()
    assert application.status == "rejected" and application.rejection_reason == "Thin trade history"
    assert application.decided_by == officer
    for step in (services.credit_application_submit, services.credit_application_review,
                 services.credit_application_approve):
        with pytest.raises(InvalidState):
            step(application=application, actor=f.risk() if step is not services.credit_application_submit
                 else world.merchant.relationship_manager)


def test_steps_out_of_order_are_refused(world):
    application = _draft(world)
    with pytest.raises(InvalidState):
        services.credit_application_review(application=application, actor=f.risk())
    with pytest.raises(InvalidState):
        services.credit_application_approve(application=application, actor=f.risk())
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    with pytest.raises(InvalidState):
        services.credit_application_approve(application=application, actor=f.risk())
    with pytest.raises(InvalidState):
        services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)


@pytest.mark.parametrize("change, error", [
    ({"proposed_limit": "0"}, "invalid_amount"),
    ({"proposed_limit": 5000}, "invalid_amount"),
    ({"term_days": 0}, "invalid_request"),
    ({"term_days": 366}, "invalid_request"),
    ({"term_days": "30.5"}, "invalid_request"),
    ({"grace_days": -1}, "invalid_request"),
    ({"grace_days": 91}, "invalid_request"),
    ({"penalty_rate": "0.0100001"}, "invalid_request"),
    ({"penalty_rate": "0.02"}, "invalid_request"),
    ({"penalty_rate": 0.0005}, "invalid_request"),
    ({"penalty_rate": "abc"}, "invalid_request"),
    ({"creditor_member": None}, "invalid_request"),
    ({"creditor_is_platform": True}, "invalid_request"),
])
def test_bad_terms_are_refused_clearly(world, change, error):
    with pytest.raises(Exception) as caught:
        _draft(world, **change)
    assert getattr(caught.value, "code", None) == error
    assert not CreditApplication.objects.exists()


def test_creditor_and_buyer_rules(world):
    outsider = f.member(f.active_merchant(), roles=("seller",))
    with pytest.raises(ValidationFailed):
        _draft(world, creditor_member=world.buyer)  # not a seller
    with pytest.raises(NotFound):
        _draft(world, creditor_member=outsider)  # another platform's seller
    with pytest.raises(ValidationFailed):
        _draft(world, member=world.core)  # a seller only, not a buyer
    both = f.member(world.merchant, roles=("buyer", "seller"))
    with pytest.raises(ValidationFailed):
        _draft(world, member=both, creditor_member=both)  # their own creditor


def test_a_second_line_for_the_same_member_is_refused(world):
    open_line(world.merchant, world.buyer, creditor=world.core)
    with pytest.raises(Duplicate):
        _draft(world)


def test_a_limit_change_goes_through_the_same_approval(world):
    # given an active line with 4,000.00 used
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="10000.00")
    CreditLine.objects.filter(pk=line.pk).update(used=Decimal("4000.00"))
    rm = world.merchant.relationship_manager
    # a new limit below what is drawn is refused at once
    with pytest.raises(ValidationFailed):
        _draft(world, kind="limit_change", line=line, proposed_limit="3999.99")
    # when the RM applies for 25,000.00 on a 45-day term (naming another creditor is ignored)
    application = _draft(world, kind="limit_change", line=line, proposed_limit="25000.00", term_days=45,
                         creditor_member=world.seller)
    assert application.creditor_member == world.core
    services.credit_application_submit(application=application, actor=rm)
    services.credit_application_review(application=application, actor=f.risk())
    line.refresh_from_db()
    assert line.limit == Decimal("10000.00")  # nothing changes before the approval
    services.credit_application_approve(application=application, actor=f.risk())
    # then the line carries the new limit and term, and the change is audited
    line.refresh_from_db()
    assert (line.limit, line.term_days, line.used) == (Decimal("25000.00"), 45, Decimal("4000.00"))
    event = AuditEvent.objects.get(content_type__model="creditline", object_id=str(line.pk), action="limit_change")
    assert event.data["before"]["limit"] == "10000.00" and event.data["after"]["limit"] == "25000.00"


def test_a_limit_cut_below_what_was_drawn_meanwhile_is_refused_at_approval(world):
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="10000.00")
    application = _draft(world, kind="limit_change", line=line, proposed_limit="5000.00")
    services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)
    services.credit_application_review(application=application, actor=f.risk())
    CreditLine.objects.filter(pk=line.pk).update(used=Decimal("6000.00"))
    with pytest.raises(InvalidState):
        services.credit_application_approve(application=application, actor=f.risk())
    application.refresh_from_db()
    line.refresh_from_db()
    assert application.status == CreditApplication.Status.RM_REVIEWED and line.limit == Decimal("10000.00")


def test_a_limit_change_needs_its_line_and_a_new_line_none(world):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    with pytest.raises(ValidationFailed):
        _draft(world, kind="limit_change", line=None)
    other = f.member(world.merchant, roles=("buyer",))
    with pytest.raises(ValidationFailed):
        _draft(world, member=other, kind="limit_change", line=line)
    with pytest.raises(ValidationFailed):
        _draft(world, member=other, line=line)


def test_only_a_draft_can_be_edited(world):
    rm = world.merchant.relationship_manager
    application = _draft(world)
    services.credit_application_update(application=application, actor=rm, proposed_limit="60000.00",
                                       purpose="More volume")
    application.refresh_from_db()
    assert application.proposed_limit == Decimal("60000.00") and application.purpose == "More volume"
    with pytest.raises(ValidationFailed):
        services.credit_application_update(application=application, actor=rm, member=world.seller)
    services.credit_application_submit(application=application, actor=rm)
    with pytest.raises(InvalidState):
        services.credit_application_update(application=application, actor=rm, proposed_limit="1.00")


def test_submission_rechecks_the_world(world):
    from merchants.services.members import member_freeze

    application = _draft(world)
    member_freeze(member=world.buyer, actor=f.risk(), reason="Court order")
    from core.errors import MemberFrozen

    with pytest.raises(MemberFrozen):
        services.credit_application_submit(application=application, actor=world.merchant.relationship_manager)


def test_line_suspend_reactivate_close_by_risk_with_reasons(world):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    officer = f.risk()
    with pytest.raises(PermissionRefused):
        services.credit_line_suspend(line=line, actor=world.merchant.relationship_manager, reason="x")
    with pytest.raises(ValidationFailed):
        services.credit_line_suspend(line=line, actor=officer, reason="")
    services.credit_line_suspend(line=line, actor=officer, reason="Buyer in dispute")
    line.refresh_from_db()
    assert line.status == "suspended" and line.available == 0
    services.credit_line_reactivate(line=line, actor=officer, reason="Dispute settled")
    services.credit_line_close(line=line, actor=officer, reason="Relationship ended")
    line.refresh_from_db()
    assert line.status == "closed"
    with pytest.raises(InvalidState):
        services.credit_line_reactivate(line=line, actor=officer, reason="again")
    # a closed line makes room for a new application
    assert _draft(world).status == "draft"
