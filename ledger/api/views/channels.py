"""Notifications from payment channels (signed with the channel's own credentials)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from core.api.fields import MoneyField, PlainCharField
from core.api.schema import endpoint, signed_request_definitions
from core.api.views import IsSigned, SignedAPIView

from ...channels import ChannelSignatureAuthentication, channel_notification_accept


class ChannelSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "ledger.channels.ChannelSignatureAuthentication"
    name = ["ChannelAppId", "ChannelTimestamp", "ChannelNonce", "ChannelSignature"]

    def get_security_definition(self, auto_schema):
        return signed_request_definitions("the payment channel's")


class NotificationInput(serializers.Serializer):
    transaction_id = PlainCharField(max_length=64, help_text="The channel's own transaction reference.")
    amount = MoneyField()
    payment_code = PlainCharField(max_length=12, required=False, help_text="The deposit's payment code.")
    deposit_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    account_number = PlainCharField(max_length=32, required=False,
                                    help_text="The supervision account the money reached.")
    paid_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("payment_code", "deposit_id", "account_number")):
            raise serializers.ValidationError({"payment_code": ["Give payment_code, deposit_id or account_number."]})
        return attrs


class NotificationOutput(serializers.Serializer):
    result = serializers.ChoiceField(choices=["credited", "suspense"],
                                     help_text="credited: the deposit succeeded; suspense: parked for operations.")
    reference = serializers.CharField()
    deposit_id = serializers.IntegerField(source="deposit.pk", allow_null=True, default=None)
    deposit_status = serializers.CharField(source="deposit.status", allow_null=True, default=None)


class ChannelNotification(SignedAPIView):
    authentication_classes = [ChannelSignatureAuthentication]
    permission_classes = [IsSigned]

    @endpoint(summary="Payment channel: money arrived", request=NotificationInput, response=NotificationOutput,
              tags=["channels"],
              description="Signed like any request, with the channel's own app id and secret. Credits the "
                          "matching deposit exactly once; amount mismatches and deposits that can't take the "
                          "money go to the merchant's suspense account (operations exception queue). The "
                          "same `transaction_id` again changes nothing.")
    def post(self, request, channel_code):
        data = self.parse(NotificationInput)
        outcome = channel_notification_accept(
            channel=request.user.owner, amount=data["amount"], transaction_id=data["transaction_id"],
            payment_code=data.get("payment_code"), deposit_id=data.get("deposit_id"),
            account_number=data.get("account_number"))
        return self.respond(NotificationOutput, outcome)
