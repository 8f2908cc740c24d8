"""Events for platforms: a transactional outbox, the one way every app tells a platform anything.

`emit(merchant, event_type, data)` is called by a service inside its own transaction. It writes
the event's WebhookDelivery row (pending, due now) in that transaction, so the event commits with
the movement or not at all; after COMMIT it only nudges the sender (merchants.services.webhooks). A process
that dies between COMMIT and the nudge, a broker that is down or a nudge that is lost delays the
event until the beat task `deliver_due` (every minute) sends whatever is due — it is never lost.
Each attempt claims its row first, so the nudge and the beat never send one attempt twice.

A merchant without a webhook URL gets no rows: nothing would read them.

Apps that build on merchants (ledger, credit, reconciliation) import this module; merchants never
imports them."""
import json
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import WebhookDelivery
from . import webhooks

# Every event a platform can receive (API.md, "Webhooks"); anything else is a programming error.
EVENT_TYPES = {
    "deposit.succeeded": _("A deposit was credited on bank-side proof."),
    "deposit.expired": _("An announced deposit was not paid in time and can no longer be credited."),
    "payment.released": _("A guaranteed payment was released to its payees."),
    "payment.partially_released": _("Part of a guaranteed payment was released; the rest is still held in escrow."),
    "payment.refunded": _("Part or all of a payment went back to the payer."),
    "withdrawal.rejected": _("A withdrawal was refused by the bank's staff; the money is available again."),
    "withdrawal.paid": _("The bank paid a withdrawal."),
    "withdrawal.failed": _("The bank could not pay a withdrawal; the money is available again."),
    "platform_account.funded": _("The bank credited a deposit of the platform's own money to its own account."),
    "bank_card.micro_deposit_paid": _("The bank paid a corporate card's micro-deposit: the member may now read "
                                      "the amount back to verify the card."),
    "bank_card.micro_deposit_returned": _("The bank could not pay a corporate card's micro-deposit: the account "
                                          "number or name is wrong; the card can't be verified."),
    "credit.bill.overdue": _("A credit bill passed its grace period unpaid."),
    "merchant.frozen": _("The bank froze the platform: nothing may leave its accounts."),
    "member.frozen": _("The bank froze a member."),
    "balance.alert": _("A balance monitor of the bank's risk office was crossed (once per crossing)."),
    # Outflow rules (risk): a movement held for a risk officer, and the officer's decision.
    "payment.review": _("An outflow rule put a payment in the bank's risk review; the payer's money is held."),
    "payment.review_approved": _("A risk officer approved a payment in review; it is booked."),
    "payment.review_refused": _("A risk officer refused a payment in review; the payer's money is available again."),
    "withdrawal.review": _("An outflow rule put a withdrawal in the bank's risk review; its money stays frozen."),
    "withdrawal.review_approved": _("A risk officer approved a withdrawal in review; it goes on."),
    "withdrawal.review_refused": _("A risk officer refused a withdrawal in review; the money is available again."),
    "release.review": _("An outflow rule put a release from escrow in the bank's risk review; the money stays "
                        "in escrow."),
    "release.review_approved": _("A risk officer approved a release in review; it is booked."),
    "release.review_refused": _("A risk officer refused a release in review; the money stays in escrow."),
    "reserve.funded": _("A deposit for the platform's risk reserve was credited on bank-side proof."),
    "reserve.compensation_paid": _("The bank paid a member a compensation from the platform's risk reserve."),
    "reserve.released": _("The bank released the platform's risk reserve to its own account (closing)."),
}


def emit(merchant, event_type: str, data: dict) -> WebhookDelivery | None:
    """Write the event into the outbox in the caller's transaction; nudge the sender after COMMIT."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if not merchant.webhook_url:
        return None
    now = timezone.now()
    event_id = "evt_" + uuid.uuid4().hex
    payload = {"id": event_id, "type": event_type, "created_at": timezone.localtime(now).isoformat(),
               "data": json.loads(json.dumps(data, default=str))}
    delivery = WebhookDelivery.objects.create(merchant_id=merchant.pk, event_id=event_id, event_type=event_type,
                                              payload=payload, next_attempt_at=now, created_at=now)
    transaction.on_commit(lambda: webhooks.schedule(delivery.pk))
    return delivery
