"""The plain-SQL reference ledger the bench measures beside the service: its payment books the
same three legs with balance-after entries, refuses to overdraw, and pgbench's 8 clients
driving it leave books that prove (balance = opening + Σ entries). No time is asserted."""
from decimal import Decimal as D

import psycopg
import pytest
from django.db import connection

from bench import reference
from bench.cluster import find_pgbench
from bench.runner import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger():
    url = database_url(connection.settings_dict)
    reference.install(url, accounts=20)
    with psycopg.connect(url, autocommit=True) as conn:
        yield url, conn
        conn.execute("DROP SCHEMA ref CASCADE")


def _balances(conn, *ids):
    return [conn.execute("SELECT balance FROM ref.accounts WHERE id = %s", [i]).fetchone()[0] for i in ids]


def test_a_payment_books_two_legs_from_the_buyer_with_the_balance_after_each(ledger):
    _url, conn = ledger
    # given funded accounts 1..20 and the fee account
    # when buyer 3 pays seller 7 45.00 net and a 0.45 fee
    conn.execute("SELECT ref.payment(3, 7, 45.00, 0.45)")
    # then the buyer lost both, the seller and the shared fee account gained their part
    opening = D(reference.OPENING)
    assert _balances(conn, 3, 7, reference.FEE_ACCOUNT) == [opening - D("45.45"), opening + D("45.00"), D("0.45")]
    # one transfer per leg, two entries each, the buyer's second entry after both debits
    entries = conn.execute("SELECT account_id, amount, balance_after FROM ref.entries ORDER BY id").fetchall()
    assert entries == [(3, D("-45.00"), opening - D("45.00")), (7, D("45.00"), opening + D("45.00")),
                       (3, D("-0.45"), opening - D("45.45")), (reference.FEE_ACCOUNT, D("0.45"), D("0.45"))]
    assert reference.prove(_url, accounts=20)["ok"]


def test_a_payment_the_buyer_cannot_cover_books_nothing(ledger):
    url, conn = ledger
    # given buyer 1 with its opening balance only
    # when it tries to pay more than it has
    with pytest.raises(psycopg.errors.RaiseException, match="insufficient funds"):
        conn.execute("SELECT ref.payment(1, 2, %s, 1.00)", [D(reference.OPENING)])
    # then no balance moved and no row was written
    assert _balances(conn, 1, 2, reference.FEE_ACCOUNT) == [D(reference.OPENING), D(reference.OPENING), 0]
    assert conn.execute("SELECT count(*) FROM ref.transfers").fetchone()[0] == 0
    assert reference.prove(url, accounts=20)["ok"]


@pytest.mark.skipif(find_pgbench() is None, reason="pgbench not installed")
def test_pgbench_s_eight_clients_on_few_accounts_leave_books_that_prove(ledger):
    url, _conn = ledger
    # given 20 accounts for 8 clients: every payment contends for the fee row and most for a member's
    for script in ("payment", "transfer"):
        figure = reference.Figure(script)
        # when pgbench runs the script for a second
        figure.run(url, accounts=20, seconds=1, bindir=None)
        result = figure.result(accounts=20)
        # then it booked, with per-transaction latencies, nothing failed (no deadlock: locks in id order)
        assert result["tps"] > 0 and result["failed"] == 0, result
        assert len(figure.latencies_ms) > 0 and result["p50_ms"] <= result["p99_ms"]
    # and every balance is its opening balance plus its entries
    proof = reference.prove(url, accounts=20)
    assert proof["ok"] and proof["entries"] == 2 * proof["transfers"] > 0, proof
