"""Statement lines on disk: which references an account already has, and writing a chunk of
new lines with their outcome (COPY on PostgreSQL). Used by services.imports only."""
from django.db import connection
from django.utils import timezone

from core.sql.arrays import pg_array

from ..models import StatementBatch, StatementLine

LINES_PER_CHUNK = 2000

COLUMNS = ("merchant_id", "batch_id", "account_number", "created_at", "reason", "line_no", "bank_reference",
           "value_date", "business_date", "amount", "counterparty_name", "counterparty_account", "counterparty_bank",
           "remark", "balance", "status", "note", "candidate_deposit_id", "deposit_id", "withdrawal_id", "member_id",
           "entry_id", "suspense_entry_id")


def already_imported(batch: StatementBatch, references: set) -> set:
    if connection.vendor == "postgresql":  # one array parameter, not 2,000 (binding them costs more than the query)
        with connection.cursor() as cursor:
            cursor.execute("SELECT bank_reference FROM reconciliation_statementline WHERE merchant_id = %s "
                           "AND account_number = %s AND bank_reference = ANY(%s::text[])",
                           [batch.merchant_id, batch.account_number, pg_array(references)])
            return {row[0] for row in cursor.fetchall()}
    return set(StatementLine.objects.filter(
        merchant_id=batch.merchant_id, account_number=batch.account_number, bank_reference__in=references,
    ).values_list("bank_reference", flat=True))


def insert_lines(batch: StatementBatch, lines: list):
    """COPY on PostgreSQL (no model instances: 100,000 lines in about a second); bulk_create
    elsewhere. Each line is written once, with its outcome."""
    fixed = (batch.merchant_id, batch.pk, batch.account_number, timezone.now(), "")
    rows = [fixed + (x.line_no, x.bank_reference, x.value_date, x.business_date, x.amount, x.counterparty_name,
                     x.counterparty_account, x.counterparty_bank, x.remark, x.balance, x.status, x.note,
                     x.candidate_deposit_id, x.deposit_id, x.withdrawal_id, x.member_id, x.entry_id,
                     x.suspense_entry_id) for x in lines]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY reconciliation_statementline ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    StatementLine.objects.bulk_create([StatementLine(**dict(zip(COLUMNS, row))) for row in rows],
                                      batch_size=LINES_PER_CHUNK)
