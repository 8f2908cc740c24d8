"""The bank's answer to a released batch, line by line: paid or returned with a reason.

Booked through the owners' services: a paid withdrawal through withdrawal_mark_paid (the money
leaves the member's frozen balance and the supervision account; withdrawal.paid), a returned
one through withdrawal_mark_failed (back to available; withdrawal.failed); a micro-deposit
through merchants.services.members (paid: the card becomes verifiable, and the money leaves the
platform's fee income and the supervision account, ledger.services.micro_deposits; returned:
the platform hears bank_card.micro_deposit_returned, nothing was booked). The same answer twice is a replay and changes nothing;
a different answer to a line already answered is refused.

The result file (payouts.files) is checked whole before anything is booked: a row naming no
line of the batch, or contradicting an earlier answer, refuses the file with every error."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import InvalidState
from core.workflow import transition
from ledger.services.micro_deposits import micro_deposit_paid_book
from ledger.services.withdrawals import withdrawal_mark_failed, withdrawal_mark_paid
from merchants.services.members import (
    bank_card_micro_deposit_paid,
    bank_card_micro_deposit_returned,
)

from ..files import ResultFileRefused, parse_result_file
from ..models import PayoutBatch, PayoutLine

ANSWERABLE = (PayoutBatch.Status.RELEASED, PayoutBatch.Status.PARTIALLY_SETTLED)


def answer_line(line: PayoutLine, *, status: str, actor, reason: str = "", bank_reference: str = "") -> bool:
    """Book one line's answer (inside the caller's transaction); False for a replay."""
    if line.status != PayoutLine.Status.PENDING:
        if line.status == status:
            return False
        raise InvalidState(_("%(id)s was already answered “%(status)s”.")
                           % {"id": line.end_to_end_id, "status": line.get_status_display()})
    note = _("Payout batch %(ref)s, %(id)s") % {"ref": line.batch.reference, "id": line.end_to_end_id}
    if line.kind == PayoutLine.Kind.WITHDRAWAL:
        if status == PayoutLine.Status.PAID:
            withdrawal_mark_paid(withdrawal=line.withdrawal, actor=actor, bank_reference=bank_reference, reason=note)
        else:
            withdrawal_mark_failed(withdrawal=line.withdrawal, actor=actor, reason=reason)
    elif status == PayoutLine.Status.PAID:
        micro_deposit_paid_book(merchant=line.batch.merchant, member_id=line.bank_card.member_id, amount=line.amount,
                                reference=line.end_to_end_id, actor=actor, bank_reference=bank_reference)
        bank_card_micro_deposit_paid(card=line.bank_card, actor=actor, bank_reference=bank_reference)
    else:
        bank_card_micro_deposit_returned(card=line.bank_card, actor=actor, reason=reason)
    line.status, line.return_reason = status, (reason if status == PayoutLine.Status.RETURNED else "")[:200]
    line.bank_reference, line.answered_at = (bank_reference or "")[:64], timezone.now()
    line.save(update_fields=["status", "return_reason", "bank_reference", "answered_at"])
    return True


def close_if_answered(batch: PayoutBatch, actor, *, source: str) -> PayoutBatch:
    """After new answers: settled when every line is answered, else partially settled."""
    counts = {s: batch.lines.filter(status=s).count() for s in PayoutLine.Status.values}
    settled = not counts[PayoutLine.Status.PENDING]
    if settled:
        batch.settled_at = timezone.now()
    return transition(batch, "settle" if settled else "settle_partly", actor=actor,
                      data={"source": source, **counts})


def _locked(batch) -> PayoutBatch:
    return PayoutBatch.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=batch.pk)


@transaction.atomic
def payout_batch_apply_result(*, batch, actor, data: bytes, file_name: str = "") -> dict:
    """Read the bank's result file for this batch and book every answer in it, or none."""
    actor = as_actor(actor)
    batch = _locked(batch)
    if batch.status not in (*ANSWERABLE, PayoutBatch.Status.SETTLED):  # settled: a replay at most
        raise InvalidState(_("Only a released batch has answers to record; %(ref)s is “%(status)s”.")
                           % {"ref": batch.reference, "status": batch.get_status_display()})
    lines = {line.end_to_end_id: line
             for line in batch.lines.select_related("batch", "withdrawal", "bank_card").select_for_update(of=("self",))}
    rows = parse_result_file(data, batch_reference=batch.reference,
                             pending=[e2e for e2e, line in lines.items() if line.status == PayoutLine.Status.PENDING])
    errors = []
    for row in rows:
        line = lines.get(row.end_to_end_id)
        if line is None:
            errors.append(_("Row %(row)s: %(id)s is not a payment of batch %(ref)s.")
                          % {"row": row.row, "id": row.end_to_end_id, "ref": batch.reference})
        elif line.status != PayoutLine.Status.PENDING and line.status != row.status:
            errors.append(_("Row %(row)s: %(id)s was already answered “%(status)s”.")
                          % {"row": row.row, "id": row.end_to_end_id, "status": line.get_status_display()})
    if errors:
        raise ResultFileRefused(_("The result file is refused: %(errors)s") % {"errors": " ".join(map(str, errors[:20]))},
                                details={"errors": [str(e) for e in errors]})
    booked = {PayoutLine.Status.PAID: 0, PayoutLine.Status.RETURNED: 0}
    for row in rows:
        if answer_line(lines[row.end_to_end_id], status=row.status, actor=actor, reason=row.reason,
                       bank_reference=row.bank_reference):
            booked[row.status] += 1
    if not any(booked.values()):
        return {"paid": 0, "returned": 0, "replayed": len(rows)}  # the same file again: nothing new
    audit_record(actor=actor, obj=batch, action="result_file", reason=file_name[:200],
                 data={"file": file_name, "rows": len(rows), **booked})
    close_if_answered(batch, actor, source="result_file")
    return {"paid": booked["paid"], "returned": booked["returned"], "replayed": len(rows) - sum(booked.values())}
