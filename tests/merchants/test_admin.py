"""Merchant screens: portfolio filter, buttons only for allowed transitions, refusals."""
import pytest
from django.urls import reverse

from core.models import AuditEvent
from merchants.models import Merchant
from tests import factories as f

pytestmark = pytest.mark.django_db


def _change(m):
    return reverse("admin:merchants_merchant_change", args=[m.pk])


def _transition(m, name):
    return reverse("admin:merchants_merchant_transition", args=[m.pk, name])


def test_an_rm_sees_only_their_portfolio(client):
    # given two RMs with a merchant each
    mine, other = f.draft_merchant(), f.draft_merchant()
    client.force_login(mine.relationship_manager)
    # when the RM opens the list
    page = client.get(reverse("admin:merchants_merchant_changelist"))
    # then only their merchant is there, and the other's page answers "not found"
    assert page.status_code == 200
    assert mine.legal_name in page.content.decode() and other.legal_name not in page.content.decode()
    response = client.get(_change(other))
    assert response.status_code in (302, 404)
    assert client.post(_transition(other, "submit")).status_code == 302
    other.refresh_from_db()
    assert other.status == Merchant.Status.DRAFT


@pytest.mark.parametrize("role", ["risk", "ops", "auditor"])
def test_bank_wide_roles_see_every_merchant(client, role):
    a, b = f.draft_merchant(), f.draft_merchant()
    client.force_login(getattr(f, role)())
    page = client.get(reverse("admin:merchants_merchant_changelist")).content.decode()
    assert a.legal_name in page and b.legal_name in page


def test_draft_to_active_through_the_buttons_as_different_users(client):
    # given a draft prepared by an RM
    merchant = f.draft_merchant()
    client.force_login(merchant.relationship_manager)
    page = client.get(_change(merchant)).content.decode()
    assert 'data-transition="submit"' in page and 'data-transition="approve"' not in page
    # when the RM submits
    assert client.post(_transition(merchant, "submit")).status_code == 302
    # then a risk officer sees approve and reject, and approves
    officer = f.risk()
    client.force_login(officer)
    page = client.get(_change(merchant)).content.decode()
    assert 'data-transition="approve"' in page and 'data-transition="reject"' in page
    client.post(_transition(merchant, "approve"))
    # and operations activate and see the secret once
    client.force_login(f.ops())
    response = client.post(_transition(merchant, "activate"))
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.ACTIVE
    body = response.content.decode()
    from merchants.services.credentials import valid_secrets

    assert valid_secrets(merchant)[0] in body and "no-store" in response["Cache-Control"]
    # and the timeline shows every step
    page = client.get(_change(merchant)).content.decode()
    assert 'id="audit-timeline"' in page
    assert list(AuditEvent.objects.filter(object_id=str(merchant.pk), content_type__model="merchant")
                .values_list("action", flat=True).order_by("id")) == ["create", "submit", "approve", "activate"]


def test_a_posted_transition_without_permission_is_refused(client):
    merchant = f.draft_merchant()
    client.force_login(merchant.relationship_manager)
    client.post(_transition(merchant, "submit"))
    # when the RM posts "approve" by hand
    response = client.post(_transition(merchant, "approve"), follow=True)
    # then it is refused with a plain message and nothing changes
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUBMITTED
    assert "Refused" in response.content.decode()


def test_reject_asks_for_a_reason(client):
    merchant = f.draft_merchant()
    client.force_login(merchant.relationship_manager)
    client.post(_transition(merchant, "submit"))
    client.force_login(f.risk())
    form = client.get(_transition(merchant, "reject"))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    empty = client.post(_transition(merchant, "reject"), {"reason": ""})
    assert empty.status_code == 200  # the form again, with the error
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUBMITTED
    client.post(_transition(merchant, "reject"), {"reason": "Missing licence"})
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.REJECTED and merchant.rejection_reason == "Missing licence"


def test_the_rm_creates_a_merchant_in_the_admin_and_a_bad_credit_code_is_explained(client):
    manager = f.rm()
    client.force_login(manager)
    data = dict(code="new-shop", legal_name="New Shop Co", uscc=f.uscc()[:17] + "0", business_type="b2c_mall",
                contact_name="A", contact_phone="1", relationship_manager=manager.pk, risk_level="low",
                withdrawal_approval_threshold="50000.00", risk_reserve_required="0.00")
    response = client.post(reverse("admin:merchants_merchant_add"), data)
    if Merchant.objects.filter(code="new-shop").exists():  # the random code happened to end in a valid "0"
        return
    assert response.status_code == 200 and "check character" in response.content.decode()
    data["uscc"] = f.uscc()
    response = client.post(reverse("admin:merchants_merchant_add"), data)
    assert response.status_code == 302
    merchant = Merchant.objects.get(code="new-shop")
    assert merchant.status == Merchant.Status.DRAFT
    assert AuditEvent.objects.filter(object_id=str(merchant.pk), action="create").exists()


def test_an_auditor_can_open_everything_and_change_nothing(client):
    merchant = f.active_merchant()
    client.force_login(f.auditor())
    assert client.get(_change(merchant)).status_code == 200
    response = client.post(_change(merchant), {"contact_name": "x"})
    assert response.status_code == 403
    client.post(_transition(merchant, "freeze"), {"reason": "x"})
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.ACTIVE
    assert client.get(reverse("admin:core_auditevent_changelist")).status_code == 200


def test_rotation_in_the_admin_shows_the_new_secret_once(client):
    merchant, old = f.active_merchant(with_secret=True)
    client.force_login(f.ops())
    response = client.post(reverse("admin:merchants_merchant_rotate_secret", args=[merchant.pk]))
    from merchants.services.credentials import valid_secrets

    new = valid_secrets(merchant)[0]
    assert new != old and new in response.content.decode()
