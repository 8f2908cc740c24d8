"""The outflow-rule screens in the Chinese admin: a risk officer adds a rule (saved through the
service, audited; a rule the service would refuse is explained on the form), the risk queue shows
a review with its rule hits and the approve / refuse buttons to a second risk officer only, and
the buttons book the decision."""
import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AuditEvent
from ledger.models import Payment
from risk.models import OutflowRule, RiskReview
from tests import factories as f

from .rules_helpers import pay, rule, shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def _rule_form(**fields):
    return {"name": "大额支付审核", "active": "on", "mode": "enforce", "outcome": "review", "movement": "payment",
            "kind": "amount_limit", "amount": "1000.00", "min_risk_level": "", "description": "", **fields}


def test_a_risk_officer_adds_a_rule_in_the_admin_and_it_is_audited(chinese):
    officer = f.risk()
    chinese.force_login(officer)
    page = chinese.get(reverse("admin:risk_outflowrule_add"))
    assert page.status_code == 200 and "出金规则" in page.content.decode()
    response = chinese.post(reverse("admin:risk_outflowrule_add"), _rule_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = OutflowRule.objects.get()
    assert (saved.kind, saved.created_by, saved.updated_by) == ("amount_limit", officer, officer)
    assert AuditEvent.objects.filter(content_type__model="outflowrule", action="create").count() == 1


def test_a_rule_the_service_would_refuse_is_explained_on_the_form(chinese):
    chinese.force_login(f.risk())
    page = chinese.post(reverse("admin:risk_outflowrule_add"), _rule_form(kind="velocity_count", amount=""))
    assert page.status_code == 200 and "此条件需要填写" in page.content.decode()
    assert not OutflowRule.objects.exists()


@pytest.mark.parametrize("role", ["ops", "rm", "auditor"])
def test_other_roles_may_not_add_rules(client, role):
    client.force_login(getattr(f, role)())
    assert client.post(reverse("admin:risk_outflowrule_add"), _rule_form()).status_code == 403
    assert not OutflowRule.objects.exists()


def _queued():
    merchant, buyer, seller = shop()
    author = f.risk()
    rule(merchant, name="大额支付", author=author)
    payment = pay(buyer, seller, "1500.00")
    return RiskReview.objects.get(payment=payment), author


def test_the_risk_queue_shows_the_review_its_hits_and_the_buttons_to_a_second_officer(chinese):
    review, author = _queued()
    chinese.force_login(f.risk())
    listing = chinese.get(reverse("admin:risk_riskreview_changelist")).content.decode()
    assert "风控队列" in listing and review.order_no in listing
    page = chinese.get(reverse("admin:risk_riskreview_change", args=[review.pk])).content.decode()
    assert "大额支付" in page, page
    assert "规则命中" in page
    assert "amount 1500.00 above 1000.00" in page  # the why, in the bank's language (LANGUAGE_CODE)
    for name in ("approve", "refuse"):
        assert reverse("admin:risk_riskreview_transition", args=[review.pk, name]) in page
    # the rule's author sees no button, and pressing one is refused
    chinese.force_login(author)
    page = chinese.get(reverse("admin:risk_riskreview_change", args=[review.pk])).content.decode()
    assert reverse("admin:risk_riskreview_transition", args=[review.pk, "approve"]) not in page
    chinese.post(reverse("admin:risk_riskreview_transition", args=[review.pk, "approve"]), {"reason": ""})
    review.refresh_from_db()
    assert review.status == "open"


def test_the_buttons_book_the_decision(chinese):
    review, _author = _queued()
    chinese.force_login(f.risk())
    url = reverse("admin:risk_riskreview_transition", args=[review.pk, "refuse"])
    form = chinese.get(url)
    assert form.status_code == 200
    assert chinese.post(url, {"reason": "虚假订单"}).status_code == 302
    review.refresh_from_db()
    assert (review.status, review.reason) == ("refused", "虚假订单")
    assert Payment.objects.get(pk=review.payment_id).status == "refused"


def test_operations_see_no_buttons(chinese):
    review, _author = _queued()
    chinese.force_login(f.ops())
    page = chinese.get(reverse("admin:risk_riskreview_change", args=[review.pk])).content.decode()
    assert reverse("admin:risk_riskreview_transition", args=[review.pk, "approve"]) not in page


def test_the_rule_hits_page_lists_each_hit(chinese):
    review, _author = _queued()
    chinese.force_login(f.auditor())
    listing = chinese.get(reverse("admin:risk_rulehit_changelist")).content.decode()
    assert "规则命中" in listing and review.order_no in listing


def test_the_rules_list_counts_each_rule_s_recent_hits_for_tuning(chinese):
    review, _author = _queued()
    chinese.force_login(f.risk())
    page = chinese.get(reverse("admin:risk_outflowrule_changelist")).content.decode()
    assert "命中次数（7天）" in page and review.rule.name in page


def test_the_merchant_page_shows_the_rules_that_apply_and_what_waits_in_the_queue(chinese):
    review, _author = _queued()
    chinese.force_login(f.risk())
    page = chinese.get(reverse("admin:merchants_merchant_change", args=[review.merchant_id])).content.decode()
    assert "出金规则" in page and "适用 1 条规则；1 笔资金变动在风控队列中等待" in page
    queue = chinese.get(reverse("admin:risk_riskreview_changelist"),
                        {"merchant__id__exact": review.merchant_id, "status__exact": "open"})
    assert queue.status_code == 200 and review.order_no in queue.content.decode()
