"""Holds (an amount frozen by risk or a court) and account freezes (in only, nothing out)."""
from decimal import Decimal

import pytest

from core.errors import (
    AccountFrozen,
    InsufficientFunds,
    InvalidState,
    PermissionRefused,
    ValidationFailed,
)
from core.models import AuditEvent
from ledger.models import EntryType, Hold
from ledger.selectors import member_balance, prove_merchant
from ledger.services.accounts import account_freeze, account_unfreeze, member_accounts
from ledger.services.holds import hold_create, hold_release
from tests import factories as f

pytestmark = pytest.mark.django_db


def funded(amount="1000.00"):
    merchant = f.active_merchant()
    member = f.member(merchant)
    f.funded(member, amount)
    return merchant, member


def bal(member):
    b = member_balance(member)
    return b["available"], b["frozen"]


def test_a_hold_freezes_an_amount_and_its_release_gives_it_back():
    # given a member with 1000.00
    merchant, member = funded("1000.00")
    officer = f.risk()
    # when risk holds 300.00 on a court order
    hold = hold_create(member=member, actor=officer, amount="300.00", reason="Court freeze",
                       legal_reference="(2025)鲁0102执123号")
    # then 300.00 moves from available to frozen, booked and audited
    assert hold.status == Hold.Status.ACTIVE and hold.entry.entry_type == EntryType.HOLD
    assert hold.created_by == officer and hold.merchant_id == merchant.pk
    assert bal(member) == (Decimal("700.00"), Decimal("300.00"))
    assert prove_merchant(merchant).ok
    assert AuditEvent.objects.filter(content_type__model="hold", object_id=str(hold.pk), action="create").exists()
    # when it is released with a reason
    with pytest.raises(ValidationFailed):
        hold_release(hold=hold, actor=officer, reason="")
    released = hold_release(hold=hold, actor=officer, reason="Court lifted the freeze")
    # then the money is available again
    assert released.status == Hold.Status.RELEASED and released.release_entry.entry_type == EntryType.HOLD_RELEASE
    assert released.released_at is not None
    assert bal(member) == (Decimal("1000.00"), Decimal("0.00"))
    assert prove_merchant(merchant).ok
    # and it can't be released twice
    with pytest.raises(InvalidState):
        hold_release(hold=released, actor=officer, reason="again")
    assert bal(member) == (Decimal("1000.00"), Decimal("0.00"))


def test_a_hold_needs_a_reason_and_the_money():
    merchant, member = funded("100.00")
    officer = f.risk()
    with pytest.raises(ValidationFailed):
        hold_create(member=member, actor=officer, amount="10.00", reason=" ")
    with pytest.raises(InsufficientFunds):
        hold_create(member=member, actor=officer, amount="100.01", reason="Too much")
    assert not Hold.objects.exists() and bal(member) == (Decimal("100.00"), Decimal("0.00"))
    assert prove_merchant(merchant).ok


@pytest.mark.parametrize("role", ["rm", "ops", "auditor"])
def test_only_risk_places_and_releases_holds(role):
    merchant, member = funded()
    user = merchant.relationship_manager if role == "rm" else getattr(f, role)()
    with pytest.raises(PermissionRefused):
        hold_create(member=member, actor=user, amount="10.00", reason="x")
    hold = hold_create(member=member, actor=f.risk(), amount="10.00", reason="Risk review")
    with pytest.raises(PermissionRefused):
        hold_release(hold=hold, actor=user, reason="x")
    with pytest.raises(PermissionRefused):
        hold_create(member=member, actor=None, amount="10.00", reason="a platform may not")
    hold.refresh_from_db()
    assert hold.status == Hold.Status.ACTIVE and bal(member) == (Decimal("990.00"), Decimal("10.00"))


def test_held_money_cannot_be_spent_or_withdrawn():
    from ledger.services.withdrawals import withdrawal_request
    from merchants.services.members import bank_card_add

    merchant, member = funded("100.00")
    hold_create(member=member, actor=f.risk(), amount="80.00", reason="Chargeback risk")
    card = bank_card_add(member=member, actor=None, account_number="6222020200001234567", account_name=member.name,
                         bank_name="ICBC")
    with pytest.raises(InsufficientFunds):
        withdrawal_request(merchant=merchant, actor=None, member=member, amount="20.01", bank_card=card,
                           order_no="W-1")
    _withdrawal, _ = withdrawal_request(merchant=merchant, actor=None, member=member, amount="20.00", bank_card=card,
                                       order_no="W-2")
    assert bal(member) == (Decimal("0.00"), Decimal("100.00"))
    assert prove_merchant(merchant).ok


# --- account freezes ---------------------------------------------------------------------------

def test_a_frozen_account_receives_but_lets_nothing_out():
    merchant, member = funded("100.00")
    available, _frozen = member_accounts(member)
    officer = f.risk()
    # when risk freezes the member's available account
    frozen = account_freeze(account=available, actor=officer, reason="Suspicious inflows")
    assert frozen.frozen and frozen.freeze_reason == "Suspicious inflows"
    # then money still comes in
    f.funded(member, "50.00")
    assert bal(member) == (Decimal("150.00"), Decimal("0.00"))
    # nothing goes out
    from django.db import transaction

    from ledger.posting import Leg, post_entry

    with pytest.raises(AccountFrozen), transaction.atomic():
        post_entry(merchant=merchant, entry_type=EntryType.ADJUSTMENT, idempotency_ref="try-out",
                   legs=[Leg(available, Decimal("-1.00")), Leg(_frozen, Decimal("1.00"))], actor=None)
    # but a hold may still be placed (the money stays with its owner)
    hold = hold_create(member=member, actor=officer, amount="40.00", reason="Court order")
    assert bal(member) == (Decimal("110.00"), Decimal("40.00"))
    hold_release(hold=hold, actor=officer, reason="Lifted")
    # when it is unfrozen, money may leave again
    account_unfreeze(account=available, actor=officer, reason="Cleared")
    hold_create(member=member, actor=officer, amount="10.00", reason="Later review")
    assert bal(member) == (Decimal("140.00"), Decimal("10.00"))
    assert prove_merchant(merchant).ok
    assert list(AuditEvent.objects.filter(content_type__model="account", object_id=str(available.pk))
                .values_list("action", flat=True).order_by("id")) == ["freeze", "unfreeze"]


def test_account_freezes_need_the_permission_a_reason_and_the_right_state():
    merchant, member = funded()
    available, _frozen = member_accounts(member)
    for user in (f.ops(), f.auditor(), merchant.relationship_manager):
        with pytest.raises(PermissionRefused):
            account_freeze(account=available, actor=user, reason="x")
    officer = f.risk()
    with pytest.raises(ValidationFailed):
        account_freeze(account=available, actor=officer, reason="")
    with pytest.raises(InvalidState):
        account_unfreeze(account=available, actor=officer, reason="not frozen")
    account_freeze(account=available, actor=officer, reason="Review")
    with pytest.raises(InvalidState):
        account_freeze(account=available, actor=officer, reason="twice")
    available.refresh_from_db()
    assert available.frozen
