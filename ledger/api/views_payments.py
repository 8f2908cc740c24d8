"""Payments, releases, refunds and withdrawals: parse, call the ledger services, render."""
from django.db.models import Prefetch

from core.api.pagination import paginate
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.db_retry import atomic_with_retry
from core.errors import NotFound
from merchants.api.lookups import bank_card_or_404, member_or_404

from ..models import Payment, PaymentSplit, Withdrawal
from ..services import payments as payment_services
from ..services import withdrawals as withdrawal_services
from . import serializers as s

PAYMENT_ERRORS = ["invalid_amount", "duplicate_order", "member_frozen", "account_frozen", "invalid_state",
                  "insufficient_funds"]


def _payments(merchant):
    return (Payment.objects.filter(merchant=merchant).select_related("payer")
            .prefetch_related(Prefetch("splits", queryset=PaymentSplit.objects.select_related("payee").order_by("id"))))


def _payment_or_404(merchant, pk) -> Payment:
    payment = _payments(merchant).filter(pk=pk).first()
    if payment is None:
        raise NotFound()
    return payment


class Payments(PlatformAPIView):
    moves_money = True
    idempotency = "required"
    query_serializer = s.PaymentsQuery

    @endpoint(summary="Pay (direct or guaranteed), to one payee or split", request=s.PaymentInput,
              response=s.PaymentOutput, status=201, also={200: s.PaymentOutput}, errors=PAYMENT_ERRORS,
              tags=["payments"],
              description="Payee amounts plus `platform_fee` must equal `amount` (400). `order_no` is unique "
                          "per merchant (409 `duplicate_order`; the same order with the same content answers "
                          "200 with the payment booked first). Direct payments settle at once (`settled`); "
                          "guaranteed ones hold the payer's money in escrow (`held`).")
    def post(self, request):
        data = self.parse(s.PaymentInput)
        payer = member_or_404(self.merchant, data["payer_user_id"], field="payer_user_id")
        if "splits" in data:
            splits = [(member_or_404(self.merchant, split["user_id"], field="splits"), split["amount"])
                      for split in data["splits"]]
        else:
            fee = data.get("platform_fee") or 0
            splits = [(member_or_404(self.merchant, data["payee_user_id"], field="payee_user_id"),
                       data["amount"] - fee)]
        # A deadlock or serialization failure aborts the whole transaction and books nothing:
        # run it again rather than answer an error (core.db_retry).
        payment, created = atomic_with_retry(
            payment_services.payment_create, wrap=False, merchant=self.merchant, actor=self.actor, payer=payer,
            amount=data["amount"], order_no=data["order_no"], mode=data["mode"], splits=splits,
            platform_fee=data.get("platform_fee") or "0.00", description=data.get("description", ""))
        return self.respond(s.PaymentOutput, _payment_or_404(self.merchant, payment.pk), status=201 if created else 200)

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


class PaymentDetail(PlatformAPIView):
    @endpoint(summary="A payment", response=s.PaymentOutput, tags=["payments"])
    def get(self, request, pk):
        return self.respond(s.PaymentOutput, _payment_or_404(self.merchant, pk))


class PaymentRelease(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Release a guaranteed payment (buyer confirmed receipt)", response=s.PaymentOutput,
              request=None, errors=["invalid_state", "member_frozen", "account_frozen"], tags=["payments"],
              description="Escrow → payees, fee → platform fee income; status `released`. Only from `held` "
                          "(409 `invalid_state`). No body.")
    def post(self, request, pk):
        payment = _payment_or_404(self.merchant, pk)
        payment_services.payment_release(payment=payment, actor=self.actor)
        return self.respond(s.PaymentOutput, _payment_or_404(self.merchant, pk))


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
        payment = _payment_or_404(self.merchant, pk)
        data = self.parse(s.RefundInput)
        refund = payment_services.payment_refund(payment=payment, actor=self.actor, amount=data["amount"],
                                                 reason=data["reason"], idempotency_ref=f"api:{self.idempotency_key}")
        refund.payment = _payment_or_404(self.merchant, pk)
        return self.respond(s.RefundOutput, refund, status=201)


class WithdrawalCreate(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Withdraw to a verified bank card", request=s.WithdrawalInput, response=s.WithdrawalOutput,
              status=201, also={200: s.WithdrawalOutput}, errors=["invalid_amount", "duplicate_order", "member_frozen", "account_frozen",
                                  "invalid_state", "insufficient_funds", "card_not_verified"],
              tags=["withdrawals"],
              description="The amount moves from available to frozen at once (422 `insufficient_funds` if it "
                          "can't); status `pending_approval` above the merchant's approval threshold, else "
                          "`approved`. `value_date` is today on a working day before the cut-off, else the next "
                          "working day.")
    def post(self, request):
        data = self.parse(s.WithdrawalInput)
        member = member_or_404(self.merchant, data["user_id"], field="user_id")
        card = bank_card_or_404(self.merchant, data["bank_card_id"], member=member, field="bank_card_id")
        withdrawal, created = withdrawal_services.withdrawal_request(
            merchant=self.merchant, actor=self.actor, member=member, amount=data["amount"], bank_card=card,
            order_no=data["order_no"])
        withdrawal = Withdrawal.objects.select_related("member", "bank_card").get(pk=withdrawal.pk)
        return self.respond(s.WithdrawalOutput, withdrawal, status=201 if created else 200)


class WithdrawalDetail(PlatformAPIView):
    @endpoint(summary="A withdrawal", response=s.WithdrawalOutput, tags=["withdrawals"])
    def get(self, request, pk):
        withdrawal = (Withdrawal.objects.filter(merchant=self.merchant, pk=pk)
                      .select_related("member", "bank_card").first())
        if withdrawal is None:
            raise NotFound()
        return self.respond(s.WithdrawalOutput, withdrawal)
