"""The lean signed path of POST /api/v1/payments on PostgreSQL: the nonce and the key's claim in one
statement, the members in one query, the answer stored in the payment's own transaction, no reload
of a payment the service returns with its splits; and the per-process caches it leans on
(platform account ids, business dates). Replays, conflicts and refusals answer as before."""
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import IdempotencyRecord, UsedNonce
from ledger import calendar
from ledger.models import AccountKind, BusinessDay, Payment
from ledger.services.accounts import platform_account

from .conftest import add_member, error_of, fund, make_platform

PATH = "/api/v1/payments"
# auth (merchant, secrets), nonce + claim, the members, BEGIN, the service, its RELEASE, the answer
# stored, COMMIT, the key's lock released: with the booking function the service is its SAVEPOINT
# and one call; the Python path books in 14 statements (tests/ledger/test_payments.py) and the
# answer needs the payment reloaded (2).
STATEMENTS_BOOKING_FUNCTION = 11
STATEMENTS_PYTHON_PATH = 26


def pay(order_no, **extra):
    return {"payer_user_id": "buyer", "payee_user_id": "seller", "amount": "10.00", "order_no": order_no,
            "mode": "direct", "platform_fee": "0.10", **extra}


def shop():
    platform = make_platform()
    add_member(platform, "buyer")
    add_member(platform, "seller")
    fund(platform, "buyer", "100.00")
    return platform


def durable_commits(queries) -> int:
    """COMMITs, plus the writes run outside a transaction block (autocommit: one commit each)."""
    commits, in_block = 0, False
    for sql in (q["sql"] for q in queries):
        if sql == "BEGIN":
            in_block = True
        elif sql == "COMMIT":
            in_block, commits = False, commits + 1
        elif not in_block and (sql.startswith(("INSERT", "UPDATE", "DELETE")) or "core_api_claim" in sql):
            commits += 1
    return commits


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_database, expected", [(True, STATEMENTS_BOOKING_FUNCTION),
                                                   (False, STATEMENTS_PYTHON_PATH)])
def test_a_signed_payment_takes_few_statements_and_two_commits(raw_api, settings, in_database, expected):
    # given a shop that has booked one payment already (the per-process caches are warm)
    settings.JIANGUAN = {**settings.JIANGUAN, "BOOK_IN_DATABASE": in_database}
    platform = shop()
    assert raw_api.as_platform(platform, "POST", PATH, body=pay("W-0")).status_code == 201
    # when the next signed payment is sent
    with CaptureQueriesContext(connection) as queries:
        response = raw_api.as_platform(platform, "POST", PATH, body=pay("W-1"), idempotency_key="k-w1")
    # then it books, in the statements counted above, with two durable commits: the nonce with the
    # claim, and the payment with its stored answer (no BusinessDay or platform account read)
    assert response.status_code == 201, response.content
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == expected, "\n".join(s[:120] for s in sqls)
    assert durable_commits(queries.captured_queries) == 2
    assert sum("core_api_claim" in s for s in sqls) == 1 and sum('FROM "merchants_member"' in s for s in sqls) <= 2
    assert not any("ledger_businessday" in s for s in sqls)
    record = IdempotencyRecord.objects.get(key="k-w1")
    assert record.status == IdempotencyRecord.Status.COMPLETED and record.response_body == response.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_replays_conflicts_and_reused_nonces_answer_as_before(raw_api):
    # given a payment booked under a key and a nonce
    platform = shop()
    first = raw_api.as_platform(platform, "POST", PATH, body=pay("R-1"), idempotency_key="k-r",
                                nonce="lean-nonce-0000000001")
    assert first.status_code == 201
    # when the same request is sent again with a new nonce, then its answer is replayed
    again = raw_api.as_platform(platform, "POST", PATH, body=pay("R-1"), idempotency_key="k-r")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    # when the key comes with another body, then it is a conflict
    other = raw_api.as_platform(platform, "POST", PATH, body=pay("R-2"), idempotency_key="k-r")
    assert other.status_code == 409 and error_of(other)["details"]["reason"] == "different_request"
    # when the first nonce is used again (another key and order), then 401 and nothing is claimed
    reused = raw_api.as_platform(platform, "POST", PATH, body=pay("R-3"), idempotency_key="k-n",
                                 nonce="lean-nonce-0000000001")
    assert reused.status_code == 401 and error_of(reused)["details"]["reason"] == "nonce_reused"
    assert not IdempotencyRecord.objects.filter(key="k-n").exists()
    assert Payment.objects.filter(merchant=platform.merchant).count() == 1
    # and the key's lock was released every time: a new request with the first key replays at once
    assert raw_api.as_platform(platform, "POST", PATH, body=pay("R-1"), idempotency_key="k-r").status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_request_still_records_its_nonce_and_leaves_the_key_free(raw_api, settings):
    # given a shop whose merchant is frozen
    platform = shop()
    platform.merchant.status = "frozen"
    platform.merchant.save(update_fields=["status"])
    # when a payment is refused by the merchant's status, then its nonce is recorded all the same
    refused = raw_api.as_platform(platform, "POST", PATH, body=pay("F-1"), idempotency_key="k-f",
                                  nonce="lean-nonce-0000000002")
    assert refused.status_code == 403
    assert UsedNonce.objects.filter(nonce="lean-nonce-0000000002").exists()
    # and sent again, the reused nonce answers 401 first, as it always did
    again = raw_api.as_platform(platform, "POST", PATH, body=pay("F-1"), idempotency_key="k-f",
                                nonce="lean-nonce-0000000002")
    assert again.status_code == 401 and error_of(again)["details"]["reason"] == "nonce_reused"
    assert not IdempotencyRecord.objects.filter(key="k-f").exists()
    # when the merchant is active again and the platform is throttled, the claimed key is released
    platform.merchant.status = "active"
    platform.merchant.save(update_fields=["status"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"platform": "0/min"}}
    throttled = raw_api.as_platform(platform, "POST", PATH, body=pay("F-1"), idempotency_key="k-f")
    assert throttled.status_code == 429 and not IdempotencyRecord.objects.filter(key="k-f").exists()
    # and once the throttle allows it, the same key books
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"platform": "100/min"}}
    assert raw_api.as_platform(platform, "POST", PATH, body=pay("F-1"), idempotency_key="k-f").status_code == 201


