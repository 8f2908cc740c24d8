"""The entry-balance check runs once per INSERT statement on ledger_posting (PostgreSQL): it
must still refuse every way of leaving an entry unbalanced."""
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import JournalEntry, Posting
from ledger.services import deposits
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _credited(merchant):
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="5.00",
                                  order_no="O1", method="offline_transfer")
    return deposits.deposit_credit(deposit=d, actor=None, amount="5.00", proof_kind="statement_line",
                                   proof_reference="R1")


def _entry(merchant, ref, day):
    return JournalEntry.objects.create(merchant=merchant, entry_type="adjustment", idempotency_ref=ref,
                                       actor_kind="system", actor_label="test", business_date=day)


def _insert(rows):
    """One INSERT statement of (merchant, entry, account, amount) rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_posting (merchant_id, entry_id, account_id, amount) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::numeric[])",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]])


def test_postings_of_one_entry_split_over_two_statements_are_refused():
    # given an entry whose two legs would balance together
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    a, b = Posting.objects.filter(entry=deposit.entry).values_list("account_id", flat=True)
    # when they are inserted in two statements, then the first one is refused: no part of an
    # entry may stand unbalanced, even until a later statement
    with pytest.raises(DatabaseError, match="does not balance"):
        with transaction.atomic():
            entry = _entry(merchant, "split", deposit.entry.business_date)
            _insert([(merchant.pk, entry.pk, a, Decimal("1.00"))])
            _insert([(merchant.pk, entry.pk, b, Decimal("-1.00"))])
    assert not JournalEntry.objects.filter(merchant=merchant, idempotency_ref="split").exists()


def test_a_posting_added_later_to_a_balanced_entry_is_refused():
    # given a booked, balanced entry
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    account = Posting.objects.filter(entry=deposit.entry).values_list("account_id", flat=True).first()
    # when one more posting is inserted on it in a later statement, then it is refused
    with pytest.raises(DatabaseError, match=f"journal entry {deposit.entry_id} does not balance"):
        with transaction.atomic():
            _insert([(merchant.pk, deposit.entry_id, account, Decimal("1.00"))])
    assert Posting.objects.filter(entry=deposit.entry).count() == 2


def test_one_unbalanced_entry_among_many_in_one_statement_is_refused():
    # given a statement that books many balanced entries and one unbalanced one
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    a, b = Posting.objects.filter(entry=deposit.entry).values_list("account_id", flat=True)
    with pytest.raises(DatabaseError, match="does not balance: postings sum to 0.01"):
        with transaction.atomic():
            rows = []
            for i in range(50):
                entry = _entry(merchant, f"many-{i}", deposit.entry.business_date)
                rows += [(merchant.pk, entry.pk, a, Decimal("3.00")),
                         (merchant.pk, entry.pk, b, Decimal("-3.00") if i != 37 else Decimal("-2.99"))]
            _insert(rows)
    # then nothing of it stays
    assert not JournalEntry.objects.filter(merchant=merchant, idempotency_ref__startswith="many-").exists()


def test_balanced_entries_in_one_statement_are_accepted():
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    a, b = Posting.objects.filter(entry=deposit.entry).values_list("account_id", flat=True)
    with transaction.atomic():
        rows = []
        for i in range(3):
            entry = _entry(merchant, f"ok-{i}", deposit.entry.business_date)
            rows += [(merchant.pk, entry.pk, a, Decimal("2.00")), (merchant.pk, entry.pk, b, Decimal("-2.00"))]
        _insert(rows)
    assert Posting.objects.filter(entry__idempotency_ref__startswith="ok-").count() == 6
