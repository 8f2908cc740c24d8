"""Ledger screens: every page opens for operations, workflow buttons by the right users only,
maker-checker through the admin, RMs see their own portfolio, list pages don't grow queries
with rows, nothing is deleted, channel secrets are write-only."""
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from core.models import AuditEvent
from ledger.models import (
    Deposit,
    Hold,
    JournalEntry,
    Payment,
    PaymentChannel,
    PaymentSplit,
    Refund,
    Withdrawal,
)
from ledger.selectors import member_balance, prove_merchant
from ledger.services.accounts import member_accounts
from ledger.services.channels import payment_channel_create
from ledger.services.holds import hold_create
from ledger.services.withdrawals import withdrawal_request
from merchants.models import Merchant
from merchants.services.members import bank_card_add
from tests import factories as f

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def url(model, view, *args):
    return reverse(f"admin:ledger_{model}_{view}", args=args)


def seller_with(amount="100000.00", *, merchant=None, threshold="500.00"):
    merchant = merchant or f.active_merchant()
    Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=Decimal(threshold))
    merchant.refresh_from_db()
    member = f.member(merchant)
    f.funded(member, amount)
    card = bank_card_add(member=member, actor=None, account_number="6222020200001234567", account_name=member.name,
                         bank_name="ICBC")
    return merchant, member, card


def withdraw(merchant, member, card, amount="800.00", actor=None):
    withdrawal, _ = withdrawal_request(merchant=merchant, actor=actor, member=member, amount=amount, bank_card=card,
                                      order_no=f"W-{next(_n)}")
    return withdrawal


def some_of_everything():
    """One row of every ledger screen's model."""
    merchant, member, card = seller_with()
    withdrawal = withdraw(merchant, member, card)
    hold = hold_create(member=member, actor=f.risk(), amount="10.00", reason="Review")
    deposit = Deposit.objects.filter(member=member).first()
    payee = f.member(merchant)
    # Payments are booked by the payments service; a plain row is enough for the screens.
    payment = Payment.objects.create(merchant=merchant, order_no="P-1", payer=member, mode=Payment.Mode.DIRECT,
                                     amount=Decimal("50.00"), status=Payment.Status.SETTLED, fingerprint="x")
    PaymentSplit.objects.create(merchant=merchant, payment=payment, payee=payee, amount=Decimal("50.00"))
    refund = Refund.objects.create(merchant=merchant, payment=payment, amount=Decimal("5.00"), reason="Damaged",
                                   idempotency_ref="r-1", entry=deposit.entry)
    channel = payment_channel_create(actor=f.ops(), code="unionpay", name="UnionPay", app_id="UP-1", secret="s3cr3t")
    from datetime import date

    from ledger.services.calendar import business_day_set

    day = business_day_set(actor=None, day=date(2031, 10, 1), is_working_day=False, note="National Day")
    account = member_accounts(member)[0]
    return {
        "account": account, "journalentry": deposit.entry, "deposit": deposit, "payment": payment,
        "refund": refund, "withdrawal": withdrawal, "hold": hold, "businessday": day, "paymentchannel": channel,
    }


def test_every_ledger_list_and_page_opens_for_operations(client):
    rows = some_of_everything()
    client.force_login(f.ops())
    for model, obj in rows.items():
        listing = client.get(url(model, "changelist"))
        assert listing.status_code == 200, model
        page = client.get(url(model, "change", obj.pk))
        assert page.status_code == 200, model
    for model in ("businessday", "paymentchannel"):
        assert client.get(url(model, "add")).status_code == 200, model


@pytest.mark.parametrize("role", ["risk", "auditor"])
def test_every_ledger_page_opens_for_the_other_bank_wide_roles(client, role):
    rows = some_of_everything()
    client.force_login(getattr(f, role)())
    for model, obj in rows.items():
        assert client.get(url(model, "changelist")).status_code == 200, model
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model


def test_nothing_is_deleted_or_edited_through_the_forms(client):
    rows = some_of_everything()
    client.force_login(f.ops())
    for model, obj in rows.items():
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code in (403, 302), model
        assert type(obj).objects.filter(pk=obj.pk).exists(), model
    for model in ("account", "journalentry", "deposit", "payment", "refund", "withdrawal"):
        assert client.get(url(model, "add")).status_code == 403, model
    # a view-only page has no save button
    page = client.get(url("withdrawal", "change", rows["withdrawal"].pk)).content.decode()
    assert 'name="_save"' not in page


