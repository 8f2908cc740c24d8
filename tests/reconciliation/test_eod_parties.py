"""End of day: the order file's payer and payee against the ledger's (party_mismatch)."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from reconciliation.models import DiscrepancyCase, EodDifference, EodRun
from reconciliation.services import cases
from reconciliation.services.eod import eod_run
from reconciliation.services.imports import statement_import
from reconciliation.services.orders import order_file_from_csv
from tests import factories as f

from .builders import announce, english, payment

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 11, 24)
HEADER = "order_no,type,amount,payer_user_id,payee_user_id\r\n"


@pytest.fixture
def day(db):
    """A day of one deposit (1000.00, buyer), P-1 buyer → seller 300.00 and P-2 buyer → seller 200.00."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, user_id="buyer"), f.member(merchant, user_id="seller")
    f.member(merchant, user_id="other")
    deposit = announce(merchant, buyer, "1000.00", "D-1")
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=english([
        ("SR1", DAY.isoformat(), "1000.00", "Zhang", "1", "B", deposit.payment_code, "1000.00")]))
    payment(merchant, buyer, seller, "300.00", "P-1", DAY)
    payment(merchant, buyer, seller, "200.00", "P-2", DAY)
    return merchant


def send_csv(merchant, *lines):
    """The platform's order file as it sends it: a CSV with the documented columns."""
    data = (HEADER + "".join(line + "\r\n" for line in lines)).encode()
    return order_file_from_csv(merchant=merchant, actor=None, business_date=DAY, data=data, file_name="orders.csv")


def diffs(run):
    return {(d.kind, d.order_no): (d.platform_payer, d.platform_payee, d.ledger_payer, d.ledger_payee)
            for d in EodDifference.objects.filter(run=run)}


def test_a_payee_that_differs_with_the_same_amount_is_a_party_mismatch(day):
    # given an order file whose P-2 names another payee, amounts all agreeing
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,other")
    # when the day is run
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    # then P-2 is a party mismatch, counted in the run's totals and not as matched
    assert run.status == EodRun.Status.DISCREPANCIES
    assert (run.orders, run.matched, run.party_mismatches, run.amount_mismatches) == (3, 2, 1, 0)
    assert (run.entries, run.differences) == (3, 1)
    assert diffs(run) == {("party_mismatch", "P-2"): ("buyer", "other", "buyer", "seller")}
    difference = EodDifference.objects.get(run=run)
    assert (difference.expected_amount, difference.actual_amount) == (D("200.00"), D("200.00"))
    assert "payee" in difference.detail and "other" in difference.detail and "payer" not in difference.detail
    # and it opens a case of its own, which says which party differs
    case = DiscrepancyCase.objects.get(merchant=day, business_date=DAY)
    assert (case.kind, case.key, case.status, case.detail) == ("party_mismatch", "payment:P-2", "open",
                                                               difference.detail)


def test_a_payer_that_differs_is_a_party_mismatch(day):
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,other,seller", "P-2,payment,200.00,buyer,seller")
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    assert diffs(run) == {("party_mismatch", "P-1"): ("other", "seller", "buyer", "seller")}
    assert "payer" in EodDifference.objects.get(run=run).detail


def test_a_party_is_compared_only_where_both_sides_name_one(day):
    # given a file that leaves parties blank, and a deposit whose payer the ledger can't know
    send_csv(day, "D-1,deposit,1000.00,someone-outside,buyer", "P-1,payment,300.00,,", "P-2,payment,200.00,buyer,")
    # when the day is run, then nothing differs
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    assert (run.status, run.matched, run.party_mismatches, run.differences) == (EodRun.Status.BALANCED, 3, 0, 0)


def test_an_amount_that_differs_stays_an_amount_mismatch_and_records_the_parties(day):
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,250.00,buyer,other")
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    assert (run.amount_mismatches, run.party_mismatches, run.matched) == (1, 0, 2)
    assert diffs(run) == {("amount_mismatch", "P-2"): ("buyer", "other", "buyer", "seller")}


def test_the_platform_s_correction_closes_the_case_and_a_new_wrong_party_reopens_it(day):
    # given a party mismatch the platform then corrects
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,other")
    eod_run(merchant=day, business_date=DAY, actor=None)
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,seller")
    # when the day is run again, then the case closes by itself
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    case = DiscrepancyCase.objects.get(merchant=day, business_date=DAY)
    assert (run.status, case.status) == (EodRun.Status.BALANCED, "resolved")
    # given it comes back and is written off
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,other")
    eod_run(merchant=day, business_date=DAY, actor=None)
    case.refresh_from_db()
    cases.case_write_off(case=case, actor=f.ops(), reason="the platform's test order")
    # when a rerun finds the same parties, then it stays closed
    eod_run(merchant=day, business_date=DAY, actor=None)
    case.refresh_from_db()
    assert case.status == "written_off"
    # when the platform names yet another payee, then the same case reopens
    f.member(day, user_id="third")
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,third")
    eod_run(merchant=day, business_date=DAY, actor=None)
    case.refresh_from_db()
    assert (case.status, DiscrepancyCase.objects.filter(merchant=day).count()) == ("open", 1)
    assert "third" in case.detail


def test_the_run_page_lists_the_party_mismatch_with_what_differs(day, client):
    # given a day with a party mismatch
    send_csv(day, "D-1,deposit,1000.00,,buyer", "P-1,payment,300.00,buyer,seller", "P-2,payment,200.00,buyer,other")
    run = eod_run(merchant=day, business_date=DAY, actor=None)
    # when operations open the run and its list
    client.force_login(f.ops(username="ops_parties"))
    page = client.get(reverse("admin:reconciliation_eodrun_change", args=[run.pk])).content.decode()
    listing = client.get(reverse("admin:reconciliation_eodrun_changelist")).content.decode()
    # then the category is named, with the parties, and the list counts it
    assert "Payer or payee differs" in page and 'data-kind="party_mismatch"' in page and "other" in page
    assert "party mismatches" in listing.lower()
