"""A guaranteed payment's full release in one round trip on PostgreSQL: `ledger_release_payment`.

Python keeps the request (no amount, no splits: everything still held, as the buyer's confirmation
and the auto-release ask), the permission, the fingerprint, and afterwards the audit record and the
webhook event (ledger.services.releases; ledger.release_booking calls the function). A partial
release, one with splits, one a risk officer passed (`reviewed`) and every release of a merchant
with outflow rules keep the Python path. The function does, in the caller's transaction and in the
Python path's order:

1. the payment's row lock (FOR NO KEY UPDATE, as `locked_payment`); a release already booked under
   the same idempotency reference answers `replay` (same payment and fingerprint) or refuses;
2. the checks of `payment_release`: releasable (held or partially released), the merchant may move
   money, something is still held, no payee paid now is closed;
3. the shares, as `_shares` takes them for a full release: each split's held amount (split order)
   and the fee's held part (`fee_parts`: the fee less what the payment's totals say was refunded or
   released of it beyond the splits');
4. the accounts (escrow, the payees' available accounts, fee income when the fee's part is not
   zero); one missing answers `no_accounts` having written nothing, and Python opens it;
5. the entry (`payment-release:<payment id>:<sequence>`), then the balances, postings and deltas by
   `ledger_post_legs` (ledger.sql.legs), as ledger_book_payment moves them: escrow's debit
   unchecked (the payment's row lock covers its own remainder: posting's check=False), so it takes
   only a FOR SHARE read that sees a freeze and waits for one in flight;
6. the PaymentRelease row (shares [{"user_id", "amount"}]
   in split order), the splits and the payment (released, its release entry and time).

It answers what the audit record and the event need: the payment's row as it now stands, the status
it had, the release, its part, total, fee and shares. Refusals raise a JG SQLSTATE (ERRORS here and
in ledger.sql.booking); tests/ledger/test_booking_parity.py holds both paths to the same books."""

# SQLSTATE → the refusal it stands for, beside ledger.sql.booking.ERRORS (JGCLS, JGAFZ, JGNSF).
ERRORS = {
    "JGNOP": "payment_not_found",
    "JGIDC": "idempotency_conflict",
    "JGRLS": "not_releasable",  # MESSAGE: the payment's status
    "JGMCF": "merchant_frozen",
    "JGMCI": "merchant_inactive",
    "JGNIL": "nothing_held",
}