@pytest.mark.django_db
def test_one_query_finds_every_party_and_the_first_missing_one_is_named(platform, raw_api):
    # given a payer and one payee of two
    add_member(platform, "buyer")
    add_member(platform, "seller")
    body = {"payer_user_id": "buyer", "amount": "10.00", "order_no": "S-1", "mode": "direct",
            "splits": [{"user_id": "seller", "amount": "5.00"}, {"user_id": "ghost", "amount": "5.00"}]}
    # when the split names an unknown member, then 404 names the splits
    response = raw_api.as_platform(platform, "POST", PATH, body=body)
    assert response.status_code == 404 and "splits" in error_of(response)["details"]
    # and an unknown payer is named first
    response = raw_api.as_platform(platform, "POST", PATH, body={**body, "payer_user_id": "nobody"})
    assert response.status_code == 404 and "payer_user_id" in error_of(response)["details"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cached_platform_account_reads_its_balance_and_freeze_as_they_are_now():
    # given a platform account looked up once, committed (so its id is cached)
    platform = shop()
    merchant = platform.merchant
    first = platform_account(merchant, AccountKind.FEE_INCOME)
    # when it is frozen and credited elsewhere
    type(first).objects.filter(pk=first.pk).update(frozen=True, balance=D("3.00"))
    # then the next lookup answers without a query for what posting needs, and loads the rest fresh
    with CaptureQueriesContext(connection) as queries:
        again = platform_account(merchant, AccountKind.FEE_INCOME)
        assert (again.pk, again.kind, again.is_hot, again.merchant_id) == (first.pk, first.kind, True, merchant.pk)
    assert len(queries) == 0
    assert again.frozen is True and again.balance == D("3.00")


@pytest.mark.django_db
def test_the_business_date_is_cached_per_minute_and_forgotten_when_the_calendar_changes(
        django_assert_num_queries):
    # given a Wednesday morning, a working day, asked once
    morning = datetime(2031, 1, 8, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert calendar.business_date_for(morning) == date(2031, 1, 8)
    # then later in the same minute it answers without a query
    with django_assert_num_queries(0):
        assert calendar.business_date_for(morning.replace(second=59)) == date(2031, 1, 8)
    # when it is declared a holiday in this process, then the same minute answers the next day
    BusinessDay.objects.create(date=date(2031, 1, 8), is_working_day=False, note="closed")
    assert calendar.business_date_for(morning) == date(2031, 1, 9)
