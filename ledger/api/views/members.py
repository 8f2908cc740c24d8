"""A member's balances and statement lines: parse, read, render."""
from core.api.pagination import paginate
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from merchants.api.lookups import member_or_404

from ...models import Posting
from ...selectors import member_account_ids, member_balance, with_running_balances
from .. import serializers as s
from ..extensions import credit_summary


class MemberBalance(PlatformAPIView):
    @endpoint(summary="A member's balances", response=s.BalanceOutput, tags=["members"],
              description="The balances now: a credit to a hot account (a busy seller's, booked without a "
                          "row lock) counts from its booking on. `credit` is null unless the member has a "
                          "credit line.")
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
        qs = (Posting.objects.filter(merchant=self.merchant, account_id__in=member_account_ids(member))
              .select_related("entry", "entry__payer", "entry__payee", "account"))
        if query.get("from"):
            qs = qs.filter(entry__business_date__gte=query["from"])
        if query.get("to"):
            qs = qs.filter(entry__business_date__lte=query["to"])
        rows, next_cursor = paginate(qs, cursor=query.get("cursor"), limit=query["limit"])
        rows = with_running_balances(rows)
        return self.respond(s.EntryPage, {"results": rows, "next": next_cursor})
