"""Payment channel notifications (多渠道接入): a channel tells the bank that money arrived.

The notification is signed exactly like a platform request (core.api.signing), with the
channel's own app id and secret (PaymentChannel.app_id / .secret), at
POST /api/v1/channels/{channel_code}/notifications. Body:

    {"payment_code": "K7Q2M9XW3P", "amount": "12.34", "transaction_id": "CH-20240101-0001",
     "deposit_id": 42, "account_number": "62284800000000123"}

`transaction_id` (the channel's own reference) is required; the deposit is found by
`payment_code` (or `deposit_id`); `account_number` (the supervision account the money reached)
is optional and names the merchant when the code is unknown.

Outcomes — the money is booked exactly once whatever is replayed:
- an open deposit of this channel whose amount matches → credited (deposit_credit, proof
  "channel_notification" + the transaction id); the same notification again changes nothing;
- the amount differs, the deposit is already credited by other proof, cancelled, or belongs to
  another channel → the money goes to the merchant's suspense account (the operations
  exception queue), never to a member; the same transaction id twice books once;
- no deposit and no known supervision account → 404, nothing booked (the channel retries or
  operations follow up);
- an unsigned, wrongly signed or replayed (nonce) notification → 401, nothing changes."""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.actors import Actor
from core.api.authentication import Principal, SignedRequestAuthentication
from core.errors import InvalidState, MerchantInactive, NotFound, OrderMismatch
from merchants.models import Merchant

from .models import Deposit, PaymentChannel
from .services.deposits import deposit_credit, suspense_receive

PROOF_KIND = "channel_notification"


class ChannelSignatureAuthentication(SignedRequestAuthentication):
    """The channel named in the URL, signing with its own app id and secret."""

    nonce_scope_prefix = "channel:"

    def credentials(self, app_id, request):
        code = (request.parser_context or {}).get("kwargs", {}).get("channel_code")
        channel = PaymentChannel.objects.filter(code=code, app_id=app_id, enabled=True).first()
        if channel is None:
            return None
        return channel, [channel.secret]

    def make_principal(self, app_id, owner):
        return Principal(app_id=app_id, owner=owner, actor=Actor.channel(owner.code), scope="channel")


@dataclass
class NotificationOutcome:
    result: str  # "credited" | "suspense"
    reference: str
    deposit: Deposit | None = None
    merchant: Merchant | None = None


def _find_deposit(payment_code: str | None, deposit_id: int | None, account_number: str | None) -> Deposit | None:
    qs = Deposit.objects.select_related("merchant", "member", "channel")
    if payment_code:
        # A code is unique per merchant only: should two merchants' deposits share it, the
        # supervision account (or the deposit id) must say which one, else trust neither.
        matches = list(qs.filter(payment_code=payment_code.strip().upper()))
        if len(matches) > 1 and account_number:
            matches = [d for d in matches if d.merchant.supervision_account_number == account_number.strip()]
        if len(matches) > 1 and deposit_id is not None:
            matches = [d for d in matches if d.pk == deposit_id]
        deposit = matches[0] if len(matches) == 1 else None
        if deposit is not None and deposit_id is not None and deposit.pk != deposit_id:
            return None  # the two identifiers disagree: trust neither
        return deposit
    if deposit_id is not None:
        return qs.filter(pk=deposit_id).first()
    return None


def channel_notification_accept(*, channel: PaymentChannel, amount, transaction_id: str,
                                payment_code: str | None = None, deposit_id: int | None = None,
                                account_number: str | None = None) -> NotificationOutcome:
    actor = Actor.channel(channel.code)
    reference = f"channel:{channel.code}:{transaction_id}"
    deposit = _find_deposit(payment_code, deposit_id, account_number)
    if deposit is not None and deposit.channel_id == channel.pk:
        try:
            deposit = deposit_credit(deposit=deposit, actor=actor, amount=amount, proof_kind=PROOF_KIND,
                                     proof_reference=reference)
            return NotificationOutcome("credited", reference, deposit=deposit, merchant=deposit.merchant)
        except (OrderMismatch, InvalidState, MerchantInactive):
            pass  # real money that this deposit can't take: to suspense below
    merchant = deposit.merchant if deposit is not None else None
    if merchant is None and account_number:
        merchant = Merchant.objects.filter(supervision_account_number=account_number.strip()).first()
    if merchant is None:
        raise NotFound(_("No deposit with this payment code, and no supervision account with this number."))
    suspense_receive(merchant=merchant, actor=actor, amount=amount, reference=reference,
                     description=f"channel {channel.code} {transaction_id} code {payment_code or deposit_id or ''}"[:255])
    return NotificationOutcome("suspense", reference, deposit=deposit, merchant=merchant)
