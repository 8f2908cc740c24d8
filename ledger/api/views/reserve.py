"""The platform's risk reserve (风险保证金) over the API: where it stands, and announcing money for it.
As every deposit, a reserve deposit is only announced here; the bank side credits it (a statement
line whose remark carries the payment code and whose payer is the platform itself, or a signed
channel notification). Nothing here can take money out of the reserve."""
from rest_framework import serializers

from core.api.fields import MoneyField, PlainCharField
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.money import format_amount

from ...models import Deposit, PaymentChannel
from ...selectors import reserve_position
from ...services import deposits as deposit_services
from ...services.withdrawals import reserve_shortfall_limit
from .. import serializers as s


class ReserveDepositInput(serializers.Serializer):
    amount = MoneyField()
    order_no = PlainCharField(max_length=64)
    method = serializers.ChoiceField(choices=Deposit.Method.values)
    channel = PlainCharField(max_length=32, required=False, allow_blank=True,
                             help_text="The payment channel's code (method `channel`).")
    currency = serializers.ChoiceField(choices=["CNY"], required=False)


class ReserveDepositOutput(s.DepositOutput):
    # The deposit's own status (awaiting_funds, succeeded, cancelled, expired); a plain string here so
    # the schema's one deposit-status enum keeps its name (DepositOutputStatusEnum).
    status = serializers.CharField(help_text="As a deposit's: `awaiting_funds`, `succeeded`, `cancelled`, `expired`.")
    user_id = serializers.CharField(allow_null=True, default=None, help_text="Always null: the platform's own money.")
    purpose = serializers.CharField(help_text="`risk_reserve`, or `platform` (the platform's own account).")


class ReservePositionOutput(serializers.Serializer):
    required = serializers.CharField(help_text="The required reserve in force (set by the bank's risk office).")
    balance = serializers.CharField(help_text="What the reserve holds.")
    shortfall = serializers.CharField(help_text="required − balance, never below 0.00.")
    withdrawal_limit_while_short = serializers.CharField(
        help_text="While short, members' withdrawals above this are refused (`422 reserve_shortfall`).")
    currency = serializers.CharField()


class RiskReserve(PlatformAPIView):
    @endpoint(summary="The platform's risk reserve", response=ReservePositionOutput, tags=["risk reserve"])
    def get(self, request):
        position = reserve_position(self.merchant)
        return self.respond(ReservePositionOutput, {
            "required": format_amount(position.required), "balance": format_amount(position.balance),
            "shortfall": format_amount(position.shortfall),
            "withdrawal_limit_while_short": format_amount(reserve_shortfall_limit()), "currency": "CNY"})


def _announce_platform_money(view, announce):
    """The platform's own money announced (for its reserve or its own account): parse, announce, render."""
    data = view.parse(ReserveDepositInput)
    channel = None
    if data.get("channel"):
        channel = PaymentChannel.objects.filter(code=data["channel"], enabled=True).first()
    deposit = announce(merchant=view.merchant, actor=view.actor, amount=data["amount"], order_no=data["order_no"],
                       method=data["method"], channel=channel)
    return view.respond(ReserveDepositOutput, deposit, status=201)


class ReserveDepositCreate(PlatformAPIView):
    idempotency = "required"

    @endpoint(summary="Announce a deposit for the risk reserve", request=ReserveDepositInput,
              response=ReserveDepositOutput, status=201, errors=["duplicate_order", "invalid_state"],
              tags=["risk reserve"],
              description="The platform announces money for its own risk reserve; it cannot credit it. The bank "
                          "credits it when a statement line proves it (remark carrying `payment_code`, paid from "
                          "the platform's own account: the payer's name is the merchant's legal name) or a "
                          "payment channel's signed notification does. `GET /deposits/{id}` follows it.")
    def post(self, request):
        return _announce_platform_money(self, deposit_services.reserve_deposit_announce)


class PlatformDepositCreate(PlatformAPIView):
    idempotency = "required"

    @endpoint(summary="Announce a deposit for the platform's own account", request=ReserveDepositInput,
              response=ReserveDepositOutput, status=201, errors=["duplicate_order", "invalid_state"],
              tags=["deposits"],
              description="The platform announces its own money (its own account in the books, where its fees "
                          "accrue; it pays e.g. the micro-deposits that verify its corporate members' accounts). "
                          "As every deposit it is credited only by the bank: a statement line whose remark carries "
                          "`payment_code`, paid from the platform's own account (the payer's name is the "
                          "merchant's legal name), or a payment channel's signed notification; then "
                          "`platform_account.funded`. `GET /deposits/{id}` follows it.")
    def post(self, request):
        return _announce_platform_money(self, deposit_services.platform_deposit_announce)
