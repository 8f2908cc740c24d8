"""Credit for platforms (API.md, "Credit"): parse, call credit.services, render."""
from django.utils.translation import gettext_lazy as _

from core.api.pagination import paginate
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.errors import NotFound
from merchants.api.lookups import member_or_404

from .. import selectors, services
from . import serializers as s

DRAWDOWN_ERRORS = ["invalid_amount", "credit_limit_exceeded", "credit_line_inactive", "duplicate_order",
                   "member_frozen", "account_frozen", "insufficient_funds", "invalid_state"]
REPAYMENT_ERRORS = ["invalid_amount", "invalid_state", "member_frozen", "account_frozen", "insufficient_funds"]


def _bill_or_404(merchant, pk):
    bill = selectors.bill_for(merchant, pk)
    if bill is None:
        raise NotFound()
    return bill


class MemberCreditLine(PlatformAPIView):
    @endpoint(summary="A member's credit line", response=s.CreditLineOutput, tags=["credit"],
              description="The active or suspended line; 404 when the member has none.")
    def get(self, request, user_id):
        line = selectors.credit_line_for(member_or_404(self.merchant, user_id))
        if line is None:
            raise NotFound(_("The member has no credit line."))
        return self.respond(s.CreditLineOutput, line)


class Drawdowns(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Pay a seller of the platform on credit", request=s.DrawdownInput, response=s.BillOutput,
              status=201, also={200: s.BillOutput}, errors=DRAWDOWN_ERRORS, tags=["credit"],
              description="Creates a bill due on the business date plus the line's term. Credit only pays "
                          "sellers of this platform and is never credited to the buyer. `order_no` is unique "
                          "per merchant: the same drawdown again answers 200 with the first bill; a different "
                          "one 409 `duplicate_order`. When a seller finances the line, it must have the money "
                          "(422 `insufficient_funds`).")
    def post(self, request):
        data = self.parse(s.DrawdownInput)
        member = member_or_404(self.merchant, data["user_id"], field="user_id")
        payee = member_or_404(self.merchant, data["payee_user_id"], field="payee_user_id")
        bill = services.credit_drawdown(merchant=self.merchant, actor=self.actor, member=member, payee=payee,
                                        amount=data["amount"], order_no=data["order_no"])
        return self.respond(s.BillOutput, _bill_or_404(self.merchant, bill.pk),
                            status=200 if getattr(bill, "replayed", False) else 201)


class Bills(PlatformAPIView):
    query_serializer = s.BillsQuery

    @endpoint(summary="Credit bills, newest first", response=s.BillPage, tags=["credit"], operation_id="credit_bills",
              parameters=[s.BillsQuery])
    def get(self, request):
        query = self.parse_query(s.BillsQuery)
        qs = selectors.bills_for(self.merchant, user_id=query.get("user_id"), status=query.get("status"))
        rows, next_cursor = paginate(qs, cursor=query.get("cursor"), limit=query["limit"])
        return self.respond(s.BillPage, {"results": rows, "next": next_cursor})


class BillDetail(PlatformAPIView):
    @endpoint(summary="A credit bill", response=s.BillOutput, tags=["credit"])
    def get(self, request, pk):
        return self.respond(s.BillOutput, _bill_or_404(self.merchant, pk))


class Repayments(PlatformAPIView):
    moves_money = True
    idempotency = "required"

    @endpoint(summary="Repay a bill from the buyer's available balance", request=s.RepaymentInput,
              response=s.RepaymentOutput, status=201, errors=REPAYMENT_ERRORS, tags=["credit"],
              description="Penalty interest first, then principal; the principal repaid restores the line. "
                          "More than the outstanding amount answers 400 `invalid_amount` and moves nothing.")
    def post(self, request, pk):
        bill = _bill_or_404(self.merchant, pk)
        data = self.parse(s.RepaymentInput)
        # The Idempotency-Key is the repayment's reference: one key, one repayment.
        repayment = services.credit_repay(bill=bill, actor=self.actor, amount=data["amount"],
                                          idempotency_ref=self.idempotency_key)
        repayment.bill = _bill_or_404(self.merchant, pk)
        return self.respond(s.RepaymentOutput, repayment, status=201)
