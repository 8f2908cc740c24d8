"""Re-proving the books from the rows themselves: the audit hash chain, every entry's
balance, every materialised balance against its postings, and total = sum of parts."""
from dataclasses import dataclass

from django.db import connection

from core.audit import verify_chain
from merchants.models import Merchant

from .selectors import prove_merchant


@dataclass
class Break:
    check: str
    where: str
    detail: str

    def __str__(self):
        return f"{self.check}: {self.where}: {self.detail}"


def unbalanced_entries(merchant_id=None, limit=10):
    sql = ("SELECT entry_id, SUM(amount) FROM ledger_posting {where} GROUP BY entry_id "
           "HAVING SUM(amount) <> 0 ORDER BY entry_id LIMIT %s")
    where, params = ("WHERE merchant_id = %s", [merchant_id]) if merchant_id else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(sql.format(where=where), params + [limit])
        return cursor.fetchall()


def entries_without_postings(merchant_id=None, limit=10):
    sql = ("SELECT e.id FROM ledger_journalentry e WHERE NOT EXISTS "
           "(SELECT 1 FROM ledger_posting p WHERE p.entry_id = e.id) {and_merchant} ORDER BY e.id LIMIT %s")
    and_merchant, params = ("AND e.merchant_id = %s", [merchant_id]) if merchant_id else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(sql.format(and_merchant=and_merchant), params + [limit])
        return [row[0] for row in cursor.fetchall()]


def first_break(merchant: Merchant | None = None) -> Break | None:
    broken = verify_chain()
    if broken:
        return Break("audit chain", f"audit event #{broken[0]}", broken[1])
    merchant_id = merchant.pk if merchant else None
    for entry_id, total in unbalanced_entries(merchant_id, limit=1):
        return Break("entry balance", f"journal entry #{entry_id}", f"postings sum to {total}, not 0")
    for entry_id in entries_without_postings(merchant_id, limit=1):
        return Break("entry balance", f"journal entry #{entry_id}", "has no postings")
    merchants = [merchant] if merchant else Merchant.objects.filter(accounts__isnull=False).distinct().order_by("pk")
    for m in merchants:
        proof = prove_merchant(m)
        if proof.mismatched_accounts:
            account_id, balance, posted = proof.mismatched_accounts[0]
            return Break("materialised balance", f"merchant {m.code}, account #{account_id}",
                         f"balance {balance} but postings sum to {posted}")
        if not proof.totals_balance:
            return Break("total = sum of parts", f"merchant {m.code}",
                         f"supervision {proof.supervision_balance} ≠ virtual total {proof.virtual_total}")
    return None
