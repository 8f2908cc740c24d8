"""OpenAPI (drf-spectacular) for the platform API: the signed-request security scheme, the
error envelope on every operation, the Idempotency-Key header where it applies.

Views declare what is particular to them with `endpoint(...)` on each handler method:

    @endpoint(summary="Create a payment", request=InputSerializer, response=OutputSerializer,
              status=201, errors=["duplicate_order", "insufficient_funds", "member_frozen"])
    def post(self, request): ...

and PlatformAutoSchema adds what every platform operation shares: 401 `unauthenticated`,
403 `merchant_inactive`, 404 `not_found`, 429 `throttled`; on POST 400 `invalid_request`,
413, 415, 403 `merchant_frozen` where money moves, 409 `idempotency_conflict` and the
Idempotency-Key header parameter where the view is idempotent."""
import inspect
from collections import defaultdict

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_parameter_type, force_instance
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import REPLAYED_HEADER

CODE_STATUS = {
    "invalid_request": 400, "invalid_amount": 400,
    "unauthenticated": 401,
    "permission_denied": 403, "merchant_frozen": 403, "merchant_inactive": 403, "member_frozen": 403,
    "account_frozen": 403,
    "not_found": 404,
    "idempotency_conflict": 409, "invalid_state": 409, "duplicate": 409, "duplicate_order": 409,
    "request_too_large": 413,
    "unsupported_media_type": 415,
    "insufficient_funds": 422, "credit_limit_exceeded": 422, "credit_line_inactive": 422,
    "card_not_verified": 422, "order_mismatch": 422, "rule_refused": 422, "reserve_shortfall": 422,
    "throttled": 429,
    "database_unavailable": 503,
}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `insufficient_funds`.")
    message = serializers.CharField(help_text="Human-readable explanation (may change; do not parse).")
    details = serializers.DictField(
        child=serializers.JSONField(),
        help_text="`invalid_request`/`invalid_amount`: field → list of messages; `unauthenticated`: "
                  "`reason`; `idempotency_conflict`: `reason` (`different_request` | `in_progress`); "
                  "`throttled`: `retry_after` seconds.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


_UNSET = object()


def endpoint(*, summary: str, response=None, status: int = 200, request=_UNSET, errors=(), parameters=(),
             description: str = "", tags=None, operation_id=None, also: dict | None = None):
    """extend_schema for one handler, with its own error codes recorded for PlatformAutoSchema.
    `also`: other success statuses, e.g. {200: Serializer} for a create that may find the row."""
    responses = {status: response, **(also or {})}
    kwargs = dict(summary=summary, description=description or None, responses=responses,
                  parameters=list(parameters) or None, tags=tags, operation_id=operation_id)
    if request is not _UNSET:
        kwargs["request"] = request  # None: the operation takes no body

    def decorate(func):
        func._api_errors = tuple(errors)
        return extend_schema(**kwargs)(func)

    return decorate


def _takes_amounts(serializer) -> bool:
    from .fields import MoneyField

    serializer = force_instance(serializer)
    serializer = getattr(serializer, "child", serializer)
    fields = getattr(serializer, "fields", None)
    if not fields:
        return False
    for field in fields.values():
        if isinstance(field, MoneyField) or _takes_amounts(field):
            return True
    return False


def _error_response(codes) -> OpenApiResponse:
    listed = ", ".join(f"`{c}`" for c in sorted(codes))
    return OpenApiResponse(ErrorSerializer, description=f"Error envelope; code is one of {listed}.")


class PlatformAutoSchema(AutoSchema):
    def _handler(self):
        return getattr(self.view, self.method.lower(), None)

    def _idempotency(self):
        if self.method != "POST":
            return None
        return getattr(self.view, "idempotency", None)

    def error_codes(self) -> dict[int, set[str]]:
        codes = set(getattr(self.view, "base_error_codes", ("unauthenticated", "not_found", "throttled")))
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {"invalid_request", "request_too_large", "unsupported_media_type"}
            if _takes_amounts(self.get_request_serializer()):
                codes.add("invalid_amount")
            if getattr(self.view, "moves_money", False):
                codes.add("merchant_frozen")
            if self._idempotency():
                codes.add("idempotency_conflict")
        elif "{" in self.path or getattr(self.view, "query_serializer", None):
            codes.add("invalid_request")
        codes |= set(getattr(self._handler(), "_api_errors", ()))
        by_status = defaultdict(set)
        for code in codes:
            by_status[CODE_STATUS.get(code, 400)].add(code)
        return by_status

    def get_description(self):
        described = super().get_description()
        inherited = inspect.getdoc(type(self.view))
        own = type(self.view).__dict__.get("__doc__")
        if described and described == inherited and not own:
            return ""  # a base class's docstring says nothing about this operation
        return described

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, codes in sorted(self.error_codes().items()):
            key = str(status)
            if key not in responses:
                responses[key] = self._get_response_for_code(_error_response(codes), key, direction=direction)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction) or {}
        if self._idempotency() and str(status_code).startswith("2"):
            headers[REPLAYED_HEADER] = {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present on a replayed response (same Idempotency-Key and body within 24 h).",
            }
        if str(status_code) == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        return headers

    def _get_parameters(self):
        parameters = super()._get_parameters()
        mode = self._idempotency()
        if mode:
            parameters.append(build_parameter_type(
                name=IDEMPOTENCY_HEADER, location="header", required=(mode == "required"),
                schema={"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[!-~]{1,64}$"},
                description="Makes the POST safe to retry: the same key with the same body within 24 h "
                            "returns the original response without booking again; with a different body "
                            "409 `idempotency_conflict`. Scoped per merchant. Only successful (2xx) "
                            "responses are kept; after an error the key may be retried.",
            ))
        return parameters


def signed_request_definitions(who: str) -> list[dict]:
    canonical = (f"HMAC-SHA256 (lowercase hex), keyed with {who} secret, of the lines METHOD, PATH with query "
                 "string as sent, TIMESTAMP, NONCE, lowercase hex SHA-256 of the raw body, joined by \\n. "
                 "Failures: 401 `unauthenticated` with details.reason `unknown_app`, `timestamp_skew`, "
                 "`signature_mismatch` or `nonce_reused`.")
    return [
        {"type": "apiKey", "in": "header", "name": "X-App-Id", "description": f"{who[0].upper()}{who[1:]} app id."},
        {"type": "apiKey", "in": "header", "name": "X-Timestamp",
         "description": "Unix time in whole seconds, within 300 s of the server clock."},
        {"type": "apiKey", "in": "header", "name": "X-Nonce",
         "description": "16–64 characters of [A-Za-z0-9_-], accepted once per app id within 10 minutes."},
        {"type": "apiKey", "in": "header", "name": "X-Signature", "description": canonical},
    ]


class PlatformSignatureScheme(OpenApiAuthenticationExtension):
    """The platform's signed requests, as four header "API keys" required together."""

    target_class = "core.api.authentication.PlatformSignatureAuthentication"
    name = ["AppId", "Timestamp", "Nonce", "Signature"]

    def get_security_definition(self, auto_schema):
        return signed_request_definitions("the platform's")
