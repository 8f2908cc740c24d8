"""One error envelope for every API error:

    {"error": {"code": "insufficient_funds", "message": "human readable", "details": {}}}

`exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]) renders ApplicationError by its
`status` and `code`, DRF's own exceptions (validation, parse errors, 401/403/404/405/415,
throttling) and anything unexpected (500, logged; never a traceback to the platform).
`error_response` builds the same envelope outside DRF views (core.api.middleware, the last
resort for what DRF never sees: Django's own 404/500 pages, rendering and middleware errors)."""
import logging

from django import db
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import ApplicationError

from .parsers import BodyRefused

logger = logging.getLogger("jianguan.api")

AMOUNT_CODE = "invalid_amount"

_DRF_CODES = {
    BodyRefused: ("invalid_request", _("The request body was refused.")),
    exceptions.ParseError: ("invalid_request", _("The request body is not valid JSON.")),
    exceptions.NotAuthenticated: ("unauthenticated", _("The request is not signed.")),
    exceptions.AuthenticationFailed: ("unauthenticated", _("The request signature was refused.")),
    exceptions.PermissionDenied: ("permission_denied", _("You are not allowed to do this.")),
    exceptions.NotFound: ("not_found", _("Not found.")),
    exceptions.MethodNotAllowed: ("method_not_allowed", _("This method is not allowed here.")),
    exceptions.NotAcceptable: ("not_acceptable", _("Only application/json responses are available.")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", _("Send the body as application/json.")),
    exceptions.Throttled: ("throttled", _("Too many requests; slow down and retry later.")),
}


def envelope(code: str, message, details=None) -> dict:
    return {"error": {"code": code, "message": force_str(message), "details": details or {}}}


def error_response(status_code: int, code: str, message, details=None) -> JsonResponse:
    """The envelope as a plain Django response (URL-level 404/500 handlers)."""
    return JsonResponse(envelope(code, message, details), status=status_code)


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error tree -> {"field": [...], "splits.0.amount": [...]}; errors that
    belong to no field (a body that is not an object) are under "non_field_errors"."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(force_str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for k, v in flatten_errors(item, name).items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(force_str(detail))
    return out


def _codes(detail) -> set[str]:
    if isinstance(detail, dict):
        return set().union(*(_codes(v) for v in detail.values())) if detail else set()
    if isinstance(detail, list):
        return set().union(*(_codes(v) for v in detail)) if detail else set()
    return {getattr(detail, "code", None)}


def _validation_response(exc: exceptions.ValidationError) -> Response:
    detail = exc.detail if isinstance(exc.detail, (dict, list)) else [exc.detail]
    details = flatten_errors(detail)
    if AMOUNT_CODE in _codes(detail):
        return Response(envelope(AMOUNT_CODE, _("The amount is invalid."), details), status=400)
    return Response(envelope("invalid_request", _("The request is invalid."), details), status=400)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(envelope(exc.code, exc.message, _json_safe(exc.details)), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(envelope("request_too_large", _("The request body is too large.")), status=413)
    elif isinstance(exc, SuspiciousOperation):
        return Response(envelope("invalid_request", _("The request is invalid.")), status=400)

    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return _validation_response(exc)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        code, message = _DRF_CODES.get(type(exc), (None, None))
        for klass, pair in _DRF_CODES.items():
            if code is None and isinstance(exc, klass):
                code, message = pair
        code = code or force_str(exc.default_code)
        message = message or exc.detail
        details = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = "%d" % exc.wait
            details = {"retry_after": int(exc.wait)}
        if isinstance(exc, exceptions.AuthenticationFailed) and getattr(exc, "reason", None):
            details = {"reason": exc.reason}
        if isinstance(exc, exceptions.ParseError):
            details = {"body": [force_str(exc.detail)]}
        return Response(envelope(code, message, details), status=exc.status_code, headers=headers)

    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        return database_unavailable_response(exc, context)

    # A bug, not bad input: log it with its traceback, answer a plain 500 envelope.
    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API", exc_info=exc)
    set_rollback()
    return Response(envelope("internal_error", _("Something went wrong on our side; the request may be retried.")),
                    status=status.HTTP_500_INTERNAL_SERVER_ERROR)


# --- the database went away (connection lost, failover, deadlock retried out) ----------------

DATABASE_UNAVAILABLE = "database_unavailable"
DATABASE_RETRY_AFTER = 2  # seconds


def database_unavailable_response(exc, context) -> Response:
    """503 in the envelope, with Retry-After, never a 500: the request's transaction did not
    commit (or, if the connection was lost during COMMIT, did and is found again), so a retry
    with the same Idempotency-Key books exactly once."""
    from core.db_retry import sqlstate_of

    view = context.get("view") if context else None
    logger.warning("Database unavailable in %s (%s): %s", type(view).__name__ if view else "API",
                   sqlstate_of(exc) or type(exc).__name__, exc)
    set_rollback()
    return Response(database_unavailable_envelope(), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def database_unavailable_envelope() -> dict:
    return envelope(DATABASE_UNAVAILABLE,
                    _("The database is unavailable for a moment; retry the request (with the same Idempotency-Key)."),
                    {"retry_after": DATABASE_RETRY_AFTER})


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return force_str(value)
