"""Ledger invariants the database enforces itself (PostgreSQL), loaded by migrations.

- an entry's postings sum to zero: FORWARD (0002) checked it with a deferred per-posting-row
  constraint trigger (one SUM query per posting row at commit: ~2-5 s of CPU for the
  200,000 postings of a 100,000-line statement import); STATEMENT_BALANCE_FORWARD (0005)
  replaces it with one statement-level trigger per INSERT, below;
- postings and entries are append-only (core.sql.immutable);
- a posting belongs to its entry's and its account's merchant: composite foreign keys on
  (merchant_id, id), which also make the tables distributable by merchant."""

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger AS $$
    DECLARE total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_posting WHERE entry_id = NEW.entry_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance: postings sum to %', NEW.entry_id, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_entry_balances
        AFTER INSERT ON ledger_posting
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
    """,
    """ALTER TABLE ledger_posting ADD CONSTRAINT posting_entry_same_merchant
        FOREIGN KEY (merchant_id, entry_id) REFERENCES ledger_journalentry (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
    """ALTER TABLE ledger_posting ADD CONSTRAINT posting_account_same_merchant
        FOREIGN KEY (merchant_id, account_id) REFERENCES ledger_account (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
    """ALTER TABLE ledger_hotbalancedelta ADD CONSTRAINT hotdelta_account_same_merchant
        FOREIGN KEY (merchant_id, account_id) REFERENCES ledger_account (merchant_id, id)
        DEFERRABLE INITIALLY DEFERRED;""",
]

REVERSE = [
    "ALTER TABLE ledger_hotbalancedelta DROP CONSTRAINT IF EXISTS hotdelta_account_same_merchant;",
    "ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS posting_account_same_merchant;",
    "ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS posting_entry_same_merchant;",
    "DROP TRIGGER IF EXISTS ledger_posting_entry_balances ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entry_must_balance();",
]


# An entry's postings sum to zero, checked once per INSERT statement on ledger_posting (a
# transition table holds the statement's rows), no longer once per posting row at commit: for
# every entry the statement touched, the statement's postings of that entry must sum to zero.
# That proves every entry balances, by induction: the postings an entry had before the
# statement summed to zero (each earlier statement was checked the same way, and the
# append-only triggers refuse UPDATE and DELETE), so the entry's total is the statement's part.
# It reads the transition table only (one hash aggregate, ~0.3 s for 200,000 rows): summing the
# entries' postings in ledger_posting itself took minutes when the planner, which has no
# statistics on a transition table, chose a bad join. Every writer inserts an entry's postings
# in one statement (post_entry: one bulk_create; post_credits_bulk: one INSERT ... SELECT);
# postings of one entry split over two statements are refused unless each part balances by
# itself. The check is no longer deferrable: the refusal comes at the INSERT, in the same
# transaction, and rolls it back all the same.
STATEMENT_BALANCE_FORWARD = [
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
    "DROP TRIGGER IF EXISTS ledger_posting_entry_balances ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entry_must_balance();",
]

STATEMENT_BALANCE_REVERSE = FORWARD[:2] + [
    "DROP TRIGGER IF EXISTS ledger_posting_entries_balance ON ledger_posting;",
    "DROP FUNCTION IF EXISTS ledger_entries_must_balance();",
]
