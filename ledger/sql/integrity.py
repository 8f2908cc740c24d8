"""Ledger invariants the database enforces itself (PostgreSQL), loaded by a migration.

- an entry's postings sum to zero: a deferred constraint trigger checked at commit;
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
