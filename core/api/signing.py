"""The request-signing scheme of API.md, in one place: the API verifies with it, webhooks and
channel notifications sign with it, and the `jianguan_client` package signs with it.

Standard library only (no Django), so the client can use it without a Django project.

Canonical string, lines joined by "\\n":
    METHOD            upper case
    PATH              the request path with its query string exactly as sent
    TIMESTAMP         as in X-Timestamp (Unix seconds)
    NONCE             as in X-Nonce
    BODY_SHA256       lowercase hex SHA-256 of the raw body bytes (of b"" for no body)
X-Signature is the lowercase hex HMAC-SHA256 of that string, keyed with the secret."""
import hashlib
import hmac
import re
import secrets
import time

APP_ID_HEADER = "X-App-Id"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
SIGNATURE_HEADER = "X-Signature"

MAX_SKEW_SECONDS = 300
NONCE_TTL_SECONDS = 600
NONCE_RE = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")
TIMESTAMP_RE = re.compile(r"\A[0-9]{1,12}\Z")
SIGNATURE_RE = re.compile(r"\A[0-9a-f]{64}\Z")


def _bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def body_digest(body) -> str:
    return hashlib.sha256(_bytes(body)).hexdigest()


def canonical_string(method: str, path: str, timestamp, nonce: str, body) -> str:
    return "\n".join([method.upper(), path, str(timestamp), nonce, body_digest(body)])


def sign(secret: str, method: str, path: str, timestamp, nonce: str, body) -> str:
    message = canonical_string(method, path, timestamp, nonce, body).encode("utf-8")
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison (as bytes, so non-ASCII input cannot raise)."""
    return hmac.compare_digest(_bytes(expected), _bytes(given))


def new_nonce() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]


def signed_headers(*, app_id: str, secret: str, method: str, path: str, body=b"", timestamp=None,
                   nonce: str | None = None) -> dict[str, str]:
    """The four authentication headers for one request (or one webhook delivery)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    return {
        APP_ID_HEADER: app_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, method, path, timestamp, nonce, body),
    }