def test_an_rm_sees_only_their_own_merchants_money(client):
    mine, my_member, my_card = seller_with()
    other, other_member, other_card = seller_with()
    my_w, other_w = withdraw(mine, my_member, my_card), withdraw(other, other_member, other_card)
    client.force_login(mine.relationship_manager)
    listing = client.get(url("withdrawal", "changelist")).content.decode()
    assert my_w.order_no in listing and other_w.order_no not in listing
    assert client.get(url("withdrawal", "change", other_w.pk)).status_code in (302, 404)
    entries = client.get(url("journalentry", "changelist")).content.decode()
    assert my_w.order_no in entries and other_w.order_no not in entries
    accounts = client.get(url("account", "changelist")).content.decode()
    assert my_member.user_id in accounts and other_member.user_id not in accounts
    # and the merchant filter offers only their merchants
    assert mine.code in accounts and other.code not in accounts
    # a posted approval on another portfolio's withdrawal changes nothing
    client.post(url("withdrawal", "transition", other_w.pk, "approve"))
    other_w.refresh_from_db()
    assert other_w.status == Withdrawal.Status.PENDING_APPROVAL


# --- the withdrawal queue -----------------------------------------------------------------------

def test_the_queue_shows_pending_approvals_first(client):
    merchant, member, card = seller_with()
    small = withdraw(merchant, member, card, "100.00")
    big = withdraw(merchant, member, card, "900.00")
    newest_small = withdraw(merchant, member, card, "50.00")
    client.force_login(f.ops())
    body = client.get(url("withdrawal", "changelist")).content.decode()
    assert body.index(big.order_no) < body.index(newest_small.order_no) < body.index(small.order_no)
    filtered = client.get(url("withdrawal", "changelist") + "?status__exact=pending_approval").content.decode()
    assert big.order_no in filtered and small.order_no not in filtered


def test_a_second_user_approves_through_the_button_and_the_requester_is_refused(client):
    # given a withdrawal keyed in by an operations officer
    maker = f.ops()
    merchant, member, card = seller_with()
    withdrawal = withdraw(merchant, member, card, "900.00", actor=maker)
    # the requester sees no approve button, and a hand-made post is refused
    client.force_login(maker)
    page = client.get(url("withdrawal", "change", withdrawal.pk)).content.decode()
    assert 'data-transition="approve"' not in page and 'data-transition="reject"' not in page
    response = client.post(url("withdrawal", "transition", withdrawal.pk, "approve"), follow=True)
    assert "Refused" in response.content.decode()
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PENDING_APPROVAL
    # a second officer sees both buttons and approves
    checker = f.ops()
    client.force_login(checker)
    page = client.get(url("withdrawal", "change", withdrawal.pk)).content.decode()
    assert 'data-transition="approve"' in page and 'data-transition="reject"' in page
    assert client.post(url("withdrawal", "transition", withdrawal.pk, "approve")).status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED and withdrawal.decided_by == checker
    # then sends it to the bank and records it paid with the bank's reference
    client.post(url("withdrawal", "transition", withdrawal.pk, "process"))
    form = client.get(url("withdrawal", "transition", withdrawal.pk, "mark_paid"))
    assert form.status_code == 200 and 'name="bank_reference"' in form.content.decode()
    assert client.post(url("withdrawal", "transition", withdrawal.pk, "mark_paid"), {"bank_reference": ""}).status_code == 200
    client.post(url("withdrawal", "transition", withdrawal.pk, "mark_paid"), {"bank_reference": "CNAPS-77"})
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID and withdrawal.bank_reference == "CNAPS-77"
    assert prove_merchant(merchant).ok
    page = client.get(url("withdrawal", "change", withdrawal.pk)).content.decode()
    assert 'id="audit-timeline"' in page and "CNAPS-77" in page


@pytest.mark.parametrize("role", ["rm", "auditor"])
def test_roles_without_the_permission_get_no_buttons_and_a_refusal(client, role):
    merchant, member, card = seller_with()
    withdrawal = withdraw(merchant, member, card, "900.00")
    client.force_login(merchant.relationship_manager if role == "rm" else f.auditor())
    page = client.get(url("withdrawal", "change", withdrawal.pk)).content.decode()
    assert "data-transition=" not in page
    response = client.post(url("withdrawal", "transition", withdrawal.pk, "approve"), follow=True)
    assert "Refused" in response.content.decode()
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PENDING_APPROVAL


