"""Payments, batches, releases and refunds: parse, call the ledger services, render."""
from django.db.models import Prefetch
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework.exceptions import ValidationError

from core.api.exceptions import exception_handler
from core.api.pagination import paginate
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.db_retry import atomic_with_retry
from core.errors import ApplicationError, NotFound
from merchants.api.lookups import member_or_404, members_or_404

from ... import outflows
from ...models import Payment, PaymentSplit
from ...services import confirmations, payment_batch
from ...services import payments as payment_services
from ...services import releases as release_services
from .. import serializers as s
from .confirmations import ChallengeOutput

PAYMENT_ERRORS = ["invalid_amount", "duplicate_order", "member_frozen", "account_frozen", "invalid_state",
                  "insufficient_funds", "rule_refused"]
IN_REVIEW = ("**202, status `in_review`** (not an error): the bank's outflow rules hold the movement for its "
             "risk office, its money held; a risk officer approves it (it books as it would have) or refuses it "
             "with a reason, and the platform hears `{kind}.review`, then `{kind}.review_approved` or "
             "`{kind}.review_refused`. A replay answers the same. Only merchants the risk office has configured "
             "rules for ever see it. 422 `rule_refused` (details: `rule`, `detail`): a rule refuses it.")

# 202: the payment (or release) held in risk review, or a one-time-code challenge (nothing booked yet).
PAYMENT_ACCEPTED = PolymorphicProxySerializer(component_name="PaymentAccepted",
                                              serializers=[s.PaymentOutput, ChallengeOutput],
                                              resource_type_field_name=None)
RELEASE_ACCEPTED = PolymorphicProxySerializer(component_name="ReleaseAccepted",
                                              serializers=[s.ReleaseReviewOutput, ChallengeOutput],
                                              resource_type_field_name=None)


def _payments(merchant):
    return (Payment.objects.filter(merchant=merchant).select_related("payer")
            .prefetch_related(Prefetch("splits", queryset=PaymentSplit.objects.select_related("payee").order_by("id"))))


def _renderable(payment: Payment, payer) -> Payment:
    """The payment as PaymentOutput reads it: as the service returned it when that carries its splits
    with their payees (no query), else reloaded."""
    splits = getattr(payment, "_prefetched_objects_cache", {}).get("splits")
    if splits is None or not all(PaymentSplit.payee.is_cached(split) for split in splits):
        return payment_or_404(payment.merchant_id, payment.pk)
    if not Payment.payer.is_cached(payment) and payment.payer_id == payer.pk:
        payment.payer = payer
    for split in splits:
        if not PaymentSplit.payment.is_cached(split):
            split.payment = payment
    return payment


def payment_or_404(merchant, pk) -> Payment:
    payment = _payments(merchant).filter(pk=pk).first()
    if payment is None:
        raise NotFound()
    return payment


class Payments(PlatformAPIView):
    moves_money = True
    idempotency = "required"
    query_serializer = s.PaymentsQuery

    @endpoint(summary="Pay (direct or guaranteed), to one payee or split", request=s.PaymentInput,
              response=s.PaymentOutput, status=201, also={200: s.PaymentOutput, 202: PAYMENT_ACCEPTED},
              errors=PAYMENT_ERRORS, tags=["payments"],
              description="Payee amounts plus `platform_fee` must equal `amount` (400). `order_no` is unique "
                          "per merchant (409 `duplicate_order`; the same order with the same content answers "
                          "200 with the payment booked first). Direct payments settle at once (`settled`); "
                          "guaranteed ones hold the payer's money in escrow (`held`).\n\n"
                          + IN_REVIEW.format(kind="payment") + " Approved, a payment in review becomes "
                          "`settled` or `held`; refused, `refused` (its `order_no` stays used).\n\n"
                          "**202 with a challenge** (told from a payment by its `challenge_id`): the merchant asks "
                          "payers to confirm payments above an amount with a one-time code; nothing is booked "
                          "until `POST /challenges/{challenge_id}/confirm` with the code the payer received.")
    def post(self, request):
        data = self.parse(s.PaymentInput)
        fee = data.get("platform_fee") or "0.00"
        if "splits" in data:
            named = [(split["user_id"], "splits") for split in data["splits"]]
        else:
            named = [(data["payee_user_id"], "payee_user_id")]
        members = members_or_404(self.merchant, [(data["payer_user_id"], "payer_user_id"), *named])
        payer = members[data["payer_user_id"]]
        if "splits" in data:
            splits = [(members[split["user_id"]], split["amount"]) for split in data["splits"]]
        else:
            splits = [(members[data["payee_user_id"]], data["amount"] - (data.get("platform_fee") or 0))]
        if confirmations.payment_needs_code(self.merchant, data["order_no"], data["amount"]):
            challenge = confirmations.payment_challenge(
                merchant=self.merchant, actor=self.actor, payer=payer, amount=data["amount"],
                order_no=data["order_no"], mode=data["mode"], splits=splits,
                platform_fee=fee, description=data.get("description", ""))
            return self.respond(ChallengeOutput, challenge, status=202)
        # One transaction for the payment and the answer its idempotency record keeps; a deadlock or
        # serialization failure aborts it and books nothing: run it again (core.db_retry).
        answer = atomic_with_retry(self._book, payer=payer, amount=data["amount"], order_no=data["order_no"],
                                   mode=data["mode"], splits=splits, platform_fee=fee,
                                   description=data.get("description", ""))
        if isinstance(answer, outflows.RuleRefused):
            raise answer
        return answer

    def _book(self, **request):
        try:
            payment, created = payment_services.payment_create(merchant=self.merchant, actor=self.actor, **request)
        except outflows.RuleRefused as refused:
            # Its trace was written after the service's own rollback, in this transaction: keep it.
            return refused
        status = 202 if payment.status == Payment.Status.IN_REVIEW else 201 if created else 200
        return self.respond_with_work(s.PaymentOutput, _renderable(payment, request["payer"]), status=status)

    @endpoint(summary="Payments, newest first (filter by order_no)", response=s.PaymentPage, tags=["payments"],
              operation_id="payments_list",
              parameters=[s.PaymentsQuery])
    def get(self, request):
        query = self.parse_query(s.PaymentsQuery)
        qs = _payments(self.merchant)
        if query.get("order_no"):
            qs = qs.filter(order_no=query["order_no"])
        rows, next_cursor = paginate(qs, cursor=query.get("cursor"), limit=query["limit"])
        return self.respond(s.PaymentPage, {"results": rows, "next": next_cursor})


