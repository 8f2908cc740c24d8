"""The balances of an entry's legs and its postings, on PostgreSQL: `ledger_post_legs`, called by the
booking functions (ledger.sql.booking: payments; ledger.sql.release: releases) once they have
inserted the entry, as ledger.posting.post_entry moves them in Python:

- in account-id order (two movements never deadlock);
- an ordinary account by one conditional UPDATE returning its balance after (a debit that would
  overdraw it or take from a frozen one matches no row and is refused: JGNSF with the account's kind, or
  JGAFZ);
- a hot account (`is_hot`: supervision, escrow, fee income, busy members) takes a credit as a
  HotBalanceDelta without a lock; a checked debit (`p_checked`: a payer spending their own money)
  locks its row and checks the balance plus its pending deltas (JGNSF with no kind); an unchecked one
  (escrow paying out a payment's own remainder, covered by the payment's row lock) only reads the
  freeze under a shared lock, which waits for a freeze in flight and lets releases run side by side;
- a movement goes by the flag it reads under the row's lock: an account made ordinary meanwhile
  takes the UPDATE, and the UPDATE matches no row of an account made hot meanwhile, which then goes
  the hot way (ledger.services.hot_flagging flips the flag): no balance after is stored without the
  account's pending deltas;
- then the postings in one INSERT (ENTRIES_BALANCE checks that statement sums to zero), each with
  the balance after for an ordinary account, and the hot accounts' deltas in another.

A posting's amount is the change times the account's natural sign (+1 for the supervision asset,
−1 for every liability). Migrations carry their own copy of this SQL (ledger 0015)."""

POST_LEGS = [
    """
    CREATE OR REPLACE FUNCTION ledger_post_legs(p_merchant bigint, p_entry bigint, p_accounts bigint[],
                                                p_changes numeric[], p_checked boolean[]) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        v_leg record; v_row record; v_balance numeric; v_pending numeric; v_at integer; v_is_hot boolean;
        v_after numeric[] := array_fill(NULL::numeric, ARRAY[cardinality(p_accounts)]);
        v_hot boolean[] := array_fill(false, ARRAY[cardinality(p_accounts)]);
        v_sign integer[] := array_fill(-1, ARRAY[cardinality(p_accounts)]);
    BEGIN
        FOR v_leg IN
            SELECT u.account, u.change, u.checked, a.is_hot, a.kind
              FROM unnest(p_accounts, p_changes, p_checked) AS u(account, change, checked)
              JOIN ledger_account a ON a.id = u.account ORDER BY u.account
        LOOP
            v_at := array_position(p_accounts, v_leg.account);
            IF v_leg.kind = 'supervision' THEN v_sign[v_at] := 1; END IF;
            v_is_hot := v_leg.is_hot;
            LOOP
                IF v_is_hot AND v_leg.change > 0 THEN
                    v_hot[v_at] := true;
                    EXIT;
                ELSIF v_is_hot AND NOT v_leg.checked THEN
                    SELECT a.frozen, a.is_hot INTO v_row FROM ledger_account a WHERE a.id = v_leg.account FOR SHARE;
                    IF v_row.frozen THEN RAISE EXCEPTION USING ERRCODE = 'JGAFZ', MESSAGE = 'account_frozen'; END IF;
                    IF v_row.is_hot THEN
                        v_hot[v_at] := true;
                        EXIT;
                    END IF;
                    v_is_hot := false;  -- made ordinary, its deltas folded: the conditional UPDATE
                ELSIF v_is_hot THEN
                    SELECT a.balance, a.frozen, a.is_hot INTO v_row FROM ledger_account a
                     WHERE a.id = v_leg.account FOR NO KEY UPDATE;
                    IF v_row.is_hot THEN
                        IF v_row.frozen THEN RAISE EXCEPTION USING ERRCODE = 'JGAFZ', MESSAGE = 'account_frozen'; END IF;
                        SELECT coalesce(sum(d.change), 0) INTO v_pending FROM ledger_hotbalancedelta d
                         WHERE d.account_id = v_leg.account;
                        IF v_row.balance + v_pending + v_leg.change < 0 THEN
                            RAISE EXCEPTION USING ERRCODE = 'JGNSF', MESSAGE = '';
                        END IF;
                        v_hot[v_at] := true;
                        EXIT;
                    END IF;
                    v_is_hot := false;  -- made ordinary, its deltas folded: the conditional UPDATE
                ELSE
                    UPDATE ledger_account a SET balance = a.balance + v_leg.change
                     WHERE a.id = v_leg.account AND a.balance + v_leg.change >= 0
                       AND (v_leg.change > 0 OR NOT a.frozen) AND NOT a.is_hot
                    RETURNING a.balance INTO v_balance;
                    IF FOUND THEN
                        v_after[v_at] := v_balance;
                        EXIT;
                    END IF;
                    SELECT a.frozen, a.is_hot INTO v_row FROM ledger_account a WHERE a.id = v_leg.account;
                    IF v_row.is_hot THEN
                        v_is_hot := true;  -- made hot: a credit is a delta, a debit counts its pending deltas
                        CONTINUE;
                    END IF;
                    IF v_row.frozen AND v_leg.change < 0 THEN
                        RAISE EXCEPTION USING ERRCODE = 'JGAFZ', MESSAGE = 'account_frozen';
                    END IF;
                    RAISE EXCEPTION USING ERRCODE = 'JGNSF', MESSAGE = v_leg.kind;
                END IF;
            END LOOP;
        END LOOP;
        INSERT INTO ledger_posting (merchant_id, entry_id, account_id, amount, balance_after)
        SELECT p_merchant, p_entry, u.account, u.sign * u.change, u.after
          FROM unnest(p_accounts, p_changes, v_after, v_sign) AS u(account, change, after, sign);
        INSERT INTO ledger_hotbalancedelta (merchant_id, account_id, change)
        SELECT p_merchant, u.account, u.change
          FROM unnest(p_accounts, p_changes, v_hot) AS u(account, change, hot) WHERE u.hot;
    END;
    $$;
    """,
]
POST_LEGS_REVERSE = [
    "DROP FUNCTION IF EXISTS ledger_post_legs(bigint, bigint, bigint[], numeric[], boolean[]);",
]
