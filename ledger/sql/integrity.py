"""Ledger invariants the database enforces itself (PostgreSQL), as they stand today:

- an entry's postings sum to zero: one statement-level trigger per INSERT on ledger_posting
  (ENTRIES_BALANCE, below);
- postings and entries are append-only (core.sql.immutable);
- a posting belongs to its entry's and its account's merchant: composite foreign keys on
  (merchant_id, id) (added by migration 0002), which also make the tables distributable by
  merchant;
- the risk reserve is debited only by a compensation or a release (RESERVE_DEBIT_GUARD, below;
  migration 0012).

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


# The risk reserve (风险保证金) never pays for the platform: a reserve account's balance may fall only
# while the transaction names, in the setting jianguan.reserve_entry, a compensation or release entry
# of the same merchant that is being booked right now (inserted, its postings not yet). The posting
# engine sets it for exactly those entry types (ledger.posting.post_entry) just before it moves the
# balances and inserts the postings, so every other writer — a payment, a release, a withdrawal, a fee
# move, a reversal, or SQL written by hand — is refused by the database itself. The WHEN clause is
# evaluated without calling the function: no other account's UPDATE pays for the guard.
RESERVE_DEBIT_GUARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_reserve_debit_guard() RETURNS trigger AS $$
    DECLARE declared text; entry_kind text;
    BEGIN
        declared := current_setting('jianguan.reserve_entry', true);
        IF declared IS NOT NULL AND declared <> '' THEN
            SELECT e.entry_type INTO entry_kind FROM ledger_journalentry e
            WHERE e.id = declared::bigint AND e.merchant_id = NEW.merchant_id
              AND NOT EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = e.id);
        END IF;
        IF entry_kind IS NULL OR entry_kind NOT IN ('reserve_compensation', 'reserve_release') THEN
            RAISE EXCEPTION 'risk reserve account % may be debited only by a compensation or a release', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER ledger_account_reserve_debit_guard
        BEFORE UPDATE OF balance ON ledger_account
        FOR EACH ROW WHEN (NEW.kind = 'risk_reserve' AND NEW.balance < OLD.balance)
        EXECUTE FUNCTION ledger_reserve_debit_guard();
    """,
]