class ItemParseError(ValidationError):
    """A batch item PaymentInput refused (rendered like the single endpoint's 400)."""


def _item_error(view, error) -> tuple[int, dict]:
    """(status, envelope body) of an item's error: the answer the single endpoint would give."""
    response = exception_handler(error, {"view": view})
    return response.status_code, response.data["error"]


class PaymentBatch(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Pay in bulk: up to 1,000 payments in one transaction", request=s.PaymentBatchInput,
              response=s.PaymentBatchOutput, also={201: s.PaymentBatchOutput}, errors=PAYMENT_ERRORS,
              tags=["payments"],
              description=(
                  "Each item is a `POST /payments` body, validated and booked as that endpoint would, in "
                  "the order given, all in one transaction under the request's `Idempotency-Key`. "
                  "`results` lists every item's answer in order: `status` and `payment`, or `status` and "
                  "`error` (the error envelope's `code`, `message`, `details`). The same order number "
                  "twice behaves like two single requests: the second is a replay (200) or 409 "
                  "`duplicate_order`.\n\n"
                  "An item the bank's outflow rules hold for review has status 202 and its payment "
                  "status `in_review` (counted as booked or replayed); one they refuse, 422 "
                  "`rule_refused`.\n\n"
                  "`atomic: false` (default): items succeed or fail independently; the answer is **200** "
                  "whatever the items' outcomes (see `failed`).\n\n"
                  "`atomic: true`: one refused item books nothing of the batch. All booked: **201**. "
                  "Refused: the refused item's own status and code, with `details.index` naming it and "
                  "its details under `payments.<index>.<field>`.\n\n"
                  "A body that is not an object with `payments`, a list of 1 to 1,000 objects, is a 400 "
                  "for the whole request. The body is at most `API_MAX_BODY_BYTES` (2.5 MiB by default, "
                  "413 `request_too_large` above): 1,000 single-payee payments take about 0.2 MiB."))
    def post(self, request):
        body = self.parse(s.PaymentBatchBody)
        atomic = body["atomic"]
        items = []
        for index, raw in enumerate(body["payments"]):
            serializer = s.PaymentInput(data=raw, context={"request": request, "view": self})
            if serializer.is_valid():
                data = serializer.validated_data
                items.append(payment_batch.BatchItem(
                    payer_user_id=data["payer_user_id"], amount=data["amount"], order_no=data["order_no"],
                    mode=data["mode"], payee_user_id=data.get("payee_user_id"),
                    splits=tuple((split["user_id"], split["amount"]) for split in data.get("splits", ())),
                    platform_fee=data.get("platform_fee"), description=data.get("description", "")))
                continue
            status, error = _item_error(self, ItemParseError(serializer.errors))
            if atomic:  # refused before the transaction starts: nothing to roll back
                raise payment_batch.BatchItemRefused(index, status=status, code=error["code"],
                                                     message=error["message"], details=error["details"])
            items.append(_Refused(status, error))
        # One transaction for the batch: a deadlock or serialization failure runs all of it again.
        outcomes = atomic_with_retry(payment_batch.payment_create_batch, wrap=False, merchant=self.merchant,
                                     actor=self.actor, items=items, atomic=atomic)
        booked = _payments(self.merchant).in_bulk([o.payment.pk for o in outcomes if o.payment is not None])
        results, counts = [], {"booked": 0, "replayed": 0, "failed": 0}
        for index, outcome in enumerate(outcomes):
            if outcome.payment is not None:
                in_review = outcome.payment.status == Payment.Status.IN_REVIEW
                status = 202 if in_review else 201 if outcome.created else 200
                counts["booked" if outcome.created else "replayed"] += 1
                results.append({"index": index, "status": status, "payment": booked[outcome.payment.pk],
                                "error": None})
            else:
                status, error = (outcome.error.answer if isinstance(outcome.error, _Refused)
                                 else _item_error(self, outcome.error))
                counts["failed"] += 1
                results.append({"index": index, "status": status, "payment": None, "error": error})
        return self.respond(s.PaymentBatchOutput, {"atomic": atomic, **counts, "results": results},
                            status=201 if atomic else 200)


