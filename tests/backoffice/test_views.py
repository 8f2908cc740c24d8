"""The pages: the admin index as each role's dashboard, merchant 360 (an RM only for their
own merchants), the complaint look-up, RM performance with its exports; the sidebar shows
each user only what they may open; dates and the language."""
import io

import pytest
from django.urls import reverse

from core.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


@pytest.mark.parametrize("role, section", [("rm", "dashboard-rm"), ("risk", "dashboard-risk"),
                                           ("ops", "dashboard-ops"), ("auditor", "dashboard-audit")])
def test_the_admin_index_is_the_roles_dashboard(world, today, client, role, section):
    user = world.alice if role == "rm" else getattr(f, role)()
    response = page(client, user, reverse("admin:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="{section}"' in html
    others = {"dashboard-rm", "dashboard-risk", "dashboard-ops", "dashboard-audit"} - {section}
    assert not any(f'id="{other}"' in html for other in others)
    assert "backoffice/vendor/chart.umd.min.js" in html  # charts from our own static files


def test_the_rm_dashboard_page_shows_amounts_with_separators(world, today, client):
    html = page(client, world.alice, reverse("admin:index")).content.decode()
    assert "1,400.00" in html and "1,500.00" in html and world.m1.legal_name in html
    assert world.m2.legal_name not in html


def test_a_superuser_sees_every_section(world, today, client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "x" * 16)
    html = page(client, root, reverse("admin:index")).content.decode()
    for section in ("dashboard-rm", "dashboard-risk", "dashboard-ops", "dashboard-audit"):
        assert f'id="{section}"' in html


def test_the_auditor_filters_the_trail_on_the_index(world, today, client):
    html = page(client, f.auditor(), reverse("admin:index"), audit_action="submit").content.decode()
    assert 'id="audit-events"' in html and "<span class=\"bo-pill\">submit</span>" in html
    assert "<span class=\"bo-pill\">activate</span>" not in html


def test_merchant_360_for_the_rm_of_the_merchant_and_not_for_another(world, today, client,
                                                                       django_assert_max_num_queries):
    url = reverse("backoffice:merchant-360", args=[world.m1.pk])
    client.force_login(world.alice)
    with django_assert_max_num_queries(45):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    for block in ("m360-proof-ok", "m360-history", "m360-entries", "m360-deposits", "m360-withdrawals",
                  "m360-payments", "m360-credit", "m360-eod", "m360-cases", "m360-timeline"):
        assert f'id="{block}"' in html, block
    assert "1,400.00" in html and "ORD-8842" in html and "10,000.00" in html
    # Bob may not see Alice's merchant: not found
    assert page(client, world.bob, url).status_code == 404


def test_merchant_360_offers_the_transitions_this_user_may_take(world, today, client):
    # given a risk officer on an active merchant: freeze (needs a reason) is offered, activate is not
    html = page(client, f.risk(), reverse("backoffice:merchant-360", args=[world.m1.pk])).content.decode()
    freeze_url = reverse("admin:merchants_merchant_transition", args=[world.m1.pk, "freeze"])
    assert f'href="{freeze_url}"' in html and 'data-transition="activate"' not in html
    # and the RM gets none on an active merchant
    html = page(client, world.alice, reverse("backoffice:merchant-360", args=[world.m1.pk])).content.decode()
    assert "data-transition=" not in html


def test_the_merchant_admin_page_links_to_the_360_view(world, client):
    html = page(client, world.alice, reverse("admin:merchants_merchant_change", args=[world.m1.pk])).content.decode()
    assert reverse("backoffice:merchant-360", args=[world.m1.pk]) in html


def test_the_complaint_page_finds_an_order_and_audits_the_look_up(world, client):
    before = AuditEvent.objects.filter(action="complaint_lookup").count()
    html = page(client, world.alice, reverse("backoffice:complaints"), q="ORD-8842").content.decode()
    assert 'data-order="ORD-8842"' in html and "300.00" in html
    assert "/admin/receipts/receipt/download/payment/" in html
    assert AuditEvent.objects.filter(action="complaint_lookup").count() == before + 1
    # Bob finds nothing of Alice's
    html = page(client, world.bob, reverse("backoffice:complaints"), q="ORD-8842").content.decode()
    assert 'id="complaint-nothing"' in html and 'data-order="ORD-8842"' not in html


def test_the_complaint_page_never_shows_the_raw_phone(world, client):
    html = page(client, world.alice, reverse("backoffice:complaints"), q="13812345678").content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html


def test_the_complaint_form_posts_so_a_phone_never_sits_in_a_url(world, client):
    # given Alice on the look-up page
    client.force_login(world.alice)
    url = reverse("backoffice:complaints")
    form = client.get(url).content.decode()
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    # when she posts a phone number
    response = client.post(url, {"q": "138 1234 5678"})
    # then the member is found, shown masked, and the page's own URL carries nothing
    html = response.content.decode()
    assert response.status_code == 200 and "138****5678" in html and "1234 5678" not in html
    assert response.request["QUERY_STRING"] == ""


def test_performance_page_and_exports(world, today, client):
    risk = f.risk()
    html = page(client, risk, reverse("backoffice:performance"), period="2026-11").content.decode()
    assert 'data-rm="rm_alice"' in html and 'data-rm="rm_bob"' in html and "1,343.33" in html
    response = page(client, risk, reverse("backoffice:performance-export"), period="2026-11", format="xlsx")
    assert response["Content-Disposition"].endswith('rm-performance-2026-11.xlsx"')
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(response.content)).active.max_row == 4
    response = page(client, risk, reverse("backoffice:performance-export"), period="2026-11", format="csv")
    assert "rm_alice" in response.content.decode("utf-8-sig")
    assert page(client, risk, reverse("backoffice:performance-export"), period="bad").status_code == 400


def test_an_rm_sees_only_their_own_performance_and_others_none(world, today, client):
    html = page(client, world.alice, reverse("backoffice:performance"), period="2026-11").content.decode()
    assert 'data-rm="rm_alice"' in html and 'data-rm="rm_bob"' not in html
    csv_text = page(client, world.alice, reverse("backoffice:performance-export"), period="2026-11").content
    assert b"rm_bob" not in csv_text
    nobody = f.UserFactory()
    assert page(client, nobody, reverse("backoffice:performance")).status_code in (302, 403)


def test_the_sidebar_shows_only_what_the_user_may_open(world, client):
    rm_html = page(client, world.alice, reverse("admin:index")).content.decode()
    ops_html = page(client, f.ops(), reverse("admin:index")).content.decode()
    statement_imports = reverse("admin:reconciliation_statementbatch_changelist")
    users = reverse("admin:auth_user_changelist")
    assert reverse("backoffice:complaints") in rm_html and reverse("backoffice:performance") in rm_html
    assert users not in rm_html and users not in ops_html
    assert statement_imports in ops_html


def test_dates_read_2026_11_25_in_both_languages(settings):
    import datetime

    from django.utils import formats, translation

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert formats.date_format(datetime.date(2026, 11, 25)) == "2026-11-25"
            assert formats.date_format(datetime.date(2026, 11, 25), "SHORT_DATE_FORMAT") == "2026-11-25"


def test_staff_pages_default_to_chinese_and_the_switch_wins(world, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(world.alice)
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    response = client.get(reverse("admin:index"))
    assert response.headers["Content-Language"] == "en"
