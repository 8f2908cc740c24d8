"""The last resort for API clients: whatever goes wrong, a platform gets the JSON envelope.

DRF views already answer every exception they see with the envelope (core.api.exceptions). What
they do not see — an error while rendering the response, in a middleware, in URL resolution, or
Django's own 400/500 pages (with DEBUG on: the technical page with the traceback and settings) —
reaches this middleware, the first in MIDDLEWARE: an exception under /api/ becomes the envelope
(logged with its traceback here, never sent), and any error response under /api/ that is not JSON
— Django's own 404 for an unknown path among them — is replaced by the envelope for its status."""
import logging

from django import db
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from .exceptions import DATABASE_RETRY_AFTER, database_unavailable_envelope, error_response

logger = logging.getLogger("jianguan.api")

API_PREFIX = "/api/"

_BY_STATUS = {
    400: ("invalid_request", _("The request is invalid.")),
    403: ("permission_denied", _("You are not allowed to do this.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("This method is not allowed here.")),
    413: ("request_too_large", _("The request body is too large.")),
}
_INTERNAL = ("internal_error", _("Something went wrong on our side; the request may be retried."))


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def envelope_for_status(status: int):
    if status == 503:  # the same answer as a DRF view's (core.api.exceptions): retry with the same key
        response = JsonResponse(database_unavailable_envelope(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    code, message = _BY_STATUS.get(status, _INTERNAL if status >= 500 else ("invalid_request", _BY_STATUS[400][1]))
    return error_response(status, code, message)


def envelope_for_exception(exc):
    if isinstance(exc, RequestDataTooBig):
        return envelope_for_status(413)
    if isinstance(exc, SuspiciousOperation):
        return envelope_for_status(400)
    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        return envelope_for_status(503)
    return envelope_for_status(500)


class APIErrorEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            logger.log(logging.WARNING if response.status_code >= 500 else logging.DEBUG,
                       "Non-JSON %s answer under %s replaced by the envelope", response.status_code, request.path)
            return envelope_for_status(response.status_code)
        return response

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        if isinstance(exception, (db.OperationalError, db.InterfaceError)):
            logger.warning("Database unavailable under %s: %s", request.path, exception)
        elif not isinstance(exception, (RequestDataTooBig, SuspiciousOperation)):
            logger.error("Unhandled error under %s", request.path, exc_info=exception)
        return envelope_for_exception(exception)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"
