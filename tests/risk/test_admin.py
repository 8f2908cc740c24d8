"""Risk screens: only risk and operations keep monitors, evaluate them and acknowledge alerts;
only risk recomputes a level; the merchant page shows the level with its factors; the dashboards
list open alerts."""
import pytest
from django.urls import reverse

from core.models import AuditEvent
from risk.models import BalanceMonitor, MonitorAlert, RiskAssessment
from risk.services.assessments import merchant_assess
from risk.services.monitors import monitor_evaluate
from tests import factories as f

from .helpers import monitor

pytestmark = pytest.mark.django_db


def _monitor_form(merchant, member, **fields):
    return {"description": "buyers running dry", "merchant": merchant.pk, "member": member.pk, "field": "available",
            "operator": "lt", "threshold": "100.00", "enabled": "on", **fields}


@pytest.mark.parametrize("role", ["risk", "ops"])
def test_risk_and_operations_add_a_monitor_in_the_admin_and_it_is_audited(client, role):
    # given a member of an active merchant
    merchant = f.active_merchant()
    member = f.member(merchant)
    client.force_login(getattr(f, role)())
    # when a monitor is added through the form
    response = client.post(reverse("admin:risk_balancemonitor_add"), _monitor_form(merchant, member))
    # then it is saved through the service, audited
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = BalanceMonitor.objects.get()
    assert (saved.member_id, saved.field, saved.operator, str(saved.threshold)) == (member.pk, "available", "lt",
                                                                                    "100.00")
    assert AuditEvent.objects.filter(content_type__model="balancemonitor", action="create").count() == 1


@pytest.mark.parametrize("role", ["rm", "auditor"])
def test_other_roles_may_not_add_or_change_monitors(client, role):
    merchant = f.active_merchant()
    member = f.member(merchant)
    existing = monitor(merchant, member=member)
    client.force_login(getattr(f, role)())
    assert client.post(reverse("admin:risk_balancemonitor_add"), _monitor_form(merchant, member)).status_code == 403
    assert client.post(reverse("admin:risk_balancemonitor_change", args=[existing.pk]),
                       _monitor_form(merchant, member, threshold="5.00")).status_code == 403
    existing.refresh_from_db()
    assert BalanceMonitor.objects.count() == 1 and str(existing.threshold) == "100.00"


def test_a_monitor_the_service_would_refuse_is_explained_on_the_form(client):
    merchant = f.active_merchant()
    member = f.member(merchant)
    client.force_login(f.risk())
    page = client.post(reverse("admin:risk_balancemonitor_add"), _monitor_form(merchant, member, field="escrow_held"))
    assert page.status_code == 200 and "available and frozen" in page.content.decode()
    assert not BalanceMonitor.objects.exists()


def test_evaluate_now_is_an_action_for_risk_and_ops_only(client):
    # given a member below a monitor's line
    merchant = f.active_merchant()
    member = f.member(merchant)
    low = monitor(merchant, member=member)
    changelist = reverse("admin:risk_balancemonitor_changelist")
    action = {"action": "evaluate_now", "_selected_action": [low.pk]}
    # when an auditor tries the action: refused, nothing raised
    client.force_login(f.auditor())
    client.post(changelist, action)
    assert not MonitorAlert.objects.exists()
    # when operations evaluate now: the alert is raised
    client.force_login(f.ops())
    response = client.post(changelist, action, follow=True)
    assert response.status_code == 200 and MonitorAlert.objects.filter(monitor=low).count() == 1


def test_acknowledging_an_alert_needs_the_permission_and_a_reason(client):
    # given an open alert
    merchant = f.active_merchant()
    member = f.member(merchant)
    alert = monitor_evaluate(monitor=monitor(merchant, member=member)).raised[0]
    url = reverse("admin:risk_monitoralert_acknowledge", args=[alert.pk])
    # when an auditor tries: refused
    client.force_login(f.auditor())
    assert client.post(url, {"reason": "seen"}).status_code == 403
    # when operations post without a reason: the form asks again
    ops = f.ops()
    client.force_login(ops)
    assert client.post(url, {"reason": ""}).status_code == 200
    # when operations acknowledge with a reason: kept and audited
    assert client.post(url, {"reason": "platform told to fund the buyer"}).status_code == 302
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledge_reason) == (ops, "platform told to fund the buyer")
    assert AuditEvent.objects.filter(action="acknowledge", object_id=str(alert.pk)).exists()


def test_only_risk_recomputes_a_merchant_s_level_and_the_merchant_page_shows_its_factors(client):
    # given an active merchant with some books
    merchant = f.active_merchant()
    f.funded(f.member(merchant), "100.00")
    url = reverse("admin:risk_riskassessment_recompute", args=[merchant.pk])
    # when operations try to recompute: refused
    client.force_login(f.ops())
    assert client.post(url, {}).status_code == 403
    assert not RiskAssessment.objects.exists()
    # when risk recomputes: one more assessment, and the merchant page shows it with its factors
    client.force_login(f.risk())
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 302
    assessment = RiskAssessment.objects.get(merchant=merchant)
    page = client.get(reverse("admin:merchants_merchant_change", args=[merchant.pk])).content.decode()
    assert "Risk level (computed)" in page or "风险等级" in page
    assert "Refund and reversal rate" in page or "退款" in page
    assert url in page
    # and the history page opens for risk and auditors
    client.force_login(f.auditor())
    assert client.get(reverse("admin:risk_riskassessment_change", args=[assessment.pk])).status_code == 200


def test_the_risk_and_operations_dashboards_list_open_alerts(client):
    merchant = f.active_merchant()
    member = f.member(merchant)
    alert = monitor_evaluate(monitor=monitor(merchant, member=member, description="buyers running dry")).raised[0]
    for role in ("risk", "ops"):
        client.force_login(getattr(f, role)())
        page = client.get(reverse("admin:index")).content.decode()
        assert 'id="balance-alerts"' in page and f'data-alert="{alert.pk}"' in page and "buyers running dry" in page
    client.force_login(f.rm())
    assert 'id="balance-alerts"' not in client.get(reverse("admin:index")).content.decode()



def test_the_freeze_page_shows_the_computed_risk_level_with_its_factors(client):
    # given a merchant whose risk level has been computed
    merchant = f.active_merchant()
    f.funded(f.member(merchant), "100.00")
    assessment = merchant_assess(merchant=merchant, actor=f.risk())
    client.force_login(f.risk())
    # when risk opens the freeze step's confirmation form
    response = client.get(reverse("admin:merchants_merchant_transition", args=[merchant.pk, "freeze"]))
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    page = response.content.decode()
    # then beside the reason it shows the level, its score and factors, and the other merchant panels
    assert 'id="transition-form"' in page and 'id="step-panels"' in page
    assert assessment.get_level_display() in page and f">{assessment.score}<" in page
    assert "Refund and reversal rate" in page or "退款" in page
    # while a step with nothing to weigh (submit) shows no panels
    rm = f.rm()
    draft = f.draft_merchant(manager=rm)
    client.force_login(rm)
    page = client.get(reverse("admin:merchants_merchant_transition", args=[draft.pk, "submit"])).content.decode()
    assert 'id="transition-form"' in page and 'id="step-panels"' not in page
