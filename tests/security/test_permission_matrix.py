"""The portal against THE permission matrix (tests/security/permission_matrix.py)."""
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from ledger.services import deposits, withdrawals
from merchants.models import Member, Merchant
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_submit,
)
from merchants.services.members import bank_card_add
from tests import factories as f

from .permission_matrix import ACTIONS, PAGES

pytestmark = pytest.mark.django_db
ROLES = ["rm", "risk", "ops", "auditor", "none"]


def _user(role):
    if role == "none":
        return f.UserFactory()
    return getattr(f, role)()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model", "page"), sorted(PAGES))
def test_admin_pages(client, model, page, role):
    # given a staff user of the role
    client.force_login(_user(role))
    app_label, model_name = model.split(".")
    assert apps.get_model(app_label, model_name)  # the table names real models
    # when they open the page
    response = client.get(reverse(f"admin:{app_label}_{model_name}_{page}"))
    # then it opens exactly for the roles the matrix allows
    allowed = role in PAGES[(model, page)]
    assert (response.status_code == 200) is allowed, f"{model} {page} as {role}: {response.status_code}"


def _merchant_in(status, manager):
    merchant = f.draft_merchant(manager=manager)
    if status == "draft":
        return merchant
    merchant_submit(merchant=merchant, actor=manager)
    if status == "submitted":
        return merchant
    merchant_approve(merchant=merchant, actor=f.risk())
    if status == "approved":
        return merchant
    merchant, _ = merchant_activate(merchant=merchant, actor=f.ops())
    return merchant


def _withdrawal(status, manager):
    merchant = _merchant_in("active", manager)
    member = f.member(merchant, name="Zhang San")
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount="90000.00", order_no="D1",
                                  method="offline_transfer")
    deposits.deposit_credit(deposit=d, actor=None, amount="90000.00", proof_kind="statement_line", proof_reference="R1")
    card = bank_card_add(member=member, actor=None, account_number="6222020200112233445",
                                           account_name="Zhang San", bank_name="ICBC")
    amount = Decimal("60000.00") if status == "pending_approval" else Decimal("100.00")
    w, _ = withdrawals.withdrawal_request(merchant=merchant, actor=None, member=member, amount=amount,
                                         bank_card=card, order_no="W1")
    assert w.status == status
    return w


SETUP = {
    ("merchant", "submit"): lambda rm: _merchant_in("draft", rm),
    ("merchant", "approve"): lambda rm: _merchant_in("submitted", rm),
    ("merchant", "reject"): lambda rm: _merchant_in("submitted", rm),
    ("merchant", "activate"): lambda rm: _merchant_in("approved", rm),
    ("merchant", "freeze"): lambda rm: _merchant_in("active", rm),
    ("member", "freeze"): lambda rm: f.member(_merchant_in("active", rm)),
    ("withdrawal", "approve"): lambda rm: _withdrawal("pending_approval", rm),
    ("withdrawal", "reject"): lambda rm: _withdrawal("pending_approval", rm),
    ("withdrawal", "process"): lambda rm: _withdrawal("approved", rm),
}
APP = {"merchant": "merchants", "member": "merchants", "withdrawal": "ledger"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model", "action"), sorted(ACTIONS))
def test_workflow_actions(client, model, action, role):
    # given an object in the state the action starts from, in the acting RM's own portfolio
    user = _user(role)
    manager = user if role == "rm" else f.rm()
    obj = SETUP[(model, action)](manager)
    obj.refresh_from_db()
    before = obj.status
    # when the user takes the action through the admin
    client.force_login(user)
    url = reverse(f"admin:{APP[model]}_{model}_transition", args=[obj.pk, action])
    client.post(url, {"reason": "Checked by the permission matrix"})
    # then the state changed exactly for the roles the matrix allows
    obj.refresh_from_db()
    assert (obj.status != before) is (role in ACTIONS[(model, action)]), f"{model}.{action} as {role}"


def test_an_rm_reaching_another_rms_merchant_by_url_is_refused(client):
    mine, theirs = f.rm(), f.rm()
    merchant = _merchant_in("draft", theirs)
    client.force_login(mine)
    assert client.get(reverse("admin:merchants_merchant_change", args=[merchant.pk])).status_code != 200
    client.post(reverse("admin:merchants_merchant_transition", args=[merchant.pk, "submit"]))
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.DRAFT
    member = f.member(_merchant_in("active", theirs))
    assert client.get(reverse("admin:merchants_member_change", args=[member.pk])).status_code != 200
    assert Member.objects.filter(pk=member.pk, status="active").exists()
