"""Members and bank cards: parse, call merchants.services, render."""
from core.api.schema import endpoint
from core.api.views import PlatformAPIView

from ..services.members import bank_card_add, bank_card_verify, member_create
from . import serializers as s
from .lookups import bank_card_or_404, member_or_404


class MemberCreate(PlatformAPIView):
    idempotency = "required"

    @endpoint(summary="Register a member (a platform user)", request=s.MemberInput, response=s.MemberOutput,
              status=201, errors=["duplicate"], tags=["members"])
    def post(self, request):
        data = self.parse(s.MemberInput)
        member = member_create(merchant=self.merchant, actor=self.actor, **data)
        return self.respond(s.MemberOutput, member, status=201)


class MemberDetail(PlatformAPIView):
    @endpoint(summary="A member", response=s.MemberOutput, tags=["members"])
    def get(self, request, user_id):
        return self.respond(s.MemberOutput, member_or_404(self.merchant, user_id))


class BankCards(PlatformAPIView):
    idempotency = "required"

    @endpoint(summary="A member's bank cards", response=s.BankCardOutput(many=True), tags=["bank cards"])
    def get(self, request, user_id):
        member = member_or_404(self.merchant, user_id)
        return self.respond(s.BankCardOutput, member.bank_cards.order_by("-id"), many=True)

    @endpoint(summary="Bind a bank card", request=s.BankCardInput, response=s.BankCardOutput, status=201,
              errors=["invalid_state"], tags=["bank cards"],
              description="Individual members' cards whose account name matches the member verify at once; "
                          "business members' cards verify by micro-deposit (see verify).")
    def post(self, request, user_id):
        member = member_or_404(self.merchant, user_id)
        data = self.parse(s.BankCardInput)
        card = bank_card_add(member=member, actor=self.actor, **data)
        return self.respond(s.BankCardOutput, card, status=201)


class BankCardVerify(PlatformAPIView):
    idempotency = "optional"  # verifying twice is harmless; a key is honoured when given

    @endpoint(summary="Verify a bank card by its micro-deposit amount", request=s.BankCardVerifyInput,
              response=s.BankCardOutput, errors=["invalid_amount", "invalid_state"], tags=["bank cards"],
              description="A wrong amount answers 400 `invalid_amount` and counts as an attempt; after 5 "
                          "wrong amounts the card must be added again (409 `invalid_state`).")
    def post(self, request, user_id, pk):
        member = member_or_404(self.merchant, user_id)
        card = bank_card_or_404(self.merchant, pk, member=member)
        data = self.parse(s.BankCardVerifyInput)
        card = bank_card_verify(card=card, actor=self.actor, amount=data["amount"])
        return self.respond(s.BankCardOutput, card)
