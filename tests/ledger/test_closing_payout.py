"""Closing a member whose money is still held: the whole balance is paid out to their verified card
with a second person's approval, and once the bank has paid it the member is closed."""
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import InvalidState, PermissionRefused, ValidationFailed
from core.models import AuditEvent
from ledger.models import Withdrawal
from ledger.selectors import member_balance, prove_merchant
from ledger.services import withdrawals as w
from merchants.models import Member
from merchants.services.members import bank_card_add, member_close
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving():
    merchant = f.active_merchant()
    member = f.member(merchant, name="Li Lei")
    bank_card_add(member=member, actor=None, account_number="6222020200112233445",
                                    account_name="Li Lei", bank_name="ICBC")
    f.funded(member, "321.09")
    return merchant, member


def test_the_balance_is_paid_out_with_approval_and_the_member_closed_when_paid(leaving):
    merchant, member = leaving
    officer, approver, ops = f.risk(), f.risk(), f.ops()
    # given the member can't be closed as they are
    with pytest.raises(InvalidState):
        member_close(member=member, actor=officer, reason="Left the platform")
    # when a risk officer opens a closing payout
    payout = w.member_closing_payout(member=member, actor=officer, reason="Left the platform")
    # then the whole balance waits frozen for a second person's approval, whatever the threshold
    assert (payout.amount, payout.status, payout.closes_member) == (Decimal("321.09"), "pending_approval", True)
    assert member_balance(member) == {"available": Decimal("0.00"), "frozen": Decimal("321.09")}
    with pytest.raises(PermissionRefused):
        w.withdrawal_approve(withdrawal=payout, actor=officer)  # not the one who asked for it
    w.withdrawal_approve(withdrawal=payout, actor=approver)
    w.withdrawal_process(withdrawal=payout, actor=ops)
    assert Member.objects.get(pk=member.pk).status == Member.Status.ACTIVE  # not before the money left
    # when the bank has paid it
    w.withdrawal_mark_paid(withdrawal=payout, actor=ops, bank_reference="CNAPS-77")
    # then the member is closed by the payout, on their record
    member.refresh_from_db()
    assert member.status == Member.Status.CLOSED
    close = AuditEvent.objects.get(object_id=str(member.pk), action="close")
    assert close.actor_label == "closing-payout" and payout.order_no in close.reason
    assert AuditEvent.objects.filter(object_id=str(member.pk), action="closing_payout").exists()
    assert prove_merchant(merchant).ok


def test_a_failed_closing_payout_returns_the_money_and_leaves_the_member_open(leaving):
    _merchant, member = leaving
    payout = w.member_closing_payout(member=member, actor=f.risk(), reason="Leaving")
    w.withdrawal_approve(withdrawal=payout, actor=f.risk())
    ops = f.ops()
    w.withdrawal_process(withdrawal=payout, actor=ops)
    w.withdrawal_mark_failed(withdrawal=payout, actor=ops, reason="Account closed at the other bank")
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE and member_balance(member)["available"] == Decimal("321.09")


def test_a_closing_payout_is_refused_when_it_can_t_be_one(leaving):
    merchant, member = leaving
    with pytest.raises(PermissionRefused):
        w.member_closing_payout(member=member, actor=f.ops(), reason="x")  # closing members is risk's
    with pytest.raises(ValidationFailed):
        w.member_closing_payout(member=member, actor=f.risk(), reason=" ")
    with pytest.raises(ValidationFailed):
        w.member_closing_payout(member=member, actor=f.risk(), reason="x", card_ending="9999")
    empty = f.member(merchant)
    with pytest.raises(InvalidState):
        w.member_closing_payout(member=empty, actor=f.risk(), reason="x")  # nothing to pay out
    assert not Withdrawal.objects.exists()


def test_risk_opens_a_closing_payout_from_the_admin(client, leaving):
    merchant, member = leaving
    officer = f.risk()
    client.force_login(officer)
    url = reverse("admin:ledger_withdrawal_add")
    assert client.get(url).status_code == 200
    response = client.post(url, {"merchant": merchant.pk, "user_id": member.user_id, "card_ending": "3445",
                                 "reason": "Left the platform"})
    payout = Withdrawal.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:ledger_withdrawal_change", args=[payout.pk])
    assert payout.closes_member and payout.status == "pending_approval"
