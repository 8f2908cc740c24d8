"""Base classes for every platform API endpoint.

How an app adds endpoints (credit, reconciliation, ...):

1. `<app>/api/views.py` — one PlatformAPIView subclass per resource, thin:

       from rest_framework import serializers
       from core.api.fields import MoneyField, PlainCharField
       from core.api.schema import endpoint
       from core.api.views import PlatformAPIView
       from merchants.api.lookups import member_or_404

       class DrawdownCreate(PlatformAPIView):
           moves_money = True            # POST answers 403 merchant_frozen / merchant_inactive
           idempotency = "required"      # Idempotency-Key required on POST ("optional" / None)

           class InputSerializer(serializers.Serializer):
               user_id = PlainCharField(max_length=64)
               amount = MoneyField()

           class OutputSerializer(serializers.Serializer):
               id = serializers.IntegerField()
               amount = MoneyField()

           @endpoint(summary="Draw on a credit line", request=InputSerializer, response=OutputSerializer,
                     status=201, errors=["credit_limit_exceeded", "credit_line_inactive"])
           def post(self, request):
               data = self.parse(self.InputSerializer)
               bill = credit_drawdown(merchant=self.merchant, actor=self.actor,
                                      member=member_or_404(self.merchant, data["user_id"]), amount=data["amount"])
               return self.respond(self.OutputSerializer, bill, status=201)

   Services raise core.errors.ApplicationError; the envelope, status and code follow
   (core.api.exceptions). Always look rows up through `self.merchant` so another
   merchant's ids answer 404 (tenant isolation). Query strings: `self.parse_query(Serializer)`;
   lists: core.api.pagination.paginate + page_serializer. `self.idempotency_key` is the
   request's Idempotency-Key (a service's own reference, e.g. a repayment's).
2. `<app>/api/urls.py` — `urlpatterns = [path("credit/drawdowns", DrawdownCreate.as_view()), ...]`
   (no leading slash, no trailing slash; paths are relative to /api/v1/). The converters
   `<uid:user_id>` and `<id:pk>` (registered here) refuse malformed ids with a 404.
3. Nothing else: config/api_urls.py includes `credit.api.urls` and `reconciliation.api.urls`
   automatically when those modules exist. Tests: the fixtures of tests/api/conftest.py —
   `platform` (an active merchant, its secret, and `platform.client`, a JianguanClient that
   sends through Django's test client with real signatures) and `raw_api` (hand-made requests).
   Platform-facing error codes are listed per handler in `endpoint(errors=[...])` so the
   OpenAPI schema documents every status a client can get (schemathesis checks it).

Signing (core.api.authentication), merchant status (MerchantStatusPermission), throttling per
app id (core.api.throttling), idempotency (core.api.idempotency) and the OpenAPI description
(core.api.schema) come with the base class."""
import json
import logging

from django.db import DatabaseError
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import MerchantFrozen, MerchantInactive

from . import authentication, idempotency
from .authentication import PlatformSignatureAuthentication, Principal
from .parsers import StrictJSONParser
from .schema import PlatformAutoSchema
from .throttling import AppIdRateThrottle

logger = logging.getLogger("jianguan.api")


# --- URL converters: malformed ids never reach the database ---------------------------------

class UserIdConverter:
    regex = r"[^/\x00-\x1f\x7f]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class IdConverter:
    regex = r"[1-9][0-9]{0,17}"  # a positive bigint

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(UserIdConverter, "uid")
register_converter(IdConverter, "id")


# --- permissions ---------------------------------------------------------------------------

class IsSigned(BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.user, Principal):
            raise exceptions.NotAuthenticated()
        return True


class MerchantStatusPermission(BasePermission):
    """Active: everything. Frozen: reads, and writes that move no money out (只进不出);
    money-moving requests answer 403 merchant_frozen. Any other state: 403 merchant_inactive."""

    def has_permission(self, request, view):
        status = getattr(request.user.merchant, "status", None)
        if status == "active":
            return True
        if status == "frozen":
            if getattr(view, "moves_money", False) and request.method not in SAFE_METHODS:
                raise MerchantFrozen()
            return True
        raise MerchantInactive()


class _Replay(Exception):
    def __init__(self, response):
        self.response = response


# --- base views ----------------------------------------------------------------------------

