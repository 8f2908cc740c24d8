"""The database itself refuses what would break the books (PostgreSQL)."""
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger.models import JournalEntry, Posting
from ledger.services import deposits
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _credited(merchant):
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="5.00",
                                  order_no="O1", method="offline_transfer")
    return deposits.deposit_credit(deposit=d, actor=None, amount="5.00", proof_kind="statement_line",
                                   proof_reference="R1")


def test_an_unbalanced_entry_is_refused_at_commit():
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    posting = Posting.objects.filter(entry=deposit.entry).first()
    with pytest.raises(DatabaseError, match="does not balance"):
        with transaction.atomic():
            entry = JournalEntry.objects.create(merchant=merchant, entry_type="adjustment", idempotency_ref="bad",
                                                actor_kind="system", actor_label="test",
                                                business_date=deposit.entry.business_date)
            Posting.objects.create(merchant=merchant, entry=entry, account_id=posting.account_id, amount=Decimal("1.00"))
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize("sql", [
    "UPDATE ledger_posting SET amount = amount * 2 WHERE entry_id = %s",
    "DELETE FROM ledger_posting WHERE entry_id = %s",
    "UPDATE ledger_journalentry SET order_no = 'x' WHERE id = %s",
    "DELETE FROM ledger_journalentry WHERE id = %s",
])
def test_postings_and_entries_cannot_be_changed_or_deleted(sql):
    merchant = f.active_merchant()
    deposit = _credited(merchant)
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [deposit.entry_id])


def test_audit_records_cannot_be_changed_or_deleted():
    f.active_merchant()
    for sql in ("UPDATE core_auditevent SET reason = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(IntegrityError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
