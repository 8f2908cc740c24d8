"""Pages that stay fast as the books grow: the merchant admin page and the merchant 360
page never sum a merchant's whole history of postings. Totals come from the account balances
plus the hot-account changes not yet rolled up; the full proof (every balance against its
postings) is shown from the last end of day and the nightly integrity check. Asserted on the
SQL the pages run, never on their timing."""
import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.models import IntegrityCheck
from backoffice.selectors import merchant360
from backoffice.selectors.balances import daily_balance_series, daily_balance_series_to_now, supervision_postings
from ledger.selectors import balance_totals, prove_merchant
from reconciliation.models import EodRun

from .world import D

pytestmark = pytest.mark.django_db

SUM_OVER_POSTINGS = re.compile(r"SUM\([^)]*\).*\bFROM\s+\"?ledger_posting\"?", re.IGNORECASE | re.DOTALL)


def sums_over_postings(queries) -> list[str]:
    return [q["sql"] for q in queries if SUM_OVER_POSTINGS.search(q["sql"])]


def test_the_merchant_admin_page_runs_no_sum_over_postings(world, client):
    # given Alice's merchant with deposits, a payment, credit and a paid withdrawal
    client.force_login(world.alice)
    # when she opens its admin page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:merchants_merchant_change", args=[world.m1.pk]))
    # then no query sums the postings, and the totals are there, from the balances
    assert response.status_code == 200
    assert sums_over_postings(queries.captured_queries) == []
    html = response.content.decode()
    assert "Total = sum of parts" in html or "总分平衡" in html
    assert "1,400.00" in html  # the supervision balance: 100 + 1000 + 500 - 200


def test_the_merchant_360_page_sums_postings_only_inside_its_window(world, today, client):
    client.force_login(world.alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("backoffice:merchant-360", args=[world.m1.pk]))
    assert response.status_code == 200
    # the balance chart's sum is the only sum over postings, and it is bounded by the chart's first day
    sums = sums_over_postings(queries.captured_queries)
    assert len(sums) == 1, sums
    assert re.search(r"\"business_date\" >= '?2026-09-02", sums[0]), sums[0]
    html = response.content.decode()
    assert 'id="m360-proof-ok"' in html and "1,400.00" in html and 'id="m360-full-proof"' in html


def test_totals_from_balances_agree_with_the_full_proof(world):
    # given the merchant's books (hot deltas of the supervision account possibly not rolled up)
    totals, proof = balance_totals(world.m1), prove_merchant(world.m1)
    # then the page's totals are the full proof's
    assert proof.ok and totals.totals_balance
    assert (totals.supervision_balance, totals.virtual_total) == (proof.supervision_balance, proof.virtual_total)
    assert totals.supervision_balance == D("1400.00") and totals.member_total == D("1400.00")


@pytest.mark.parametrize("as_of", [datetime.date(2026, 11, 30), datetime.date(2026, 11, 15),
                                   datetime.date(2027, 1, 20)])
def test_the_90_day_chart_from_the_balance_now_equals_the_one_from_every_posting(world, as_of):
    # given a window that holds every posting, one with a posting after it (11-20's withdrawal),
    # and one that leaves 10-15's deposit before it
    start = as_of - datetime.timedelta(days=89)
    postings = supervision_postings(merchant=world.m1)
    # then the chart read from the window and the balance now is the chart summed from all postings
    now = balance_totals(world.m1).supervision_balance
    assert daily_balance_series_to_now(postings, start, as_of, now) == daily_balance_series(postings, start, as_of)


def test_the_360_page_shows_the_last_end_of_day_proof_and_the_nightly_check(world, today, client):
    # given an end of day that proved and a nightly check that found a break
    EodRun.objects.create(merchant=world.m1, business_date=datetime.date(2026, 11, 27), status="discrepancies",
                          differences=2, totals_balance=True, postings_match=True)
    IntegrityCheck.objects.create(status=IntegrityCheck.Status.FAILED, check_name="materialised balance",
                                  actor_label="nightly integrity check")
    data = merchant360.merchant_360(world.alice, world.m1.pk)
    assert data.last_proof.business_date == datetime.date(2026, 11, 27) and data.integrity.alert
    client.force_login(world.alice)
    html = client.get(reverse("backoffice:merchant-360", args=[world.m1.pk])).content.decode()
    assert 'id="m360-eod-proof-ok"' in html and 'data-status="failed"' in html


def test_the_merchant_admin_page_shows_the_last_end_of_day_proof(world, client):
    EodRun.objects.create(merchant=world.m1, business_date=datetime.date(2026, 11, 27), status="balanced",
                          totals_balance=True, postings_match=False)
    client.force_login(world.alice)
    html = client.get(reverse("admin:merchants_merchant_change", args=[world.m1.pk])).content.decode()
    assert "every balance = Σ its postings" in html or "每个余额 = 其分录之和" in html


def test_the_rm_dashboard_sums_postings_only_inside_its_30_days(world, today, client):
    # given Alice's dashboard (the admin index): her merchants' balances, 30-day inflow and chart
    client.force_login(world.alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200 and "1,400.00" in response.content.decode()
    # then every sum over postings is bounded by the first day of the 30 (2026-11-01)
    sums = sums_over_postings(queries.captured_queries)
    assert sums and all(re.search(r"\"business_date\" >= '?2026-11-01", sql) for sql in sums), sums