class SignedAPIView(APIView):
    """JSON in, JSON out, signed requests, throttled per app id, idempotent POSTs."""

    parser_classes = [StrictJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [AppIdRateThrottle]
    schema = PlatformAutoSchema()
    idempotency: str | None = None  # "required" | "optional" | None (POST only)
    _idempotency_record = None

    # --- parse / render helpers ---
    def parse(self, serializer_class, data=None, **context):
        serializer = serializer_class(data=self.request.data if data is None else data,
                                      context={"request": self.request, "view": self, **context})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def parse_query(self, serializer_class):
        return self.parse(serializer_class, data=self.request.query_params)

    def respond(self, serializer_class, instance, *, status=200, many=False, **context):
        data = serializer_class(instance, many=many, context={"request": self.request, "view": self, **context}).data
        return Response(data, status=status)

    # --- idempotency: claimed after authentication, permissions and throttling ---
    def idempotency_scope(self) -> int:
        return self.request.user.owner.pk

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            record, self._idempotency_record = getattr(self, "_idempotency_record", None), None
            if record is not None:  # an uncaught error skipped finalize_response: free the key's lock
                idempotency.unlock(record.merchant_id, record.key)

    def initial(self, request, *args, **kwargs):
        self._idempotency_record = self._first_claim = None
        # On PostgreSQL an idempotent POST records its nonce in the statement that claims its key
        # (core.api.idempotency, "Round trips"): authentication leaves the nonce to check_throttles.
        setattr(request._request, authentication.DEFER_NONCE, self._claims_with_nonce(request))
        super().initial(request, *args, **kwargs)
        authentication.consume_pending_nonce(request)  # none is left; a safeguard for overrides
        if request.method not in SAFE_METHODS:
            # Every body is parsed (core.api.parsers) before the view or the idempotency claim
            # runs, even where the view takes none: a refused body reaches no service.
            request.data  # noqa: B018
        if request.method != "POST" or not self.idempotency:
            return
        key = idempotency.read_key(request._request.META, required=self.idempotency == "required")
        if key is None:
            return
        first, self._first_claim = self._first_claim, None
        claimed = idempotency.claim(merchant_id=self.idempotency_scope(), key=key, method=request.method,
                                    path=request._request.path, body=request._request.body,
                                    first=first.outcome if first is not None else None)
        if isinstance(claimed, idempotency.Replay):
            raise _Replay(Response(claimed.body, status=claimed.status,
                                   headers={idempotency.REPLAYED_HEADER: "true"}))
        self._idempotency_record = claimed

    def _claims_with_nonce(self, request) -> bool:
        key = request._request.META.get(idempotency.META_KEY)
        return (request.method == "POST" and bool(self.idempotency) and idempotency.one_round_trip()
                and key is not None and idempotency.KEY_RE.match(key) is not None)

    def check_permissions(self, request):
        try:
            super().check_permissions(request)
        except Exception:
            authentication.consume_pending_nonce(request)  # a reused nonce answers 401 first, as ever
            raise

    def check_throttles(self, request):
        pending = authentication.pending_nonce(request)
        if pending is not None:
            try:
                self._first_claim = idempotency.claim_with_nonce(
                    nonce_scope=pending[0], nonce=pending[1], merchant_id=self.idempotency_scope(),
                    key=request._request.META[idempotency.META_KEY], method=request.method,
                    path=request._request.path, body=request._request.body)
            except idempotency.NonceReused:
                raise authentication.SignatureRefused(authentication.NONCE_REUSED) from None
            # Owned already: a refusal by the throttle or the body parser releases it (finalize_response).
            self._idempotency_record = self._first_claim.record
        super().check_throttles(request)

    def respond_with_work(self, serializer_class, instance, *, status=200, **context):
        """respond() inside the work's transaction, the 2xx answer stored on the idempotency record in
        that same transaction (core.api.idempotency, "Round trips"): one commit for both."""
        response = self.respond(serializer_class, instance, status=status, **context)
        record = self._idempotency_record
        if record is not None and 200 <= status < 300:
            idempotency.complete_in_transaction(record, status=status, body=_stored_body(response))
        return response

    @property
    def idempotency_key(self) -> str | None:
        return self._idempotency_record.key if self._idempotency_record is not None else None

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        response = super().handle_exception(exc)
        if isinstance(exc, idempotency.InProgress):
            response["Retry-After"] = "1"
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            body = _stored_body(response) if 200 <= response.status_code < 300 else None
            try:
                idempotency.finish(record, status=response.status_code, body=body)
            except DatabaseError:
                # The database is gone: the answer (a 503 already, or a booking that did commit)
                # still goes out. The claim stays in progress, its owner's lock gone with the
                # connection: a retry with the key takes it over, and the services' own idempotency
                # (order number, entry reference) makes the rerun book nothing twice.
                logger.warning("idempotency key %s not finished: database unavailable", record.key, exc_info=True)
        return response


def _stored_body(response):
    return json.loads(JSONRenderer().render(response.data)) if response.data is not None else None


class PlatformAPIView(SignedAPIView):
    """An endpoint for platforms (merchants) signing with their app id and secret."""

    authentication_classes = [PlatformSignatureAuthentication]
    permission_classes = [IsSigned, MerchantStatusPermission]
    base_error_codes = ("unauthenticated", "merchant_inactive", "not_found", "throttled")
    moves_money = False  # True: POST refused while the merchant is frozen

    @property
    def merchant(self):
        return self.request.user.merchant

    @property
    def actor(self):
        return self.request.user.actor


@extend_schema(exclude=True)
class RouteNotFound(APIView):
    """The last route under /api/v1/: unknown paths answer the JSON 404 envelope."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [StrictJSONParser]
    renderer_classes = [JSONRenderer]

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound(_("No such endpoint."))

    get = post = put = patch = delete = head = options = _not_found
