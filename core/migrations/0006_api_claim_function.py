"""The signed POST's nonce and Idempotency-Key claim in one round trip: the PL/pgSQL function
core_api_claim (core.sql.api_claim; the SQL below is this migration's own copy, as it ran).
Reversible: the reverse drops the function, and core.api keeps the two-step path. Nothing on
SQLite (the quick start keeps the two-step path)."""
from django.db import migrations

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


def forward(apps, schema_editor):
    _run(schema_editor, FORWARD)


def reverse(apps, schema_editor):
    _run(schema_editor, REVERSE)


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_truncate_left_to_owner")]

    operations = [migrations.RunPython(forward, reverse)]