RELEASE_PAYMENT = [
    """
    CREATE OR REPLACE FUNCTION ledger_release_payment(
        p_payment bigint, p_ref text, p_fingerprint text, p_reason text,
        p_actor_kind text, p_actor_label text, p_actor_user integer, p_business_date date, p_now timestamptz,
        OUT o_outcome text, OUT o_from_status text,
        OUT o_merchant bigint, OUT o_order_no text, OUT o_payer bigint, OUT o_mode text, OUT o_amount numeric,
        OUT o_fee_total numeric, OUT o_refunded numeric, OUT o_released numeric, OUT o_description text,
        OUT o_status text, OUT o_fingerprint text, OUT o_entry bigint, OUT o_release_entry bigint,
        OUT o_auto_release_at timestamptz, OUT o_released_at timestamptz, OUT o_created_at timestamptz,
        OUT o_release bigint, OUT o_sequence integer, OUT o_total numeric, OUT o_fee numeric,
        OUT o_shares jsonb, OUT o_payees bigint[])
    LANGUAGE plpgsql AS $$
    DECLARE
        v_pay ledger_payment%ROWTYPE;
        v_merchant_status text; v_old record;
        v_splits bigint[]; v_held numeric[]; v_closed boolean;
        v_split_refunded numeric; v_split_released numeric;
        v_escrow bigint; v_fee_account bigint; v_available bigint[];
        v_accounts bigint[]; v_changes numeric[]; v_ref text;
    BEGIN
        -- 1. The payment, locked; a release already booked under the reference.
        SELECT * INTO v_pay FROM ledger_payment p WHERE p.id = p_payment FOR NO KEY UPDATE;
        IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'JGNOP', MESSAGE = 'payment_not_found'; END IF;
        o_from_status := v_pay.status;
        IF p_ref <> '' THEN
            SELECT r.payment_id, r.fingerprint INTO v_old FROM ledger_paymentrelease r
             WHERE r.merchant_id = v_pay.merchant_id AND r.idempotency_ref = p_ref;
            IF FOUND THEN
                IF v_old.payment_id <> v_pay.id OR v_old.fingerprint <> p_fingerprint THEN
                    RAISE EXCEPTION USING ERRCODE = 'JGIDC', MESSAGE = 'idempotency_conflict';
                END IF;
                o_outcome := 'replay';
            END IF;
        END IF;

        -- 2. The checks, in the Python path's order.
        IF o_outcome IS NULL THEN
            IF v_pay.status NOT IN ('held', 'partially_released') THEN
                RAISE EXCEPTION USING ERRCODE = 'JGRLS', MESSAGE = v_pay.status;
            END IF;
            SELECT m.status INTO v_merchant_status FROM merchants_merchant m WHERE m.id = v_pay.merchant_id;
            IF v_merchant_status = 'frozen' THEN
                RAISE EXCEPTION USING ERRCODE = 'JGMCF', MESSAGE = 'merchant_frozen';
            ELSIF v_merchant_status <> 'active' THEN
                RAISE EXCEPTION USING ERRCODE = 'JGMCI', MESSAGE = 'merchant_inactive';
            END IF;

            -- 3. The shares: each split's held amount, then the fee's held part.
            SELECT array_agg(s.id ORDER BY s.id),
                   array_agg(s.amount - s.released_amount - s.refunded_amount ORDER BY s.id),
                   coalesce(sum(s.refunded_amount), 0), coalesce(sum(s.released_amount), 0)
              INTO v_splits, v_held, v_split_refunded, v_split_released
              FROM ledger_paymentsplit s WHERE s.payment_id = v_pay.id;
            o_fee := v_pay.platform_fee - (v_pay.refunded_amount - v_split_refunded)
                     - (v_pay.released_amount - v_split_released);
            o_total := o_fee + (SELECT coalesce(sum(h), 0) FROM unnest(v_held) AS h);
            IF o_total = 0 THEN RAISE EXCEPTION USING ERRCODE = 'JGNIL', MESSAGE = 'nothing_held'; END IF;
            SELECT array_agg(s.payee_id ORDER BY s.id), coalesce(bool_or(m.status = 'closed'), false),
                   array_agg(a.id ORDER BY s.id),
                   jsonb_agg(jsonb_build_object('user_id', m.user_id, 'amount', u.held::text) ORDER BY s.id)
              INTO o_payees, v_closed, v_available, o_shares
              FROM unnest(v_splits, v_held) AS u(split, held)
              JOIN ledger_paymentsplit s ON s.id = u.split
              JOIN merchants_member m ON m.id = s.payee_id
              LEFT JOIN ledger_account a ON a.merchant_id = v_pay.merchant_id AND a.member_id = s.payee_id
                                        AND a.kind = 'member_available'
             WHERE u.held <> 0;
            IF v_closed THEN
                RAISE EXCEPTION USING ERRCODE = 'JGCLS', MESSAGE = 'payee_closed';
            END IF;

            -- 4. The accounts.
            SELECT a.id INTO v_escrow FROM ledger_account a
             WHERE a.merchant_id = v_pay.merchant_id AND a.member_id IS NULL AND a.kind = 'escrow';
            IF o_fee <> 0 THEN
                SELECT a.id INTO v_fee_account FROM ledger_account a
                 WHERE a.merchant_id = v_pay.merchant_id AND a.member_id IS NULL AND a.kind = 'fee_income';
            END IF;
            IF v_escrow IS NULL OR (o_fee <> 0 AND v_fee_account IS NULL)
               OR array_position(coalesce(v_available, '{}'), NULL) IS NOT NULL THEN
                o_outcome := 'no_accounts'; RETURN;
            END IF;
            o_outcome := 'released';
        END IF;

        IF o_outcome = 'released' THEN
            -- 5. The entry, then the balances in account-id order.
            SELECT count(*) + 1 INTO o_sequence FROM ledger_paymentrelease r WHERE r.payment_id = v_pay.id;
            INSERT INTO ledger_journalentry (merchant_id, entry_type, idempotency_ref, order_no, payer_id, payee_id,
                                             order_amount, description, actor_kind, actor_label, actor_user_id,
                                             business_date, created_at)
            VALUES (v_pay.merchant_id, 'payment_release', 'payment-release:' || v_pay.id || ':' || o_sequence,
                    v_pay.order_no, v_pay.payer_id, CASE WHEN cardinality(o_payees) = 1 THEN o_payees[1] END,
                    o_total, left(coalesce(nullif(p_reason, ''), v_pay.description), 255), p_actor_kind,
                    left(p_actor_label, 150), p_actor_user, p_business_date, p_now)
            RETURNING id INTO o_release_entry;
            v_accounts := v_escrow || coalesce(v_available, '{}');
            v_changes := ARRAY[-o_total] || coalesce(ARRAY(SELECT h FROM unnest(v_held) AS h WHERE h <> 0), '{}');
            IF o_fee <> 0 THEN
                v_accounts := v_accounts || v_fee_account;
                v_changes := v_changes || o_fee;
            END IF;
            -- The balances, the postings and the deltas (ledger.sql.legs): escrow's debit unchecked.
            PERFORM ledger_post_legs(v_pay.merchant_id, o_release_entry, v_accounts, v_changes,
                                     array_fill(false, ARRAY[cardinality(v_accounts)]));
            v_ref := coalesce(nullif(p_ref, ''), 'payment:' || v_pay.id || ':' || o_sequence);
            INSERT INTO ledger_paymentrelease (merchant_id, payment_id, sequence, amount, platform_fee, shares, reason,
                                               idempotency_ref, fingerprint, entry_id, created_at)
            VALUES (v_pay.merchant_id, v_pay.id, o_sequence, o_total, o_fee, coalesce(o_shares, '[]'), p_reason,
                    v_ref, p_fingerprint, o_release_entry, p_now)
            RETURNING id INTO o_release;
            UPDATE ledger_paymentsplit s SET released_amount = s.amount - s.refunded_amount
             WHERE s.id = ANY (v_splits) AND s.amount - s.released_amount - s.refunded_amount <> 0;
            UPDATE ledger_payment p SET released_amount = p.released_amount + o_total, status = 'released',
                                        release_entry_id = o_release_entry, released_at = p_now
             WHERE p.id = v_pay.id
            RETURNING * INTO v_pay;
        END IF;

        o_merchant := v_pay.merchant_id; o_order_no := v_pay.order_no; o_payer := v_pay.payer_id;
        o_mode := v_pay.mode; o_amount := v_pay.amount; o_fee_total := v_pay.platform_fee;
        o_refunded := v_pay.refunded_amount; o_released := v_pay.released_amount;
        o_description := v_pay.description; o_status := v_pay.status; o_fingerprint := v_pay.fingerprint;
        o_entry := v_pay.entry_id; o_release_entry := v_pay.release_entry_id;
        o_auto_release_at := v_pay.auto_release_at; o_released_at := v_pay.released_at;
        o_created_at := v_pay.created_at;
    END;
    $$;
    """,
]
RELEASE_PAYMENT_REVERSE = [
    "DROP FUNCTION IF EXISTS ledger_release_payment(bigint, text, text, text, text, text, integer, date, "
    "timestamptz);",
]
