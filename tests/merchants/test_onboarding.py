"""Merchant onboarding: every transition, allowed and refused, with maker-checker."""
import pytest

from core.errors import InvalidState, PermissionRefused, ValidationFailed
from core.models import AuditEvent
from merchants.models import Merchant
from merchants.services.credentials import valid_secrets
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_close,
    merchant_freeze,
    merchant_reject,
    merchant_start_closing,
    merchant_submit,
    merchant_unfreeze,
    merchant_update,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_rm_creates_a_draft_and_submits_it():
    # given a relationship manager
    manager = f.rm()
    # when they create and submit a merchant
    merchant = f.draft_merchant(manager=manager)
    merchant_submit(merchant=merchant, actor=manager)
    # then it waits for a risk officer, and both steps are audited
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUBMITTED
    assert merchant.submitted_by == manager
    actions = list(AuditEvent.objects.filter(object_id=str(merchant.pk)).order_by("id").values_list("action", "from_state", "to_state"))
    assert actions == [("create", "", "draft"), ("submit", "draft", "submitted")]


def test_risk_officer_approves_and_operations_activate():
    # given a submitted merchant
    merchant = f.draft_merchant()
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    # when risk approves and operations activate
    merchant_approve(merchant=merchant, actor=f.risk())
    merchant, secret = merchant_activate(merchant=merchant, actor=f.ops())
    # then the merchant is active with an account number, an app id and a secret
    assert merchant.status == Merchant.Status.ACTIVE
    assert merchant.supervision_account_number.startswith("6228480")
    assert merchant.app_id.startswith("jg")
    assert len(secret) >= 32
    assert valid_secrets(merchant) == [secret]


def test_the_submitter_can_never_approve_even_with_the_permission():
    # given a user who is both RM and risk officer and submitted the merchant
    from django.contrib.auth.models import Group

    maker = f.rm()
    maker.groups.add(Group.objects.get(name="risk_officer"))
    merchant = f.draft_merchant(manager=maker)
    merchant_submit(merchant=merchant, actor=maker)
    # when they try to approve or reject it
    # then both are refused
    with pytest.raises(PermissionRefused):
        merchant_approve(merchant=merchant, actor=maker)
    with pytest.raises(PermissionRefused):
        merchant_reject(merchant=merchant, actor=maker, reason="no")
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUBMITTED


@pytest.mark.parametrize("role", ["rm", "ops", "auditor"])
def test_only_risk_officers_approve(role):
    merchant = f.draft_merchant()
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    with pytest.raises(PermissionRefused):
        merchant_approve(merchant=merchant, actor=getattr(f, role)())


def test_reject_needs_a_reason_and_the_rm_can_resubmit():
    merchant = f.draft_merchant()
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    officer = f.risk()
    # when risk rejects without a reason, then it is refused with a clear error
    with pytest.raises(ValidationFailed) as err:
        merchant_reject(merchant=merchant, actor=officer, reason="  ")
    assert "reason" in err.value.details
    # when with a reason, then it is rejected and the reason is kept
    merchant_reject(merchant=merchant, actor=officer, reason="Licence expired")
    merchant.refresh_from_db()
    assert (merchant.status, merchant.rejection_reason) == (Merchant.Status.REJECTED, "Licence expired")
    # and the RM may fix and submit again
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUBMITTED and merchant.rejection_reason == ""


def test_states_refuse_steps_out_of_order():
    merchant = f.draft_merchant()
    with pytest.raises(InvalidState):
        merchant_approve(merchant=merchant, actor=f.risk())
    with pytest.raises(InvalidState):
        merchant_activate(merchant=merchant, actor=f.ops())
    with pytest.raises(InvalidState):
        merchant_freeze(merchant=merchant, actor=f.risk(), reason="x")


def test_only_operations_activate():
    merchant = f.draft_merchant()
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    merchant_approve(merchant=merchant, actor=f.risk())
    for who in (f.rm(), f.risk(), f.auditor()):
        with pytest.raises(PermissionRefused):
            merchant_activate(merchant=merchant, actor=who)


def test_freeze_and_unfreeze_need_a_reason_and_a_risk_officer():
    merchant = f.active_merchant()
    officer = f.risk()
    with pytest.raises(ValidationFailed):
        merchant_freeze(merchant=merchant, actor=officer, reason="")
    with pytest.raises(PermissionRefused):
        merchant_freeze(merchant=merchant, actor=f.ops(), reason="court order")
    merchant_freeze(merchant=merchant, actor=officer, reason="Court order 2026-88")
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.FROZEN and merchant.freeze_reason == "Court order 2026-88"
    assert merchant.frozen_at is not None
    with pytest.raises(ValidationFailed):
        merchant_unfreeze(merchant=merchant, actor=officer, reason="")
    merchant_unfreeze(merchant=merchant, actor=officer, reason="Order lifted")
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.ACTIVE and merchant.freeze_reason == ""


def test_closing_runs_the_close_checks():
    from merchants import hooks

    merchant = f.active_merchant()
    officer = f.risk()
    merchant_start_closing(merchant=merchant, actor=officer, reason="Platform shut down")
    hooks.close_checks.append(lambda m: ["balance is not zero"])
    try:
        with pytest.raises(InvalidState) as err:
            merchant_close(merchant=merchant, actor=officer)
        assert "balance is not zero" in str(err.value.message)
    finally:
        hooks.close_checks.pop()
    merchant_close(merchant=merchant, actor=officer)
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.CLOSED


def test_credit_code_with_a_wrong_check_character_is_refused():
    manager = f.rm()
    good = f.uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as err:
        f.draft_merchant(manager=manager, uscc=bad)
    assert "uscc" in err.value.details
    assert "check character" in err.value.details["uscc"][0]


def test_legal_identity_is_locked_after_submission():
    merchant = f.draft_merchant()
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    with pytest.raises(InvalidState):
        merchant_update(merchant=merchant, actor=merchant.relationship_manager, legal_name="Other Co")
    merchant_update(merchant=merchant, actor=merchant.relationship_manager, contact_name="Zhao Liu")
    merchant.refresh_from_db()
    assert merchant.contact_name == "Zhao Liu"
    event = AuditEvent.objects.filter(object_id=str(merchant.pk), action="update").get()
    assert event.data["changes"]["contact_name"] == ["Wang Wu", "Zhao Liu"]
