"""A signed POST's nonce and its Idempotency-Key claim in one round trip on PostgreSQL:
`core_api_claim`, a PL/pgSQL function (core.api.idempotency.claim_with_nonce calls it).

In one statement, so in one transaction and one durable commit:
1. the nonce, as core.api.authentication.consume_nonce records it: inserted, or reclaimed when its
   earlier use has left the replay window; seen within the window, nothing else happens
   (`nonce_ok` false, no lock taken, no record written);
2. the key's session advisory lock (pg_try_advisory_lock; `locked` false: a live request owns the
   key, the caller waits and polls as before);
3. the record, `ON CONFLICT DO NOTHING` on (merchant, key): inserted in progress (`created`), or the
   existing row's columns for Python to judge (replay, conflict, expiry, takeover of a dead
   owner), the lock still held.
The session lock outlives the statement (and a rollback): the caller releases it whenever it does
not end up owning the key, as it did after pg_try_advisory_lock on its own.

Migrations carry their own copy of the SQL they ran (core 0006); a change here goes with a new
migration, and tests/core/test_migrations.py checks a fresh migrate installs this text."""

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION core_api_claim(
        p_scope text, p_nonce text, p_now timestamptz, p_window_start timestamptz,
        p_lock_namespace integer, p_lock_key integer,
        p_merchant bigint, p_key text, p_fingerprint text, p_method text, p_path text,
        OUT nonce_ok boolean, OUT locked boolean, OUT created boolean, OUT record_id bigint,
        OUT fingerprint text, OUT status text, OUT response_status integer, OUT response_body text,
        OUT created_at timestamptz, OUT locked_at timestamptz)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    BEGIN
        INSERT INTO core_usednonce AS u (scope, nonce, created_at) VALUES (p_scope, p_nonce, p_now)
            ON CONFLICT (scope, nonce) DO UPDATE SET created_at = EXCLUDED.created_at
            WHERE u.created_at < p_window_start;
        nonce_ok := FOUND;
        locked := false;
        created := false;
        IF NOT nonce_ok THEN
            RETURN;
        END IF;
        locked := pg_try_advisory_lock(p_lock_namespace, p_lock_key);
        IF NOT locked THEN
            RETURN;
        END IF;
        INSERT INTO core_idempotencyrecord AS r
                (merchant_id, key, fingerprint, method, path, status, created_at, locked_at)
            VALUES (p_merchant, p_key, p_fingerprint, p_method, p_path, 'in_progress', p_now, p_now)
            ON CONFLICT (merchant_id, key) DO NOTHING
            RETURNING r.id INTO record_id;
        IF record_id IS NOT NULL THEN
            created := true;
            fingerprint := p_fingerprint;
            status := 'in_progress';
            created_at := p_now;
            locked_at := p_now;
            RETURN;
        END IF;
        SELECT r.id, r.fingerprint, r.status, r.response_status, r.response_body::text, r.created_at, r.locked_at
          INTO record_id, fingerprint, status, response_status, response_body, created_at, locked_at
          FROM core_idempotencyrecord r WHERE r.merchant_id = p_merchant AND r.key = p_key;
    END;
    $$;
    """,
]

REVERSE = [
    """DROP FUNCTION IF EXISTS core_api_claim(text, text, timestamptz, timestamptz, integer, integer, bigint,
                                              text, text, text, text);""",
]
