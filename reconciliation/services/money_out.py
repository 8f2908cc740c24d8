"""Money out on the supervision account's statement, as an import meets it (a step of
services.batch_matcher): never booked from the statement, since money leaving the supervision
account must be a withdrawal the ledger already booked. A line matches a paid withdrawal by its
bank reference or an order number in the remark; anything else waits in the exception queue
unbooked, and the end of day shows the gap between the bank's and the book's balance until it
is settled."""
import re

from django.db.models import Q
from django.utils.translation import gettext

from ledger.models import Withdrawal

from .. import hooks
from ..models import StatementLine
from .line_outcomes import (
    OUTCOME_OUT_QUEUE,
    OUTCOME_SETTLED_BY_HOOK,
    OUTCOME_WITHDRAWAL,
    LineOutcome,
)

_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def settle_by_hooks(batch, lines, actor) -> tuple[list[LineOutcome], list]:
    """Offer the lines to the apps registered in hooks.money_out_settlements (payouts: a payout
    batch or payment named in the remark); returns their outcomes and the lines left to match."""
    outcomes = []
    for settle in hooks.money_out_settlements:
        accounted = settle(merchant_id=batch.merchant_id, lines=lines, actor=actor) if lines else {}
        for i, detail in accounted.items():
            line = lines[i]
            line.status, line.note = StatementLine.Status.MATCHED.value, detail[:255]
            outcomes.append(LineOutcome(line, OUTCOME_SETTLED_BY_HOOK, detail))
        lines = [line for i, line in enumerate(lines) if i not in accounted]
    return outcomes, lines


def match_money_out(batch, lines, paid_out: set) -> list[LineOutcome]:
    """Match money-out lines to paid withdrawals. `paid_out`: the withdrawals this file matched
    in earlier chunks (grows)."""
    if not lines:
        return []
    outcomes = []
    tokens = {id(line): _TOKEN.findall(line.remark or "") for line in lines}
    references = {line.bank_reference for line in lines}
    order_nos = {t for found in tokens.values() for t in found}
    withdrawals = list(Withdrawal.objects.filter(merchant_id=batch.merchant_id).filter(
        Q(bank_reference__in=references) | Q(order_no__in=order_nos)))
    by_reference = {w.bank_reference: w for w in withdrawals if w.bank_reference}
    by_order = {w.order_no: w for w in withdrawals}
    taken = set(StatementLine.objects.filter(merchant_id=batch.merchant_id, withdrawal__in=withdrawals)
                .values_list("withdrawal_id", flat=True)) if withdrawals else set()
    for line in lines:
        w = by_reference.get(line.bank_reference) or next(
            (by_order[t] for t in tokens[id(line)] if t in by_order), None)
        if w is None:
            note = gettext("No withdrawal carries this bank reference or an order number from the remark.")
        elif w.pk in taken or w.pk in paid_out:
            note = gettext("Withdrawal %(order)s is already matched to another statement line.") % {"order": w.order_no}
        elif w.amount != -line.amount:
            note = gettext("Withdrawal %(order)s is for %(amount)s.") % {"order": w.order_no, "amount": w.amount}
        elif w.status != Withdrawal.Status.PAID:
            note = gettext("Withdrawal %(order)s is %(status)s: record it as paid, then match this line.") % {
                "order": w.order_no, "status": w.get_status_display()}
        else:
            paid_out.add(w.pk)
            line.status = StatementLine.Status.MATCHED.value
            line.withdrawal_id, line.member_id, line.entry_id, line.note = w.pk, w.member_id, w.final_entry_id, ""
            outcomes.append(LineOutcome(line, OUTCOME_WITHDRAWAL,
                                        gettext("Paid withdrawal %(order)s.") % {"order": w.order_no}))
            continue
        line.note = note[:255]
        outcomes.append(LineOutcome(line, OUTCOME_OUT_QUEUE, note))
    return outcomes
