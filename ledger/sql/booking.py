"""Payments booked in one round trip on PostgreSQL: `ledger_book_payment`, a PL/pgSQL function.

Python keeps parsing and validation (ledger.services.payments: the request's grammar, the split
sums, the fingerprint, the merchant's status, the outflow rules — a merchant with rules keeps the
Python path, which offers the payment to them). The function then does, in the caller's
transaction and in this order, what the Python path does with ~15 statements:

1. the parties' current status, as `_check_parties` checks them (each member exists and belongs to
   the merchant; the payer is active, not frozen; no payee is closed). On a refusal, a payment
   already booked under the same order number with the same fingerprint is answered as a replay
   (booked before the party was frozen), another one as a duplicate order;
2. the accounts: the parties' available accounts and escrow or fee income. If one is missing (a
   member older than the ledger), it answers status `no_accounts` having written nothing; Python
   opens them and calls again;
3. the payment row, `ON CONFLICT DO NOTHING` on (merchant, order number): a concurrent request
   with the same number waits for this transaction, then finds the row and answers replay or
   duplicate — exactly one books. Its entry id is taken from the entry sequence up front (the
   foreign key is deferred to commit), so the payment is written once, never updated;
4. the splits, the journal entry (`payment:<payment id>`, as `book_payment` names it);
5. the balances, the postings and the hot accounts' deltas: `ledger_post_legs` (ledger.sql.legs),
   the payer's debit checked, as post_entry's legs are.

A refusal raises a stable SQLSTATE of class JG (below, ERRORS) that Python maps to the
ApplicationError family; the raise rolls back everything the call wrote. The triggers stay the
last word: balance per statement, append-only, composite merchant keys.

tests/ledger/test_booking_parity.py runs the same random movements through this function and the
Python path and requires identical books, statuses and errors. Migrations carry their own copy of
the SQL they ran (ledger 0015); tests/core/test_migrations.py checks a fresh migrate installs
exactly this text."""

# SQLSTATE → the refusal it stands for (ledger.services.payments maps them to ApplicationErrors).
ERRORS = {
    "JG404": "member_not_found",
    "JGMFZ": "member_frozen",
    "JGINA": "member_inactive",  # MESSAGE: the payer's status
    "JGCLS": "payee_closed",
    "JGDUP": "duplicate_order",
    "JGAFZ": "account_frozen",
    "JGNSF": "insufficient_funds",  # MESSAGE: the account's kind, or "" for a hot account
}

