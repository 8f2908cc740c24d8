"""Deposits announced by the platform: parse, call the ledger, render."""
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.errors import NotFound
from merchants.api.lookups import member_or_404

from ...models import Deposit, PaymentChannel
from ...services import deposits as deposit_services
from .. import serializers as s
from .reserve import ReserveDepositOutput


class DepositCreate(PlatformAPIView):
    idempotency = "required"

    @endpoint(summary="Announce a deposit", request=s.DepositInput, response=s.DepositOutput, status=201,
              errors=["duplicate_order", "invalid_state"], tags=["deposits"],
              description="The platform announces; it cannot credit. The deposit is credited when the bank "
                          "side proves the money (a statement line whose remark carries `payment_code`, or a "
                          "signed channel notification). Allowed while the merchant is frozen (money in only).")
    def post(self, request):
        data = self.parse(s.DepositInput)
        member = member_or_404(self.merchant, data["user_id"], field="user_id")
        channel = None
        if data.get("channel"):
            channel = PaymentChannel.objects.filter(code=data["channel"], enabled=True).first()
        deposit = deposit_services.deposit_announce(
            merchant=self.merchant, actor=self.actor, member=member, amount=data["amount"],
            order_no=data["order_no"], method=data["method"], channel=channel)
        return self.respond(s.DepositOutput, deposit, status=201)


class DepositDetail(PlatformAPIView):
    @endpoint(summary="A deposit", response=s.DepositOutput, tags=["deposits"])
    def get(self, request, pk):
        deposit = (Deposit.objects.filter(merchant=self.merchant, pk=pk)
                   .select_related("merchant", "member", "channel").first())
        if deposit is None:
            raise NotFound()
        if deposit.for_platform:  # the platform's own money: no member (user_id null, purpose risk_reserve/platform)
            return self.respond(ReserveDepositOutput, deposit)
        return self.respond(s.DepositOutput, deposit)