def test_risk_approves_but_only_operations_send_to_the_bank(client):
    merchant, member, card = seller_with()
    withdrawal = withdraw(merchant, member, card, "900.00")
    client.force_login(f.risk())
    client.post(url("withdrawal", "transition", withdrawal.pk, "approve"))
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED
    page = client.get(url("withdrawal", "change", withdrawal.pk)).content.decode()
    assert 'data-transition="process"' not in page
    client.post(url("withdrawal", "transition", withdrawal.pk, "process"))
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED


def test_reject_and_fail_ask_for_a_reason_and_return_the_money(client):
    merchant, member, card = seller_with("1000.00")
    rejected, failed = withdraw(merchant, member, card, "900.00"), withdraw(merchant, member, card, "100.00")
    client.force_login(f.ops())
    assert client.post(url("withdrawal", "transition", rejected.pk, "reject"), {"reason": ""}).status_code == 200
    client.post(url("withdrawal", "transition", rejected.pk, "reject"), {"reason": "Name mismatch"})
    client.post(url("withdrawal", "transition", failed.pk, "process"))
    client.post(url("withdrawal", "transition", failed.pk, "fail"), {"reason": "Account closed"})
    rejected.refresh_from_db()
    failed.refresh_from_db()
    assert (rejected.status, failed.status) == (Withdrawal.Status.REJECTED, Withdrawal.Status.FAILED)
    assert member_balance(member) == {"available": Decimal("1000.00"), "frozen": Decimal("0.00")}
    assert prove_merchant(merchant).ok


def _count_queries(client, django_assert_max_num_queries, path, bound):
    with django_assert_max_num_queries(bound):
        response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["withdrawal", "journalentry", "account", "hold"])
def test_list_pages_do_not_grow_queries_with_rows(client, django_assert_max_num_queries, model):
    # given one row, then twenty, of each kind, the list page takes no more queries
    merchant, member, card = seller_with("100000.00")
    withdraw(merchant, member, card)
    hold_create(member=member, actor=f.risk(), amount="1.00", reason="r")
    client.force_login(f.ops())
    path = url(model, "changelist")
    bound = 12  # measured: 11 (session, user, permissions, filter choices, counts, the page)
    _count_queries(client, django_assert_max_num_queries, path, bound)
    for i in range(19):
        other = f.member(merchant)
        f.funded(other, "1000.00")
        withdraw(merchant, member, card, "600.00")
        hold_create(member=member, actor=f.risk(), amount="1.00", reason="r")
    assert Withdrawal.objects.count() >= 20 and JournalEntry.objects.count() >= 20
    _count_queries(client, django_assert_max_num_queries, path, bound)


# --- accounts, entries, holds, channels ------------------------------------------------------------

def test_risk_freezes_and_unfreezes_an_account_with_a_reason(client):
    _merchant, member, _card = seller_with("100.00")
    available = member_accounts(member)[0]
    # operations may look but get no freeze button
    client.force_login(f.ops())
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="freeze"' not in page and "100.00" in page
    client.post(url("account", "do", available.pk, "freeze"), {"reason": "x"})
    available.refresh_from_db()
    assert not available.frozen
    # risk freezes it, the reason asked first
    client.force_login(f.risk())
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="freeze"' in page
    assert client.post(url("account", "do", available.pk, "freeze"), {"reason": ""}).status_code == 200
    client.post(url("account", "do", available.pk, "freeze"), {"reason": "Suspicious"})
    available.refresh_from_db()
    assert available.frozen and available.freeze_reason == "Suspicious"
    page = client.get(url("account", "change", available.pk)).content.decode()
    assert 'data-transition="unfreeze"' in page and 'data-transition="freeze"' not in page
    frozen_list = client.get(url("account", "changelist") + "?frozen__exact=1").content.decode()
    assert member.user_id in frozen_list
    client.post(url("account", "do", available.pk, "unfreeze"), {"reason": "Cleared"})
    available.refresh_from_db()
    assert not available.frozen


def test_the_account_list_shows_hot_balances_with_pending_deltas(client):
    merchant, _member, _card = seller_with("1234.50")
    client.force_login(f.ops())
    body = client.get(url("account", "changelist") + f"?merchant={merchant.pk}&kind__exact=supervision").content.decode()
    assert "1,234.50" in body


