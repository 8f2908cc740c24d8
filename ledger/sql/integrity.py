"""Ledger invariants the database enforces itself (PostgreSQL), as they stand today:

- an entry's postings sum to zero: one statement-level trigger per INSERT on ledger_posting
  (ENTRIES_BALANCE, below);
- postings and entries are append-only (core.sql.immutable);
- a posting belongs to its entry's and its account's merchant: composite foreign keys on
  (merchant_id, id) (added by migration 0002), which also make the tables distributable by
  merchant.

Migrations carry their own copy of the SQL they ran (ledger 0002, 0005), so editing this text
rewrites no migration: a change here goes with a new migration that carries the new text, and
tests/core/test_migrations.py fails until a fresh migrate installs exactly what this module
defines."""


# An entry's postings sum to zero, checked once per INSERT statement on ledger_posting (a
# transition table holds the statement's rows): for every entry the statement touched, the
# statement's postings of that entry must sum to zero. That proves every entry balances, by
# induction: the postings an entry had before the statement summed to zero (each earlier
# statement was checked the same way, and the append-only triggers refuse UPDATE and DELETE), so
# the entry's total is the statement's part. It reads the transition table only (one hash
# aggregate, ~0.3 s for 200,000 rows): summing the entries' postings in ledger_posting itself
# took minutes when the planner, which has no statistics on a transition table, chose a bad join;
# a per-posting-row check at commit cost ~2-5 s of CPU for the 200,000 postings of a
# 100,000-line statement import. Every writer inserts an entry's postings in one statement
# (post_entry: one bulk_create; post_credits_bulk: one INSERT ... SELECT); postings of one entry
# split over two statements are refused unless each part balances by itself. The check is not
# deferrable: the refusal comes at the INSERT, in the same transaction, and rolls it back.
ENTRIES_BALANCE = [
    """
    CREATE OR REPLACE FUNCTION ledger_entries_must_balance() RETURNS trigger AS $$
    DECLARE bad_entry bigint; bad_total numeric;
    BEGIN
        SELECT entry_id, SUM(amount) INTO bad_entry, bad_total
        FROM ledger_new_postings
        GROUP BY entry_id
        HAVING SUM(amount) <> 0
        LIMIT 1;
        IF bad_entry IS NOT NULL THEN
            RAISE EXCEPTION 'journal entry % does not balance: postings sum to %', bad_entry, bad_total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER ledger_posting_entries_balance
        AFTER INSERT ON ledger_posting
        REFERENCING NEW TABLE AS ledger_new_postings
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_must_balance();
    """,
]
