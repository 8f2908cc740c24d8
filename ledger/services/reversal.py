"""Reversals (冲正): entries are immutable, so a wrong one is corrected by a new entry with
every posting negated that points at it (`reverses`).

Rules, kept simple so anyone can predict them:
- operations only (permission ledger.reverse_entry), always with a reason;
- an entry is reversed at most once, and a reversal is never reversed (book the original
  again instead);
- an entry that opened a workflow object still in flight is corrected through that
  workflow, not here: a withdrawal not yet paid, failed or rejected (reject it or mark it
  failed), an active hold (release it), a guaranteed payment still held in escrow (release
  or refund it). Other apps add their own checks to IN_FLIGHT_CHECKS;
- the risk reserve's movements (funding, compensation, release) are never reversed here: the
  reserve moves only by the risk office's decisions (and the posting engine refuses any other
  debit of it);
- every leg is checked like any movement: a reversal that would take an account below zero
  is refused (InsufficientFunds), and one that takes money out of a frozen account is refused
  (AccountFrozen) until risk unfreezes it."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import InvalidState, ValidationFailed
from core.permissions import require

from ..models import EntryType, Hold, JournalEntry, Payment, Withdrawal
from ..posting import Leg, Order, post_entry


def _withdrawal_in_flight(entry):
    w = (Withdrawal.objects.filter(request_entry=entry)
         .exclude(status__in=[Withdrawal.Status.PAID, Withdrawal.Status.FAILED, Withdrawal.Status.REJECTED]).first())
    if w is not None:
        return _("it opened withdrawal %(order)s, which is still “%(status)s”: reject it or mark it failed instead") % {
            "order": w.order_no, "status": w.get_status_display()}
    return None


def _hold_in_flight(entry):
    h = Hold.objects.filter(entry=entry, status=Hold.Status.ACTIVE).first()
    if h is not None:
        return _("it opened hold #%(id)s, which is still active: release the hold instead") % {"id": h.pk}
    return None


def _payment_in_flight(entry):
    p = Payment.objects.filter(entry=entry, status=Payment.Status.HELD).first()
    if p is not None:
        return _("it opened payment %(order)s, still held in escrow: release or refund it instead") % {
            "order": p.order_no}
    return None


RESERVE_TYPES = (EntryType.RESERVE_DEPOSIT, EntryType.RESERVE_COMPENSATION, EntryType.RESERVE_RELEASE)


def _reserve_movement(entry):
    if entry.entry_type in RESERVE_TYPES:
        return _("it moved the risk reserve, which only the risk office's approved decisions move")
    return None


# fn(entry) -> reason it can't be reversed, or None. Apps built on the ledger append theirs.
IN_FLIGHT_CHECKS: list = [_withdrawal_in_flight, _hold_in_flight, _payment_in_flight, _reserve_movement]


def reversal_blocker(entry: JournalEntry) -> str | None:
    """Why this entry can't be reversed now (None if it can). The admin uses it to show the button."""
    if entry.reverses_id is not None:
        return _("A reversal can't be reversed; book the original movement again instead.")
    existing = JournalEntry.objects.filter(reverses=entry).values_list("pk", flat=True).first()
    if existing is not None:
        return _("This entry was already reversed by entry #%(id)s.") % {"id": existing}
    for check in IN_FLIGHT_CHECKS:
        blocker = check(entry)
        if blocker:
            return _("This entry can't be reversed: %(why)s.") % {"why": blocker}
    return None


@transaction.atomic
def entry_reverse(*, entry, actor, reason: str) -> JournalEntry:
    actor = require(actor, "ledger.reverse_entry", message=_("Only operations may reverse an entry."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required."), field="reason")
    # The row lock serialises two reversals of one entry (the unique (merchant, reverses) backs it up).
    entry = JournalEntry.objects.select_for_update(of=("self",), no_key=True).select_related("merchant").get(pk=entry.pk)
    blocker = reversal_blocker(entry)
    if blocker:
        raise InvalidState(blocker)
    legs = [Leg(p.account, -p.account.natural_sign * p.amount, check=True)
            for p in entry.postings.select_related("account").order_by("id")]
    booked = post_entry(
        merchant=entry.merchant, entry_type=EntryType.REVERSAL, idempotency_ref=f"reversal:{entry.pk}", legs=legs,
        actor=actor, reverses=entry,
        order=Order(order_no=entry.order_no, payer_id=entry.payer_id, payee_id=entry.payee_id,
                    amount=entry.order_amount, description=reason),
    )
    if not booked.created:  # pragma: no cover - the lock and the checks above make this unreachable
        raise InvalidState(_("This entry was already reversed."))
    # Recorded on the original, so its page shows who reversed it and why.
    audit_record(actor=actor, obj=entry, action="reverse", reason=reason,
                 data={"reversal": booked.entry.pk, "entry_type": entry.entry_type, "order_no": entry.order_no})
    return booked.entry