BOOK_PAYMENT = [
    """
    CREATE OR REPLACE FUNCTION ledger_book_payment(
        p_merchant bigint, p_order_no text, p_payer bigint, p_mode text, p_amount numeric, p_fee numeric,
        p_description text, p_fingerprint text, p_payees bigint[], p_shares numeric[],
        p_actor_kind text, p_actor_label text, p_actor_user integer, p_business_date date,
        p_now timestamptz, p_auto_release_at timestamptz,
        OUT payment_id bigint, OUT entry_id bigint, OUT created boolean, OUT status text,
        OUT split_ids bigint[])
    LANGUAGE plpgsql AS $$
    DECLARE
        v_guaranteed boolean := p_mode = 'guaranteed';
        v_found integer; v_payer_status text; v_payee_closed boolean; v_fail text;
        v_old record; v_members bigint[]; v_available bigint[]; v_platform bigint;
        v_accounts bigint[]; v_changes numeric[];
    BEGIN
        -- 1. The parties, now.
        SELECT count(*), max(m.status) FILTER (WHERE m.id = p_payer),
               coalesce(bool_or(m.status = 'closed') FILTER (WHERE m.id <> p_payer), false)
          INTO v_found, v_payer_status, v_payee_closed
          FROM merchants_member m WHERE m.id = ANY (p_payer || p_payees) AND m.merchant_id = p_merchant;
        IF v_found < 1 + cardinality(p_payees) THEN v_fail := 'JG404';
        ELSIF v_payer_status = 'frozen' THEN v_fail := 'JGMFZ';
        ELSIF v_payer_status <> 'active' THEN v_fail := 'JGINA';
        ELSIF v_payee_closed THEN v_fail := 'JGCLS';
        END IF;
        IF v_fail IS NULL THEN
            -- 2. The accounts.
            v_members := p_payer || (CASE WHEN v_guaranteed THEN '{}'::bigint[] ELSE p_payees END);
            SELECT array_agg(a.id ORDER BY x.n) INTO v_available
              FROM unnest(v_members) WITH ORDINALITY AS x(member, n)
              JOIN ledger_account a
                ON a.merchant_id = p_merchant AND a.member_id = x.member AND a.kind = 'member_available';
            IF coalesce(cardinality(v_available), 0) < cardinality(v_members) THEN
                status := 'no_accounts'; RETURN;
            END IF;
            v_accounts := v_available;
            v_changes := ARRAY[-p_amount] || (CASE WHEN v_guaranteed THEN '{}'::numeric[] ELSE p_shares END);
            IF v_guaranteed OR p_fee > 0 THEN
                SELECT a.id INTO v_platform FROM ledger_account a
                 WHERE a.merchant_id = p_merchant AND a.member_id IS NULL
                   AND a.kind = (CASE WHEN v_guaranteed THEN 'escrow' ELSE 'fee_income' END);
                IF NOT FOUND THEN status := 'no_accounts'; RETURN; END IF;
                v_accounts := v_accounts || v_platform;
                v_changes := v_changes || (CASE WHEN v_guaranteed THEN p_amount ELSE p_fee END);
            END IF;

            -- 3. The payment, once per order number.
            entry_id := nextval(pg_get_serial_sequence('ledger_journalentry', 'id'));
            status := CASE WHEN v_guaranteed THEN 'held' ELSE 'settled' END;
            INSERT INTO ledger_payment (merchant_id, order_no, payer_id, mode, amount, platform_fee, refunded_amount,
                                        released_amount, description, status, fingerprint, entry_id, auto_release_at,
                                        created_at)
            VALUES (p_merchant, p_order_no, p_payer, p_mode, p_amount, p_fee, 0, 0, p_description, status,
                    p_fingerprint, entry_id, CASE WHEN v_guaranteed THEN p_auto_release_at END, p_now)
            ON CONFLICT ON CONSTRAINT payment_order_no_unique_per_merchant DO NOTHING
            RETURNING id INTO payment_id;
        END IF;

        -- A refused party, or the order number taken (a concurrent insert waited for): the payment
        -- booked first under it answers, as a replay of the same request or a duplicate order.
        IF payment_id IS NULL THEN
            SELECT p.id, p.entry_id, p.status, p.fingerprint INTO v_old FROM ledger_payment p
             WHERE p.merchant_id = p_merchant AND p.order_no = p_order_no;
            IF FOUND AND v_old.fingerprint = p_fingerprint THEN
                payment_id := v_old.id; entry_id := v_old.entry_id; created := false; status := v_old.status;
                RETURN;
            END IF;
            RAISE EXCEPTION USING ERRCODE = CASE WHEN FOUND OR v_fail IS NULL THEN 'JGDUP' ELSE v_fail END,
                                  MESSAGE = coalesce(v_payer_status, '');
        END IF;
        created := true;

        -- 4. The splits and the entry.
        WITH s AS (
            INSERT INTO ledger_paymentsplit (merchant_id, payment_id, payee_id, amount, refunded_amount,
                                             released_amount)
            SELECT p_merchant, payment_id, u.payee, u.share, 0, 0 FROM unnest(p_payees, p_shares) AS u(payee, share)
            RETURNING id, payee_id)
        SELECT array_agg(s.id ORDER BY array_position(p_payees, s.payee_id)) INTO split_ids FROM s;
        INSERT INTO ledger_journalentry (id, merchant_id, entry_type, idempotency_ref, order_no, payer_id, payee_id,
                                         order_amount, description, actor_kind, actor_label, actor_user_id,
                                         business_date, created_at)
        VALUES (entry_id, p_merchant, CASE WHEN v_guaranteed THEN 'payment_hold' ELSE 'payment' END,
                'payment:' || payment_id, p_order_no, p_payer,
                CASE WHEN cardinality(p_payees) = 1 THEN p_payees[1] END, p_amount, left(p_description, 255),
                p_actor_kind, left(p_actor_label, 150), p_actor_user, p_business_date, p_now);

        -- 5. The balances, the postings and the deltas (ledger.sql.legs); the payer's debit is checked.
        PERFORM ledger_post_legs(p_merchant, entry_id, v_accounts, v_changes,
                                 array_fill(true, ARRAY[cardinality(v_accounts)]));
    END;
    $$;
    """,
]
BOOK_PAYMENT_REVERSE = [
    "DROP FUNCTION IF EXISTS ledger_book_payment(bigint, text, bigint, text, numeric, numeric, text, text, "
    "bigint[], numeric[], text, text, integer, date, timestamptz, timestamptz);",
]
