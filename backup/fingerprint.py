"""What must be identical between a database and its restored copy, computed in SQL on either.

Plain SQL over psycopg (no Django): the same queries run on the source inside the dump's
snapshot and on the copy. Digests are md5 of the rows in primary-key order — a check of
identity between two copies, not a security measure (the audit chain's own SHA-256 hashes
are part of what is digested)."""
import psycopg

QUERIES = {
    # The audit trail: its length, its head, and every record's hash in order (each hash covers
    # the record's content and the previous hash, so this is the whole chain).
    "audit": """SELECT count(*), COALESCE(max(id), 0),
                       COALESCE((SELECT hash FROM core_auditevent ORDER BY id DESC LIMIT 1), ''),
                       md5(COALESCE(string_agg(hash, ',' ORDER BY id), ''))
                FROM core_auditevent""",
    "journal": """SELECT count(*), COALESCE(max(id), 0) FROM ledger_journalentry""",
    "postings": """SELECT count(*), COALESCE(sum(amount), 0)::text, COALESCE(sum(abs(amount)), 0)::text
                   FROM ledger_posting""",
    # Every account's materialised balance, and the hot deltas not yet rolled up.
    "accounts": """SELECT count(*), md5(COALESCE(string_agg(id || ':' || balance, ',' ORDER BY id), ''))
                   FROM ledger_account""",
    "hot_deltas": """SELECT count(*), md5(COALESCE(string_agg(account_id || ':' || total, ',' ORDER BY account_id), ''))
                     FROM (SELECT account_id, sum(change) AS total FROM ledger_hotbalancedelta
                           GROUP BY account_id) d""",
    # Every account's sum of postings (what verify_integrity proves balances against).
    "posted": """SELECT count(*), md5(COALESCE(string_agg(account_id || ':' || total, ',' ORDER BY account_id), ''))
                 FROM (SELECT account_id, sum(amount) AS total FROM ledger_posting GROUP BY account_id) p""",
    "statement_lines": """SELECT count(*), COALESCE(max(id), 0) FROM reconciliation_statementline""",
}
# Readable beside the digests: each merchant's supervision balance now (materialised + deltas).
SUPERVISION_SQL = """
SELECT m.code, (a.balance + COALESCE((SELECT sum(change) FROM ledger_hotbalancedelta d
                                      WHERE d.account_id = a.id), 0))::text
FROM ledger_account a JOIN merchants_merchant m ON m.id = a.merchant_id
WHERE a.kind = 'supervision' AND a.member_id IS NULL ORDER BY m.code"""


def fingerprint(conn: psycopg.Connection) -> dict:
    """The fingerprint, read in the connection's current transaction (its snapshot)."""
    result = {}
    with conn.cursor() as cursor:
        for name, sql in QUERIES.items():
            cursor.execute(sql)
            result[name] = [str(v) for v in cursor.fetchone()]
        cursor.execute(SUPERVISION_SQL)
        result["supervision_balances"] = {code: balance for code, balance in cursor.fetchall()}
    return result


def differences(source: dict, copy: dict) -> list[str]:
    """What differs, one line per part; empty when identical."""
    out = []
    for key in sorted(set(source) | set(copy)):
        if source.get(key) != copy.get(key):
            out.append(f"{key}: source {source.get(key)!r}, copy {copy.get(key)!r}")
    return out
