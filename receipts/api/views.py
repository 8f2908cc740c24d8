"""Receipts for platforms: GET …/receipt answers the movement's 电子回单 as application/pdf, signed
like every request. Another merchant's movement is 404; one that has not happened yet (a deposit
not credited, a withdrawal not paid, a payment not released when the release's receipt is asked
for) is 409 invalid_state. Errors keep the JSON envelope whatever the Accept header says."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.schema import endpoint
from core.api.views import PlatformAPIView

from ..download import pdf_response
from ..models import ReceiptKind
from ..movements import find_movement

PDF = OpenApiResponse(OpenApiTypes.BINARY, description="The receipt (PDF). Header `X-Receipt-Number`: its "
                                                       "number, the same for every download of the movement.")
PDF_STATUS = (200, "application/pdf")


class PaymentReceiptQuery(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[ReceiptKind.PAYMENT.value, ReceiptKind.RELEASE.value], default=ReceiptKind.PAYMENT.value,
        help_text="`payment` (default): the payer paid (to the payees, or into escrow for a guaranteed "
                  "payment); `release`: escrow paid out to the payees.")
    part = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False,
        help_text="With `kind=release`: which release of a payment released in parts (1 = the first); "
                  "the latest when omitted.")


class _ReceiptView(PlatformAPIView):
    def perform_content_negotiation(self, request, force=False):
        # The success is a PDF whatever is asked; errors are the JSON envelope (the only renderer).
        return super().perform_content_negotiation(request, force=True)

    def answer(self, kind, pk, **lookup):
        movement = find_movement(kind, pk, merchants=self.merchant, **lookup)
        return pdf_response(self.request, movement, actor=self.actor)


class PaymentReceipt(_ReceiptView):
    query_serializer = PaymentReceiptQuery

    @endpoint(summary="A payment's receipt (PDF)", response=PDF, status=PDF_STATUS, errors=["invalid_state"],
              parameters=[PaymentReceiptQuery], tags=["receipts"],
              description="The electronic receipt (电子回单) of the payment or, with `kind=release`, of its "
                          "release (`part` for one part of a staged release). 409 `invalid_state` when "
                          "nothing was released yet.")
    def get(self, request, pk):
        query = self.parse_query(PaymentReceiptQuery)
        return self.answer(query["kind"], pk, part=query.get("part"))


class RefundReceipt(_ReceiptView):
    @endpoint(summary="A refund's receipt (PDF)", response=PDF, status=PDF_STATUS, tags=["receipts"])
    def get(self, request, pk, refund_id):
        return self.answer(ReceiptKind.REFUND, refund_id, payment_pk=pk)


class DepositReceipt(_ReceiptView):
    @endpoint(summary="A deposit's receipt (PDF)", response=PDF, status=PDF_STATUS, errors=["invalid_state"],
              tags=["receipts"], description="409 `invalid_state` until the deposit is credited.")
    def get(self, request, pk):
        return self.answer(ReceiptKind.DEPOSIT, pk)


class WithdrawalReceipt(_ReceiptView):
    @endpoint(summary="A withdrawal's receipt (PDF)", response=PDF, status=PDF_STATUS, errors=["invalid_state"],
              tags=["receipts"], description="409 `invalid_state` until the bank has paid the withdrawal.")
    def get(self, request, pk):
        return self.answer(ReceiptKind.WITHDRAWAL, pk)
