"""Holds (金额冻结): risk (or a court order, 司法冻结) freezes an amount of a member's money.
The amount moves from the member's available balance to their frozen balance, where no
payment or withdrawal can reach it, and moves back when the hold is released."""
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ValidationFailed
from core.money import parse_amount
from core.permissions import require
from core.workflow import transition

from ..models import EntryType, Hold
from ..posting import Leg, Order, post_entry
from .accounts import member_accounts


@transaction.atomic
def hold_create(*, member, actor, amount, reason: str, legal_reference: str = "") -> Hold:
    actor = require(actor, "ledger.add_hold")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field="reason")
    amount = parse_amount(amount)
    legal_reference = (legal_reference or "").strip()[:100]
    available, frozen = member_accounts(member)
    # A hold keeps the money with its owner, so it may be taken on a frozen account too.
    booked = post_entry(
        merchant=member.merchant, entry_type=EntryType.HOLD, idempotency_ref=f"hold:{uuid.uuid4().hex}",
        legs=[Leg(available, -amount, allow_frozen=True), Leg(frozen, amount)], actor=actor,
        order=Order(order_no=legal_reference[:64], payer_id=member.pk, amount=amount, description=reason),
    )
    hold = Hold.objects.create(merchant_id=member.merchant_id, member=member, amount=amount, reason=reason,
                               legal_reference=legal_reference, entry=booked.entry, created_by=actor.user)
    audit_record(actor=actor, obj=hold, action="create", to_state=hold.status, reason=reason,
                 data={"amount": str(amount), "legal_reference": legal_reference, "user_id": member.user_id})
    return hold


@transaction.atomic
def hold_release(*, hold, actor, reason: str) -> Hold:
    actor = require(actor, "ledger.release_hold")
    hold = Hold.objects.select_for_update(of=("self",), no_key=True).select_related("member__merchant").get(pk=hold.pk)
    hold.released_at = timezone.now()
    transition(hold, "release", actor=actor, reason=reason, reason_required=True)
    available, frozen = member_accounts(hold.member)
    booked = post_entry(
        merchant=hold.member.merchant, entry_type=EntryType.HOLD_RELEASE, idempotency_ref=f"hold-release:{hold.pk}",
        legs=[Leg(frozen, -hold.amount, allow_frozen=True), Leg(available, hold.amount)], actor=actor,
        order=Order(order_no=hold.legal_reference[:64], payee_id=hold.member_id, amount=hold.amount,
                    description=reason.strip()),
    )
    hold.release_entry = booked.entry
    hold.save(update_fields=["release_entry"])
    return hold
