"""Payouts proven by the supervision account's statement (registered in
reconciliation.hooks.money_out_settlements by payouts' AppConfig.ready).

A money-out line names, in its remark, either a released batch's reference (the bank debited
the batch in one amount: it must equal the sum of the batch's payments still unanswered, which
are then all paid) or one payment's end-to-end id (its amount must be that payment's). A paid
withdrawal takes the statement line's bank reference, so the import's usual money-out matching
then links the line to it; a batch line and a micro-deposit line are accounted for here. A line
that names nothing of ours, or whose amount differs, goes on to the usual matching unchanged
(and, unmatched, waits in the exception queue)."""
import re

from django.db import transaction
from django.utils.translation import gettext

from core.errors import ApplicationError

from ..models import PayoutBatch, PayoutLine
from .answers import ANSWERABLE, answer_line, close_if_answered

_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def settle_statement_lines(*, merchant_id, lines, actor) -> dict[int, str]:
    """Book what the lines prove; return {index in lines: detail} of the lines accounted for here."""
    tokens = {i: _TOKEN.findall(line.remark or "") for i, line in enumerate(lines)}
    wanted = {t for found in tokens.values() for t in found if t.startswith("PB")}
    if not wanted:
        return {}
    batches = {b.reference: b for b in PayoutBatch.objects.filter(merchant_id=merchant_id, reference__in=wanted,
                                                                  status__in=ANSWERABLE)}
    payments = {p.end_to_end_id: p for p in PayoutLine.objects.filter(
        merchant_id=merchant_id, end_to_end_id__in=wanted, status=PayoutLine.Status.PENDING,
        batch__status__in=ANSWERABLE).select_related("batch", "withdrawal", "bank_card")}
    if not batches and not payments:
        return {}
    accounted, touched = {}, {}
    for i, line in enumerate(lines):
        batch = next((batches[t] for t in tokens[i] if t in batches), None)
        payment = next((payments[t] for t in tokens[i] if t in payments), None)
        try:
            with transaction.atomic():
                if batch is not None:
                    detail = _settle_batch(batch, line, actor)
                    if detail:
                        accounted[i] = detail
                        touched[batch.pk] = batch
                elif payment is not None and payment.amount == -line.amount:
                    answer_line(payment, status=PayoutLine.Status.PAID, actor=actor,
                                bank_reference=line.bank_reference)
                    payments.pop(payment.end_to_end_id)
                    touched[payment.batch_id] = payment.batch
                    if payment.kind == PayoutLine.Kind.MICRO_DEPOSIT:
                        accounted[i] = gettext("Micro-deposit %(id)s paid.") % {"id": payment.end_to_end_id}
        except ApplicationError:
            continue  # left to the usual matching, which says why it does not match
    for batch in touched.values():
        close_if_answered(PayoutBatch.objects.select_for_update().get(pk=batch.pk), actor, source="statement")
    return accounted


def _settle_batch(batch: PayoutBatch, line, actor) -> str:
    pending = list(batch.lines.filter(status=PayoutLine.Status.PENDING)
                   .select_related("batch", "withdrawal", "bank_card").order_by("pk"))
    if not pending or sum(p.amount for p in pending) != -line.amount:
        return ""
    for payment in pending:
        answer_line(payment, status=PayoutLine.Status.PAID, actor=actor, bank_reference=line.bank_reference)
    return gettext("Payout batch %(ref)s: %(n)s payments paid.") % {"ref": batch.reference, "n": len(pending)}
