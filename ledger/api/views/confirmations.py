"""One-time-code challenges: the 202 answer of a movement the member must confirm, and its confirmation."""
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from core.api.fields import PlainCharField
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from merchants.models import Challenge

from ...models import Payment
from ...services import confirmations
from .. import serializers as s


class ChallengeOutput(serializers.Serializer):
    challenge_id = serializers.CharField(source="token")
    status = serializers.ChoiceField(choices=Challenge.Status.values)
    purpose = serializers.ChoiceField(choices=Challenge.Purpose.values)
    user_id = serializers.CharField(source="member.user_id")
    sent_to = serializers.CharField(help_text="The member's phone, masked, that the code was sent to.")
    expires_at = serializers.DateTimeField()


class ConfirmInput(serializers.Serializer):
    code = PlainCharField(max_length=12)


CONFIRMED = PolymorphicProxySerializer(component_name="ConfirmedMovement",
                                       serializers=[s.WithdrawalOutput, s.PaymentOutput],
                                       resource_type_field_name=None)


class ChallengeConfirm(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Confirm a movement with the member's one-time code", request=ConfirmInput,
              response=CONFIRMED, status=201, also={202: CONFIRMED},
              errors=["invalid_code", "challenge_closed", "insufficient_funds", "member_frozen", "account_frozen",
                      "invalid_state", "card_not_verified", "duplicate_order", "rule_refused", "reserve_shortfall",
                      "invalid_amount"],
              tags=["withdrawals"],
              description="Books what the challenge holds, exactly as the request would have, and answers it: a "
                          "withdrawal (purpose `withdrawal`), or the payment (purposes `payment` and `release`: "
                          "the payment as booked, or after the release). A wrong code answers 400 "
                          "`invalid_code` with `attempts_left`; after the last one, or once the code has expired "
                          "(5 minutes) or been used, 409 `challenge_closed` with `reason` (`locked`, `expired`, "
                          "`used`). A refused booking (e.g. 422 `insufficient_funds`) leaves the challenge open "
                          "until it expires. 202 with status `in_review`: the bank's outflow rules hold the "
                          "booked movement for its risk office (see `POST /withdrawals`, `POST /payments`).")
    def post(self, request, token):
        data = self.parse(ConfirmInput)
        purpose, booked = confirmations.movement_confirm(merchant=self.merchant, token=token, code=data["code"],
                                                         actor=self.actor)
        if purpose == Challenge.Purpose.WITHDRAWAL:
            return self.respond(s.WithdrawalOutput, booked,
                                status=202 if booked.status == booked.Status.IN_REVIEW else 201)
        from .payments import (
            payment_or_404,  # (payments imports ChallengeOutput from here)
        )

        payment = payment_or_404(self.merchant, booked.pk)
        return self.respond(s.PaymentOutput, payment, status=202 if payment.status == Payment.Status.IN_REVIEW else 201)
