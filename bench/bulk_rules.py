"""Loading history without the per-row triggers, and proving afterwards that it obeys them.

A superuser (the benchmark's throwaway cluster, the test database) may load a merchant's history
with the ordinary triggers off for the loading transaction, as pg_restore does; the rules those
triggers enforce are then checked set-based over the whole merchant (`verify_history`). Anyone
else loads with the triggers on."""
from django.db import connection


def can_bulk_load() -> bool:
    """A superuser may load with the per-row triggers off (as pg_restore does); the same rules
    are then checked set-based at the end (verify_history). Anyone else loads with them on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def bulk_mode(bulk: bool):
    # session_replication_role = replica skips ordinary triggers, foreign-key checks included,
    # for this transaction only: one statement per table instead of ~15 trigger calls per payment.
    if bulk:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


# What the triggers would have refused, checked over the whole merchant at once.
_HISTORY_CHECKS = {
    "entries whose postings do not sum to zero":
        "SELECT count(*) FROM (SELECT entry_id FROM ledger_posting WHERE merchant_id = %(m)s "
        "GROUP BY entry_id HAVING sum(amount) <> 0) x",
    "postings whose entry is not the merchant's":
        "SELECT count(*) FROM ledger_posting p LEFT JOIN ledger_journalentry e "
        "ON e.id = p.entry_id AND e.merchant_id = p.merchant_id WHERE p.merchant_id = %(m)s AND e.id IS NULL",
    "postings whose account is not the merchant's":
        "SELECT count(*) FROM ledger_posting p LEFT JOIN ledger_account a "
        "ON a.id = p.account_id AND a.merchant_id = p.merchant_id WHERE p.merchant_id = %(m)s AND a.id IS NULL",
    "postings with a zero amount or a negative balance after":
        "SELECT count(*) FROM ledger_posting WHERE merchant_id = %(m)s AND (amount = 0 OR balance_after < 0)",
    "payments whose entry is missing or another's":
        "SELECT count(*) FROM ledger_payment p LEFT JOIN ledger_journalentry e "
        "ON e.id = p.entry_id AND e.merchant_id = p.merchant_id WHERE p.merchant_id = %(m)s AND e.id IS NULL",
    "payments whose splits plus fee are not the amount":
        "SELECT count(*) FROM ledger_payment p LEFT JOIN (SELECT payment_id, sum(amount) AS s FROM ledger_paymentsplit "
        "WHERE merchant_id = %(m)s GROUP BY payment_id) s ON s.payment_id = p.id "
        "WHERE p.merchant_id = %(m)s AND coalesce(s.s, 0) + p.platform_fee <> p.amount",
    "splits or entries naming a member of another merchant":
        "SELECT (SELECT count(*) FROM ledger_paymentsplit s JOIN merchants_member m ON m.id = s.payee_id "
        "        WHERE s.merchant_id = %(m)s AND m.merchant_id <> s.merchant_id)"
        " + (SELECT count(*) FROM ledger_journalentry e JOIN merchants_member m ON m.id IN (e.payer_id, e.payee_id) "
        "    WHERE e.merchant_id = %(m)s AND m.merchant_id <> e.merchant_id)",
}


def verify_history(merchant) -> list[str]:
    problems = []
    with connection.cursor() as cursor:
        for what, sql in _HISTORY_CHECKS.items():
            cursor.execute(sql, {"m": merchant.pk})
            n = cursor.fetchone()[0]
            if n:
                problems.append(f"{n} {what}")
    return problems