class _Refused(ApplicationError):
    """An item refused while parsing, carried through the service with its answer."""

    def __init__(self, status: int, error: dict):
        self.answer = (status, error)
        super().__init__(error["message"], code=error["code"], details=error["details"])
        self.status = status


class PaymentDetail(PlatformAPIView):
    @endpoint(summary="A payment", response=s.PaymentOutput, tags=["payments"])
    def get(self, request, pk):
        return self.respond(s.PaymentOutput, payment_or_404(self.merchant, pk))


class PaymentRelease(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Release a guaranteed payment, in full or in part (buyer confirmed receipt)",
              response=s.PaymentOutput, request=s.ReleaseInput, also={202: RELEASE_ACCEPTED},
              errors=["invalid_amount", "invalid_state", "member_frozen", "account_frozen", "idempotency_conflict",
                      "rule_refused"],
              tags=["payments"],
              description="Escrow → payees, fee → platform fee income, each release its own journal entry. "
                          "No body (or `{}`): everything still held; status `released`. `{\"amount\"}`: that "
                          "much, spread over the payees and the fee in proportion to what each still has in "
                          "escrow (largest remainder, to the cent). `{\"splits\": [{\"user_id\", "
                          "\"amount\"}]}`: per payee, the fee's share in proportion to the payee money "
                          "released. While anything is still held the status is `partially_released`; "
                          "release again (several times) until nothing is. More than is held answers 400; a "
                          "payment neither `held` nor `partially_released` answers 409 `invalid_state`. "
                          "Refunds take what is still held first.\n\n" + IN_REVIEW.format(kind="release")
                          + " A release in review moves nothing (the money stays in escrow) and answers "
                          "`{\"status\": \"in_review\", \"review_id\", \"payment\"}`; another release of the "
                          "payment answers 409 `invalid_state` until it is decided.\n\n"
                          "**202 with a challenge** (told by its `challenge_id`): the merchant asks payers to confirm "
                          "releases with a one-time code; nothing moves until `POST /challenges/{challenge_id}/confirm` "
                          "with the code the payer received.")
    def post(self, request, pk):
        data = self.parse(s.ReleaseInput)
        payment = payment_or_404(self.merchant, pk)
        splits = None
        if "splits" in data:
            splits = [(member_or_404(self.merchant, split["user_id"], field="splits"), split["amount"])
                      for split in data["splits"]]
        if confirmations.release_needs_code(self.merchant):
            challenge = confirmations.release_challenge(
                merchant=self.merchant, actor=self.actor, payment=payment, amount=data.get("amount"), splits=splits,
                reason=data.get("reason", ""), idempotency_ref=f"api:{self.idempotency_key}")
            return self.respond(ChallengeOutput, challenge, status=202)
        released = release_services.payment_release(
            payment=payment, actor=self.actor, amount=data.get("amount"), splits=splits,
            reason=data.get("reason", ""), idempotency_ref=f"api:{self.idempotency_key}")
        ticket = getattr(released, "pending_review", None)
        payment = payment_or_404(self.merchant, pk)
        if ticket is not None:
            payment.pending_review = ticket
            return self.respond(s.ReleaseReviewOutput, payment, status=202)
        return self.respond(s.PaymentOutput, payment)


class PaymentRefunds(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Refund part or all of a payment", request=s.RefundInput, response=s.RefundOutput,
              status=201, errors=["invalid_amount", "invalid_state", "insufficient_funds", "member_frozen",
                                  "account_frozen"], tags=["payments"],
              description="From escrow while held; after release (or for a direct payment) from the payees, "
                          "pro rata (422 `insufficient_funds` if they lack it). Partial refunds until the full "
                          "amount; the payment's status becomes `refunded` when all is back. More than what is "
                          "left answers 400.")
    def post(self, request, pk):
        payment = payment_or_404(self.merchant, pk)
        data = self.parse(s.RefundInput)
        refund = payment_services.payment_refund(payment=payment, actor=self.actor, amount=data["amount"],
                                                 reason=data["reason"], idempotency_ref=f"api:{self.idempotency_key}")
        refund.payment = payment_or_404(self.merchant, pk)
        return self.respond(s.RefundOutput, refund, status=201)
