"""Channel settlement: a statement line from a channel's settlement account marks the channel's
credited deposits as settled (the money was booked when the channel's notification proved it:
nothing is booked again)."""
import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record_many

from ..models import Deposit
from ..selectors import channel_unsettled


@transaction.atomic
def channel_settle(*, merchant, channel, actor, amount: Decimal, value_date: datetime.date,
                   reference: str) -> list[Deposit] | None:
    """A statement line from the channel's settlement account paid `amount` on `value_date`:
    settle the oldest unsettled deposits of the channel credited up to that date whose sum is
    exactly the amount (the whole days the channel settles). Returns the settled deposits, or
    None when no run of them adds up (nothing changes). Books nothing: the money entered the
    books when the channel's notification credited each deposit."""
    candidates = list(channel_unsettled(merchant, channel, up_to=value_date)
                      .select_for_update(of=("self",), no_key=True)
                      .only("pk", "amount", "order_no", "payment_code", "merchant_id", "status"))
    running, cut = Decimal("0.00"), None
    for i, deposit in enumerate(candidates):
        running += deposit.amount
        if running == amount:
            cut = i + 1
            break
        if running > amount:
            break
    if cut is None:
        return None
    settled = candidates[:cut]
    now = timezone.now()
    Deposit.objects.filter(pk__in=[d.pk for d in settled]).update(
        settled_at=now, settlement_reference=reference[:128], settlement_value_date=value_date)
    audit_record_many(actor=actor, records=[
        {"model": Deposit, "object_id": d.pk, "object_repr": str(d), "merchant_id": d.merchant_id,
         "action": "channel_settled", "from_state": d.status, "to_state": d.status,
         "data": {"channel": channel.code, "reference": reference, "value_date": value_date,
                  "settlement_amount": amount}}
        for d in settled])
    return settled
