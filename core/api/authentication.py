"""Signed-request authentication (API.md, "Authentication: signed requests").

Checks, in this order, each failure a 401 `unauthenticated` whose details name only the
reason (`unknown_app`, `timestamp_skew`, `signature_mismatch`, `nonce_reused`):
1. X-App-Id names a known app (`unknown_app`);
2. X-Timestamp is whole Unix seconds within ±300 s of the server clock (`timestamp_skew`);
3. X-Nonce is 16–64 of [A-Za-z0-9_-] and X-Signature is 64 hex digits, and the signature
   matches under one of the app's unexpired secrets, compared in constant time
   (`signature_mismatch`); every secret is tried, so a rotation's overlap window works;
4. the nonce was not used by this app within 10 minutes (`nonce_reused`). It is recorded
   only after the signature is proven, so nobody can burn another app's nonces.

Nonces live in the database (core.models.UsedNonce, unique per app and nonce), so "accepted
once" holds across every web process; rows older than the window are reclaimed on reuse and
purged now and then. On PostgreSQL an idempotent POST records its nonce in the statement that
claims its Idempotency-Key (DEFER_NONCE below, core.api.idempotency): one round trip and one
commit fewer, the same answers.

The class is generic: `credentials(app_id)` returns (principal, [secrets]) or None. The
platform flavour gets its lookup from merchants (registered in MerchantsConfig.ready, core
never imports merchants); payment channels subclass it (ledger.channels)."""
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from core.actors import Actor

from . import signing

UNKNOWN_APP = "unknown_app"
TIMESTAMP_SKEW = "timestamp_skew"
SIGNATURE_MISMATCH = "signature_mismatch"
NONCE_REUSED = "nonce_reused"
PURGE_PROBABILITY = 0.01

_MESSAGES = {
    UNKNOWN_APP: _("Unknown app id."),
    TIMESTAMP_SKEW: _("The timestamp is missing or more than 300 seconds from the server clock."),
    SIGNATURE_MISMATCH: _("The signature does not match the request."),
    NONCE_REUSED: _("This nonce was already used."),
}


class SignatureRefused(exceptions.AuthenticationFailed):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(_MESSAGES[reason], code="unauthenticated")


@dataclass
class Principal:
    """Who signed: request.user of a signed request. `owner` is the merchant (or channel)."""

    app_id: str
    owner: object
    actor: Actor
    scope: str = ""
    extra: dict = field(default_factory=dict)
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def merchant(self):
        return self.owner

    @property
    def pk(self):  # some libraries (throttles, logging) look for an id
        return self.app_id


# WSGI hands Django the path already percent-decoded, so "exactly as sent" is rebuilt: the raw
# request URI when the server keeps it (gunicorn's RAW_URI, uwsgi's REQUEST_URI), else the
# usual ways a client encodes a path — Django's own, strict RFC 3986 (only unreserved characters
# left as they are, as most HTTP libraries do for path parameters) and requests' (sub-delimiters
# kept). All candidates decode to the same path, so accepting any of them widens nothing.
_PATH_SAFE_SETS = ("/-._~", "/-._~!$&'()*+,;=:@")


def canonical_paths(request) -> list[str]:
    """The candidate PATH lines of the canonical string (path and query as sent)."""
    from urllib.parse import quote

    from django.utils.encoding import escape_uri_path, iri_to_uri

    django_request = getattr(request, "_request", request)
    candidates = []
    for key in ("RAW_URI", "REQUEST_URI"):
        raw = django_request.META.get(key)
        if raw and raw.startswith("/"):
            candidates.append(raw)
    raw_query = django_request.META.get("QUERY_STRING", "")
    queries = {raw_query, iri_to_uri(raw_query)}
    paths = [escape_uri_path(django_request.path)] + [quote(django_request.path, safe=s) for s in _PATH_SAFE_SETS]
    for path in paths:
        for query in sorted(queries):
            candidate = f"{path}?{query}" if query else path
            if candidate not in candidates:
                candidates.append(candidate)
    return candidates


def consume_nonce(scope: str, nonce: str, *, now=None) -> bool:
    """True the first time (scope, nonce) is seen within the window, False on a replay."""
    now = now or timezone.now()
    from core.models import UsedNonce

    window_start = now - timedelta(seconds=signing.NONCE_TTL_SECONDS)
    try:
        with transaction.atomic():
            UsedNonce.objects.create(scope=scope, nonce=nonce, created_at=now)
    except IntegrityError:
        # Seen before: accept only if that use has left the window (reclaim it atomically).
        reclaimed = UsedNonce.objects.filter(scope=scope, nonce=nonce, created_at__lt=window_start).update(
            created_at=now)
        return reclaimed == 1
    if random.random() < PURGE_PROBABILITY:
        UsedNonce.objects.filter(created_at__lt=window_start).delete()
    return True


