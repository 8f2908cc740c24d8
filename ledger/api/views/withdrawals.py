"""Withdrawals to a member's verified bank card: parse, call the ledger services, render."""
from drf_spectacular.utils import PolymorphicProxySerializer

from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.errors import NotFound
from merchants.api.lookups import bank_card_or_404, member_or_404

from ...models import Withdrawal
from ...services import confirmations
from ...services import withdrawals as withdrawal_services
from .. import serializers as s
from .confirmations import ChallengeOutput

# 202: a one-time-code challenge (nothing booked yet), or the withdrawal held in risk review.
ACCEPTED = PolymorphicProxySerializer(component_name="WithdrawalAccepted", serializers=[ChallengeOutput,
                                                                                       s.WithdrawalOutput],
                                      resource_type_field_name=None)


class WithdrawalCreate(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Withdraw to a verified bank card", request=s.WithdrawalInput, response=s.WithdrawalOutput,
              status=201, also={200: s.WithdrawalOutput, 202: ACCEPTED},
              errors=["invalid_amount", "duplicate_order", "member_frozen", "account_frozen", "invalid_state",
                      "insufficient_funds", "card_not_verified", "sms_unavailable", "rule_refused", "reserve_shortfall"],
              tags=["withdrawals"],
              description="The amount moves from available to frozen at once (422 `insufficient_funds` if it "
                          "can't); status `pending_approval` above the merchant's approval threshold, else "
                          "`approved`. `value_date` is today on a working day before the cut-off, else the next "
                          "working day. If the merchant asks members to confirm withdrawals, a new order answers "
                          "202 with a challenge and books nothing: the member receives a one-time code by text "
                          "message, and `POST /challenges/{challenge_id}/confirm` with it books the withdrawal.\n\n"
                          "**202 with the withdrawal, status `in_review`** (not an error; told from a challenge "
                          "by its `id` and `status`): the bank's outflow rules hold it for the risk office, its "
                          "money frozen; a risk officer approves it (it goes on as it would have: "
                          "`pending_approval` or `approved`) or refuses it with a reason (`rejected`, the money "
                          "available again); the platform hears `withdrawal.review`, then "
                          "`withdrawal.review_approved` or `withdrawal.review_refused`. A replay answers the "
                          "same. Only merchants the risk office has configured rules for ever see it. 422 "
                          "`rule_refused` (details: `rule`, `detail`): a rule refuses it.")
    def post(self, request):
        data = self.parse(s.WithdrawalInput)
        member = member_or_404(self.merchant, data["user_id"], field="user_id")
        card = bank_card_or_404(self.merchant, data["bank_card_id"], member=member, field="bank_card_id")
        if confirmations.withdrawal_needs_code(self.merchant, data["order_no"]):
            challenge = confirmations.withdrawal_challenge(
                merchant=self.merchant, actor=self.actor, member=member, amount=data["amount"], bank_card=card,
                order_no=data["order_no"])
            return self.respond(ChallengeOutput, challenge, status=202)
        withdrawal, created = withdrawal_services.withdrawal_request(
            merchant=self.merchant, actor=self.actor, member=member, amount=data["amount"], bank_card=card,
            order_no=data["order_no"])
        withdrawal = Withdrawal.objects.select_related("member", "bank_card").get(pk=withdrawal.pk)
        status = 202 if withdrawal.status == Withdrawal.Status.IN_REVIEW else 201 if created else 200
        return self.respond(s.WithdrawalOutput, withdrawal, status=status)


class WithdrawalDetail(PlatformAPIView):
    @endpoint(summary="A withdrawal", response=s.WithdrawalOutput, tags=["withdrawals"])
    def get(self, request, pk):
        withdrawal = (Withdrawal.objects.filter(merchant=self.merchant, pk=pk)
                      .select_related("member", "bank_card").first())
        if withdrawal is None:
            raise NotFound()
        return self.respond(s.WithdrawalOutput, withdrawal)
