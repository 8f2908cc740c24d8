"""core.db_retry: a transaction PostgreSQL aborts to break a deadlock (40P01) or because it
read a row another transaction changed (40001) is run again from the start, a bounded number
of times, and only when it is the outermost transaction. Real deadlocks, real conflicts."""
import threading

import pytest
from django.db import OperationalError, connection, transaction

from core.db_retry import DEADLOCK_DETECTED, SERIALIZATION_FAILURE, atomic_with_retry, sqlstate_of
from merchants.models import Merchant
from tests import factories as f

from .helpers import Session, holding, together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _crossed_lockers(a, b, attempts):
    """Two transactions that lock a then b, and b then a: a real deadlock on the first try."""
    both_hold_one = threading.Barrier(2, timeout=30)
    calls = [0, 0]

    def locker(i, first, second):
        def fn():
            calls[i] += 1
            Merchant.objects.select_for_update().get(pk=first)
            if calls[i] == 1:
                both_hold_one.wait()
            Merchant.objects.select_for_update().get(pk=second)
            return i

        return lambda: atomic_with_retry(fn, attempts=attempts)

    return together(locker(0, a, b), locker(1, b, a)), calls


def test_a_deadlock_is_retried_and_both_transactions_finish():
    a, b = f.active_merchant().pk, f.active_merchant().pk
    results, calls = _crossed_lockers(a, b, attempts=3)
    assert [e for _, e in results] == [None, None]
    assert sorted(calls) == [1, 2]  # PostgreSQL chose one victim; it ran once more


def test_without_retries_the_same_deadlock_fails_one_transaction():
    # the control: the test above would fail if the helper did not retry
    a, b = f.active_merchant().pk, f.active_merchant().pk
    results, calls = _crossed_lockers(a, b, attempts=1)
    errors = [e for _, e in results if e is not None]
    assert len(errors) == 1 and sqlstate_of(errors[0]) == DEADLOCK_DETECTED
    assert calls == [1, 1]


def _read_then_write_after_a_concurrent_commit(merchant, calls):
    """REPEATABLE READ: read the row, let another session change and commit it, then write it:
    the first try fails with 40001; a fresh try sees the new row and succeeds."""
    def fn():
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        name = Merchant.objects.get(pk=merchant.pk).legal_name
        if len(calls) == 1:
            other = Session(autocommit=True)
            other.execute("UPDATE merchants_merchant SET legal_name = legal_name || ' (renamed)' WHERE id = %s",
                          [merchant.pk])
            other.close()
        Merchant.objects.filter(pk=merchant.pk).update(legal_name=name + " +1")
        return name

    return fn


def test_a_serialization_failure_is_retried_from_a_fresh_snapshot():
    merchant = f.active_merchant(legal_name="Shop")
    calls = []
    seen = atomic_with_retry(_read_then_write_after_a_concurrent_commit(merchant, calls))
    assert len(calls) == 2 and seen == "Shop (renamed)"
    merchant.refresh_from_db()
    assert merchant.legal_name == "Shop (renamed) +1"  # the concurrent change was not lost


def test_inside_an_outer_transaction_it_runs_once_and_the_error_reaches_the_owner():
    merchant = f.active_merchant(legal_name="Shop")
    calls = []
    with pytest.raises(OperationalError) as caught:
        with transaction.atomic():
            atomic_with_retry(_read_then_write_after_a_concurrent_commit(merchant, calls))
    assert sqlstate_of(caught.value) == SERIALIZATION_FAILURE and len(calls) == 1
    merchant.refresh_from_db()
    assert merchant.legal_name == "Shop (renamed)"


def test_other_database_errors_are_not_retried():
    merchant = f.active_merchant()
    calls = []

    def impatient():
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '50ms'")
        Merchant.objects.select_for_update().get(pk=merchant.pk)

    with holding("SELECT id FROM merchants_merchant WHERE id = %s FOR UPDATE", [merchant.pk]):
        with pytest.raises(OperationalError) as caught:
            atomic_with_retry(impatient, attempts=5)
    assert sqlstate_of(caught.value) == "55P03" and len(calls) == 1  # lock_not_available


def test_retries_are_bounded():
    calls = []

    def always_conflicting():
        calls.append(1)
        with connection.cursor() as cursor:
            # A real serialization failure, every time: nothing to resolve, so it must stop.
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")

    with pytest.raises(OperationalError):
        atomic_with_retry(always_conflicting, attempts=3, pause=0)
    assert len(calls) == 3
