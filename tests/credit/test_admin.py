"""Credit screens: the RM's draft form, the scoring panel, buttons only where allowed, lines,
bills by aging, the RM's notifications, portfolios."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from credit import services
from credit.models import CreditApplication, CreditNotification
from tests import factories as f

from .helpers import open_line

pytestmark = pytest.mark.django_db


def _url(model, view, *args):
    return reverse(f"admin:credit_{model}_{view}", args=args)


def _form(world, **overrides):
    data = {"member": world.buyer.pk, "kind": "new_line", "line": "", "proposed_limit": "30000.00",
            "term_days": "30", "grace_days": "3", "penalty_rate": "0.0005", "creditor_member": world.core.pk,
            "purpose": "Monthly steel purchases", "_save": "Save"}
    data.update(overrides)
    return data


def test_the_rm_drafts_through_the_form_and_sees_errors_by_field(client, world):
    rm = world.merchant.relationship_manager
    client.force_login(rm)
    assert client.get(_url("creditapplication", "add")).status_code == 200
    # a member who buys and sells can't be their own creditor: refused on the form, nothing saved
    both = f.member(world.merchant, roles=("buyer", "seller"))
    page = client.post(_url("creditapplication", "add"), _form(world, member=both.pk, creditor_member=both.pk))
    assert page.status_code == 200 and "be their own creditor" in page.content.decode()
    assert not CreditApplication.objects.exists()
    # a valid draft is saved through the service
    response = client.post(_url("creditapplication", "add"), _form(world))
    assert response.status_code == 302
    application = CreditApplication.objects.get()
    assert application.prepared_by == rm and application.status == "draft"
    assert application.proposed_limit == Decimal("30000.00") and application.creditor_member == world.core


def test_the_approver_sees_every_factor_and_only_the_buttons_they_may_press(client, world, clock):
    rm = world.merchant.relationship_manager
    application = services.credit_application_create(
        merchant=world.merchant, actor=rm, member=world.buyer, proposed_limit="30000.00", term_days=30,
        penalty_rate="0.0005", creditor_member=world.core)
    client.force_login(rm)
    page = client.get(_url("creditapplication", "change", application.pk)).content.decode()
    assert 'id="credit-scoring-panel"' in page and "Preview on 2026-03-02" in page
    assert 'data-transition="submit"' in page
    client.post(_url("creditapplication", "transition", application.pk, "submit"))
    application.refresh_from_db()
    assert application.status == "submitted"
    # the preparer gets no review button, and a posted review is refused
    page = client.get(_url("creditapplication", "change", application.pk)).content.decode()
    assert 'data-transition="review"' not in page
    client.post(_url("creditapplication", "transition", application.pk, "review"))
    application.refresh_from_db()
    assert application.status == "submitted"
    # a risk officer sees the stored score, all six factors, and review / reject
    client.force_login(f.risk())
    page = client.get(_url("creditapplication", "change", application.pk)).content.decode()
    assert "Scored on 2026-03-02" in page and page.count("data-factor=") == 6
    for key in ("volume_90", "volume_180", "counterparties", "months_active", "repaid_on_time", "overdue"):
        assert f'data-factor="{key}"' in page
    assert 'data-transition="review"' in page and 'data-transition="reject"' in page
    assert 'data-transition="approve"' not in page
    client.post(_url("creditapplication", "transition", application.pk, "review"))
    application.refresh_from_db()
    assert application.status == "rm_reviewed"


def test_after_the_first_of_two_approvals_only_another_officer_sees_approve(client, world, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "CREDIT_SECOND_APPROVAL_ABOVE": "1000.00"}
    rm = world.merchant.relationship_manager
    application = services.credit_application_create(
        merchant=world.merchant, actor=rm, member=world.buyer, proposed_limit="30000.00", term_days=30,
        penalty_rate="0.0005", creditor_member=world.core)
    services.credit_application_submit(application=application, actor=rm)
    services.credit_application_review(application=application, actor=f.risk())
    first = f.risk()
    client.force_login(first)
    client.post(_url("creditapplication", "transition", application.pk, "approve"))
    page = client.get(_url("creditapplication", "change", application.pk)).content.decode()
    assert 'data-transition="approve"' not in page
    client.force_login(f.risk())
    page = client.get(_url("creditapplication", "change", application.pk)).content.decode()
    assert 'data-transition="approve"' in page


def test_lines_risk_suspends_with_a_reason_and_the_rm_requests_a_limit_change(client, world):
    line = open_line(world.merchant, world.buyer, creditor=world.core, limit="8000.00")
    rm = world.merchant.relationship_manager
    client.force_login(rm)
    page = client.get(_url("creditline", "change", line.pk)).content.decode()
    assert 'data-transition="suspend"' not in page and 'id="request-limit-change"' in page
    form = client.get(_url("creditapplication", "add") + f"?line={line.pk}").content.decode()
    assert "8000.00" in form and 'value="limit_change" selected' in form
    client.force_login(f.risk())
    page = client.get(_url("creditline", "change", line.pk)).content.decode()
    assert 'data-transition="suspend"' in page
    client.post(_url("creditline", "transition", line.pk, "suspend"), {"reason": "Dispute"})
    line.refresh_from_db()
    assert line.status == "suspended" and line.status_reason == "Dispute"


def test_bills_by_aging_bucket_with_a_summary(client, world, clock, monkeypatch):
    open_line(world.merchant, world.buyer, creditor=world.core, limit="100000.00", term_days=10, grace_days=0)
    # drawn so that, on 2026-06-30, they are 0 (not due), 15, 45, 75 and 120 days past due
    as_of = date(2026, 6, 30)
    monkeypatch.setattr("credit.admin.bills.today", lambda: as_of)
    for order_no, past_due in (("NOW", -3), ("D15", 15), ("D45", 45), ("D75", 75), ("D120", 120)):
        clock.day = as_of - timedelta(days=past_due + 10)
        services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                 amount="100.00", order_no=order_no)
    client.force_login(world.merchant.relationship_manager)
    page = client.get(_url("creditbill", "changelist")).content.decode()
    assert 'id="aging-summary"' in page
    for key in ("current", "1_30", "31_60", "61_90", "90_plus"):
        assert f'data-bucket="{key}"' in page
    for bucket, order_no in (("current", "NOW"), ("1_30", "D15"), ("31_60", "D45"), ("61_90", "D75"),
                             ("90_plus", "D120")):
        listed = client.get(_url("creditbill", "changelist") + f"?aging={bucket}").content.decode()
        shown = [o for o in ("NOW", "D15", "D45", "D75", "D120") if f">{o}<" in listed]
        assert shown == [order_no], bucket


def test_the_rm_inbox_shows_their_overdue_bills_only(client, world, clock):
    open_line(world.merchant, world.buyer, creditor=world.core, term_days=1, grace_days=0)
    bill = services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                                    amount="100.00", order_no="PO-1")
    services.credit_sweep_overdue(as_of=bill.grace_until + timedelta(days=1))
    notification = CreditNotification.objects.get()
    client.force_login(f.rm())
    assert "PO-1" not in client.get(_url("creditnotification", "changelist")).content.decode()
    client.force_login(world.merchant.relationship_manager)
    assert "PO-1" in client.get(_url("creditnotification", "changelist") + "?read=no").content.decode()
    client.post(_url("creditnotification", "changelist"),
                {"action": "mark_read", "_selected_action": [notification.pk]})
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_an_rm_sees_only_their_portfolio_s_credit(client, world, clock):
    line = open_line(world.merchant, world.buyer, creditor=world.core)
    services.credit_drawdown(merchant=world.merchant, actor=None, member=world.buyer, payee=world.core,
                             amount="100.00", order_no="PO-MINE")
    client.force_login(f.rm())
    assert "PO-MINE" not in client.get(_url("creditbill", "changelist")).content.decode()
    assert client.get(_url("creditline", "change", line.pk)).status_code in (302, 404)
    client.force_login(f.auditor())
    assert "PO-MINE" in client.get(_url("creditbill", "changelist")).content.decode()


def test_the_merchant_page_shows_the_credit_panel(client, world):
    open_line(world.merchant, world.buyer, creditor=world.core, limit="8000.00")
    client.force_login(f.risk())
    page = client.get(reverse("admin:merchants_merchant_change", args=[world.merchant.pk])).content.decode()
    assert "Credit (账期)" in page and "8,000.00" in page
