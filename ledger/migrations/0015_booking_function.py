"""Payments booked in one round trip on PostgreSQL: the booking function ledger_book_payment
(ledger.sql.booking) and the legs' balances and postings it shares with the release
(ledger_post_legs, ledger.sql.legs); the SQL below is this migration's own copy, as it ran.
Reversible: the reverse drops both functions, and ledger.services.payments keeps the Python path."""
from django.db import migrations

POST_LEGS_FORWARD = [
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

BOOK_PAYMENT_FORWARD = [
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


def run(statements):
    """On PostgreSQL only, executed without parameters (a literal % in plpgsql needs no escaping)."""

    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return operation


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0014_platform_deposit'),
    ]

    operations = [
        migrations.RunPython(run(POST_LEGS_FORWARD + BOOK_PAYMENT_FORWARD),
                             run(BOOK_PAYMENT_REVERSE + POST_LEGS_REVERSE)),
    ]
