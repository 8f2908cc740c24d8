"""Balances, statement lines and deposits: parse, call the ledger, render."""
from core.api.pagination import paginate
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.errors import NotFound
from merchants.api.lookups import member_or_404

from ..accounts import member_accounts
from ..models import Deposit, PaymentChannel, Posting
from ..selectors import member_balance
from ..services import deposits as deposit_services
from . import serializers as s
from .extensions import credit_summary


class MemberBalance(PlatformAPIView):
    @endpoint(summary="A member's balances", response=s.BalanceOutput, tags=["members"],
              description="`credit` is null unless the member has a credit line.")
    def get(self, request, user_id):
        member = member_or_404(self.merchant, user_id)
        balance = member_balance(member)
        return self.respond(s.BalanceOutput, {**balance, "currency": "CNY", "credit": credit_summary(member)})


class MemberEntries(PlatformAPIView):
    query_serializer = s.EntriesQuery

    @endpoint(summary="A member's statement lines, newest first", response=s.EntryPage, tags=["members"],
              parameters=[s.EntriesQuery],
              description="Postings on the member's available and frozen accounts; `from`/`to` filter by "
                          "business date (Asia/Shanghai, YYYY-MM-DD); pass the previous page's `next` as `cursor`.")
    def get(self, request, user_id):
        query = self.parse_query(s.EntriesQuery)
        member = member_or_404(self.merchant, user_id)
        accounts = [a.pk for a in member_accounts(member)]
        qs = (Posting.objects.filter(merchant=self.merchant, account_id__in=accounts)
              .select_related("entry", "entry__payer", "entry__payee", "account"))
        if query.get("from"):
            qs = qs.filter(entry__business_date__gte=query["from"])
        if query.get("to"):
            qs = qs.filter(entry__business_date__lte=query["to"])
        rows, next_cursor = paginate(qs, cursor=query.get("cursor"), limit=query["limit"])
        return self.respond(s.EntryPage, {"results": rows, "next": next_cursor})


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
        return self.respond(s.DepositOutput, deposit)