# A view may record the nonce itself, in the statement that claims the request's Idempotency-Key
# (core.api.idempotency.claim_with_nonce): it sets DEFER_NONCE on the Django request before
# authentication, and must then record the pending nonce — through that claim, or
# `consume_pending_nonce` — before anything acts on the request or answers it otherwise.
DEFER_NONCE = "jianguan_defer_nonce"
PENDING_NONCE = "jianguan_pending_nonce"


def pending_nonce(request):
    """(scope, nonce) left for the view to record, taken off the request; None if none is."""
    django_request = getattr(request, "_request", request)
    found = getattr(django_request, PENDING_NONCE, None)
    setattr(django_request, PENDING_NONCE, None)
    return found


def consume_pending_nonce(request) -> None:
    """Record a deferred nonce on its own; raise 401 nonce_reused if it was used."""
    found = pending_nonce(request)
    if found is not None and not consume_nonce(*found):
        raise SignatureRefused(NONCE_REUSED)


class SignedRequestAuthentication(BaseAuthentication):
    """Subclasses implement `credentials(app_id, request)` -> (owner, [secrets]) or None, and
    `make_principal(app_id, owner)`."""

    nonce_scope_prefix = ""
    www_authenticate = 'JianguanSignature realm="api"'

    def credentials(self, app_id: str, request):
        raise NotImplementedError

    def make_principal(self, app_id: str, owner) -> Principal:
        raise NotImplementedError

    def authenticate_header(self, request):
        return self.www_authenticate  # makes DRF answer 401 rather than 403

    def authenticate(self, request):
        meta = request._request.META
        app_id = meta.get("HTTP_X_APP_ID", "").strip()
        timestamp = meta.get("HTTP_X_TIMESTAMP", "").strip()
        nonce = meta.get("HTTP_X_NONCE", "").strip()
        signature = meta.get("HTTP_X_SIGNATURE", "").strip().lower()

        found = self.credentials(app_id, request) if app_id and len(app_id) <= 64 else None
        if found is None:
            raise SignatureRefused(UNKNOWN_APP)
        owner, secrets = found
        if not signing.TIMESTAMP_RE.match(timestamp) or abs(
                int(timezone.now().timestamp()) - int(timestamp)) > signing.MAX_SKEW_SECONDS:
            raise SignatureRefused(TIMESTAMP_SKEW)
        if not signing.NONCE_RE.match(nonce) or not signing.SIGNATURE_RE.match(signature):
            raise SignatureRefused(SIGNATURE_MISMATCH)
        body = request._request.body  # raw bytes; DRF parses them later from the same buffer
        matched = False
        for path in canonical_paths(request):
            for secret in secrets:
                expected = signing.sign(secret, request.method, path, timestamp, nonce, body)
                matched |= signing.signature_matches(expected, signature)  # no early exit
        if not matched:
            raise SignatureRefused(SIGNATURE_MISMATCH)
        scope = self.nonce_scope_prefix + app_id
        if getattr(request._request, DEFER_NONCE, False):
            setattr(request._request, PENDING_NONCE, (scope, nonce))  # the view records it (see pending_nonce)
        elif not consume_nonce(scope, nonce):
            raise SignatureRefused(NONCE_REUSED)
        principal = self.make_principal(app_id, owner)
        return principal, owner


# --- the platform flavour ------------------------------------------------------------------

_platform_lookup = None


def register_platform_credentials(fn) -> None:
    """fn(app_id) -> (merchant, [secrets]) or None. Registered by merchants (AppConfig.ready)."""
    global _platform_lookup
    _platform_lookup = fn


class PlatformSignatureAuthentication(SignedRequestAuthentication):
    """A platform (merchant) signing with its app id and any of its unexpired secrets."""

    def credentials(self, app_id, request):
        if _platform_lookup is None:
            raise ImproperlyConfigured("No platform credentials lookup registered (merchants app not loaded?).")
        return _platform_lookup(app_id)

    def make_principal(self, app_id, owner):
        return Principal(app_id=app_id, owner=owner, actor=Actor.platform(app_id), scope="platform")