def test_operations_reverse_an_entry_through_the_button(client):
    merchant, member, _card = seller_with("100.00")
    entry = Deposit.objects.get(member=member).entry
    client.force_login(f.risk())
    assert 'data-transition="reverse"' not in client.get(url("journalentry", "change", entry.pk)).content.decode()
    client.force_login(f.ops())
    page = client.get(url("journalentry", "change", entry.pk)).content.decode()
    assert 'data-transition="reverse"' in page and "100.00" in page
    client.post(url("journalentry", "do", entry.pk, "reverse"), {"reason": "Wrong member"})
    reversal = JournalEntry.objects.get(reverses=entry)
    assert member_balance(member)["available"] == 0 and prove_merchant(merchant).ok
    # neither the original nor the reversal offers the button any more; a hand-made post is refused
    assert 'data-transition="reverse"' not in client.get(url("journalentry", "change", entry.pk)).content.decode()
    response = client.post(url("journalentry", "do", reversal.pk, "reverse"), {"reason": "undo"}, follow=True)
    assert "Refused" in response.content.decode()
    assert JournalEntry.objects.filter(reverses=reversal).count() == 0


def test_risk_places_a_hold_through_the_add_form_and_releases_it(client):
    merchant, member, _card = seller_with("1000.00")
    officer = f.risk()
    client.force_login(officer)
    assert client.get(url("hold", "add")).status_code == 200
    # a wrong user id and too much money are explained on the form
    bad = client.post(url("hold", "add"), {"merchant": merchant.pk, "user_id": "nobody", "amount": "10.00",
                                           "reason": "r"})
    assert bad.status_code == 200 and "No member" in bad.content.decode()
    too_much = client.post(url("hold", "add"), {"merchant": merchant.pk, "user_id": member.user_id,
                                                "amount": "5000.00", "reason": "r"})
    assert too_much.status_code == 200 and "Insufficient" in too_much.content.decode()
    assert not Hold.objects.exists()
    response = client.post(url("hold", "add"), {"merchant": merchant.pk, "user_id": member.user_id,
                                                "amount": "300.00", "reason": "Court order",
                                                "legal_reference": "(2025)鲁01执1号"})
    hold = Hold.objects.get()
    assert response.status_code == 302 and response["Location"] == url("hold", "change", hold.pk)
    assert member_balance(member) == {"available": Decimal("700.00"), "frozen": Decimal("300.00")}
    page = client.get(url("hold", "change", hold.pk)).content.decode()
    assert 'data-transition="release"' in page
    client.post(url("hold", "transition", hold.pk, "release"), {"reason": "Lifted"})
    hold.refresh_from_db()
    assert hold.status == Hold.Status.RELEASED and member_balance(member)["frozen"] == 0
    assert prove_merchant(merchant).ok


def test_operations_may_not_place_holds(client):
    client.force_login(f.ops())
    assert client.get(url("hold", "add")).status_code == 302
    assert client.get(url("hold", "changelist")).status_code == 200


def test_a_channel_secret_is_write_only_and_stored_encrypted(client):
    client.force_login(f.ops())
    missing = client.post(url("paymentchannel", "add"), {"code": "alipay", "name": "Alipay", "app_id": "AP-1",
                                                         "enabled": "on", "new_secret": ""})
    assert missing.status_code == 200 and not PaymentChannel.objects.exists()
    response = client.post(url("paymentchannel", "add"), {"code": "alipay", "name": "Alipay", "app_id": "AP-1",
                                                          "enabled": "on", "new_secret": "very-secret-value"})
    assert response.status_code == 302
    channel = PaymentChannel.objects.get(code="alipay")
    assert channel.secret == "very-secret-value"
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM ledger_paymentchannel WHERE id = %s", [channel.pk])
        assert "very-secret-value" not in cursor.fetchone()[0]
    page = client.get(url("paymentchannel", "change", channel.pk)).content.decode()
    assert "very-secret-value" not in page
    # an edit without a secret keeps it; with one, replaces it; neither is audited in clear
    client.post(url("paymentchannel", "change", channel.pk), {"name": "Alipay CN", "app_id": "AP-1",
                                                              "new_secret": ""})
    channel.refresh_from_db()
    assert channel.name == "Alipay CN" and not channel.enabled and channel.secret == "very-secret-value"
    client.post(url("paymentchannel", "change", channel.pk), {"name": "Alipay CN", "app_id": "AP-1",
                                                              "enabled": "on", "new_secret": "rotated"})
    channel.refresh_from_db()
    assert channel.secret == "rotated" and channel.enabled
    trail = list(AuditEvent.objects.filter(content_type__model="paymentchannel").values_list("data", flat=True))
    assert len(trail) == 3 and not any("very-secret-value" in str(d) or "rotated" in str(d) for d in trail)
    # and a risk officer may not touch channels
    client.force_login(f.risk())
    assert client.get(url("paymentchannel", "add")).status_code == 403
