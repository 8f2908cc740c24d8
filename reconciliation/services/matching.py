"""Matching statement lines: automatically when a batch is imported, and by hand from the
exception queue.

Automatic (match_batch), per chunk of lines with one query per kind of lookup, never one per
line:
- money in whose remark carries an open deposit's payment code, with the same amount (and,
  for a business member, the payer's name on the member's verified account) → the deposit is
  credited (ledger.services.deposits.deposit_credit, proof = the bank reference);
- any other money in → parked in the merchant's suspense account, waiting in the queue with
  a note saying why. The parking is one suspense entry per chunk of 2,000 lines and business
  date (not one per line): the books add up the same, and a 100,000-line file parks its
  unidentified money in about fifty entries instead of 100,000;
- money out is never booked from the statement: money leaving the supervision account must
  be a withdrawal the ledger already booked. A line matches a paid withdrawal by its bank
  reference or an order number in the remark; anything else waits in the queue unbooked, and
  the end of day shows the gap between the bank's and the book's balance until it is settled.

By hand (exception queue), each with a reason and an audit record: match a parked line to a
deposit or a member, return it to the payer, match a money-out line to a withdrawal, or
ignore a money-out line."""
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import ApplicationError, InvalidState, NotFound, OrderMismatch, ValidationFailed
from core.workflow import transition
from ledger.models import Deposit, Withdrawal
from ledger.services import deposits as deposit_services
from ledger.services.deposits import CODE_ALPHABET, CODE_LENGTH
from merchants.models import BankCard, MemberKind

from ..models import StatementBatch, StatementLine

CHUNK = 2000
PREVIEW_LIMIT = 500
OUTCOME_DEPOSIT, OUTCOME_SUSPENSE = "deposit", "suspense"
OUTCOME_WITHDRAWAL, OUTCOME_OUT_QUEUE = "withdrawal", "queue_out"
MATCHED_OUTCOMES = (OUTCOME_DEPOSIT, OUTCOME_WITHDRAWAL)
OUTCOME_LABELS = {
    OUTCOME_DEPOSIT: _("Deposit credited"),
    OUTCOME_WITHDRAWAL: _("Paid withdrawal"),
    OUTCOME_SUSPENSE: _("Suspense: exception queue"),
    OUTCOME_OUT_QUEUE: _("Exception queue (not booked)"),
    "duplicate": _("Duplicate: skipped"),
    "error": _("Error"),
}
_CODE_RUN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH},}}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def payment_codes_in(remark: str) -> list[str]:
    """Every string a payment code could be, in remark order (what find_open_deposit_by_code
    tries, restricted to the code alphabet so a long remark stays cheap)."""
    codes = []
    for run in _CODE_RUN.findall((remark or "").upper()):
        codes.extend(run[i:i + CODE_LENGTH] for i in range(len(run) - CODE_LENGTH + 1))
    return codes


def _same_name(a: str, b: str) -> bool:
    def norm(s):
        return re.sub(r"\s+", "", (s or "").replace("（", "(").replace("）", ")")).casefold()

    return bool(norm(a)) and norm(a) == norm(b)


# --- automatic matching of an imported batch --------------------------------------------------

@dataclass(slots=True)
class NewLine:
    """A line being imported, with the outcome decided for it before it is stored (so each line
    is written once, with its outcome: no second pass, no UPDATE of 100,000 rows)."""

    line_no: int
    bank_reference: str
    value_date: object
    business_date: object
    amount: Decimal
    counterparty_name: str
    counterparty_account: str
    counterparty_bank: str
    remark: str
    balance: Decimal | None
    status: str = StatementLine.Status.UNMATCHED.value
    note: str = ""
    candidate_deposit_id: int | None = None
    deposit_id: int | None = None
    withdrawal_id: int | None = None
    member_id: int | None = None
    entry_id: int | None = None
    suspense_entry_id: int | None = None


class BatchMatcher:
    """Matches and books an import's lines chunk by chunk, inside the import's transaction."""

    def __init__(self, batch: StatementBatch, *, actor, result):
        self.batch, self.actor, self.result = batch, actor, result
        self.credited: set[int] = set()  # deposits credited by this file
        self.paid_out: set[int] = set()  # withdrawals matched by this file
        self.chunks = 0

    def match(self, lines: list[NewLine]) -> None:
        self.chunks += 1
        parked: dict = defaultdict(list)
        _match_money_in(self.batch, [x for x in lines if x.amount > 0], self.actor, self.credited, parked,
                        self.result)
        _match_money_out(self.batch, [x for x in lines if x.amount < 0], self.paid_out, self.result)
        # One suspense entry per chunk and business date parks the unidentified money.
        for business_date, waiting in sorted(parked.items()):
            entry = deposit_services.suspense_receive(
                merchant=self.batch.merchant, actor=self.actor, amount=sum(x.amount for x in waiting),
                reference=f"statement:{self.batch.pk}:{self.chunks}:{business_date}",
                description=_g("Unidentified money in, statement import #%(batch)s") % {"batch": self.batch.pk},
                business_date=business_date,
            )
            for line in waiting:
                line.suspense_entry_id = entry.pk

    def finish(self) -> None:
        result = self.result
        result.matched = sum(result.outcomes[o] for o in MATCHED_OUTCOMES)
        result.unmatched = result.outcomes[OUTCOME_SUSPENSE] + result.outcomes[OUTCOME_OUT_QUEUE]
        result.preview.sort(key=lambda p: p["line"] or 0)


def _outcome(result, line: NewLine, outcome: str, detail: str = ""):
    result.outcomes[outcome] += 1
    if len(result.preview) < PREVIEW_LIMIT:
        result.preview.append({
            "line": line.line_no, "reference": line.bank_reference, "value_date": line.value_date,
            "amount": line.amount, "counterparty": line.counterparty_name, "remark": line.remark,
            "outcome": outcome, "detail": detail,
        })


def _match_money_in(batch, lines, actor, credited, parked, result):
    if not lines:
        return
    codes = {id(line): payment_codes_in(line.remark) for line in lines}
    wanted = {code for found in codes.values() for code in found}
    open_deposits = {}
    if wanted:
        open_deposits = {d.payment_code: d for d in Deposit.objects.filter(
            merchant_id=batch.merchant_id, status=Deposit.Status.AWAITING_FUNDS, payment_code__in=wanted,
        ).select_related("member")}
    business = {d.member_id for d in open_deposits.values() if d.member.kind == MemberKind.BUSINESS}
    verified_names = defaultdict(set)
    for member_id, name in BankCard.objects.filter(member_id__in=business, verified=True).values_list(
            "member_id", "account_name"):
        verified_names[member_id].add(name)
    for line in lines:
        candidates = [open_deposits[c] for c in codes[id(line)] if c in open_deposits]
        deposit = next((d for d in candidates if d.pk not in credited), None)
        if deposit is None:
            note = (_g("The deposit with this payment code was already credited by an earlier line.") if candidates
                    else _g("No open deposit's payment code in the remark.") if not codes[id(line)] or not wanted
                    else _g("No open deposit has the payment code in the remark."))
            _park(line, note, parked, result)
            continue
        line.candidate_deposit_id = deposit.pk
        if deposit.amount != line.amount:
            _park(line, _g("Payment code of deposit %(order)s, but %(expected)s was announced.")
                  % {"order": deposit.order_no, "expected": deposit.amount}, parked, result)
            continue
        if deposit.member.kind == MemberKind.BUSINESS and not any(
                _same_name(line.counterparty_name, name) for name in verified_names[deposit.member_id]):
            _park(line, _g("The payer's name is not the business member's verified account name."), parked, result)
            continue
        try:
            booked = deposit_services.deposit_credit(
                deposit=deposit, actor=actor, amount=line.amount, proof_kind="statement_line",
                proof_reference=line.bank_reference, business_date=line.business_date,
            )
        except ApplicationError as err:  # e.g. credited a moment ago through a channel
            _park(line, str(err.message)[:255], parked, result)
            continue
        credited.add(deposit.pk)
        line.status = StatementLine.Status.POSTED.value
        line.deposit_id, line.member_id, line.entry_id = deposit.pk, deposit.member_id, booked.entry_id
        line.note = ""
        _outcome(result, line, OUTCOME_DEPOSIT, _g("Deposit %(order)s credited.") % {"order": deposit.order_no})


def _park(line, note, parked, result):
    line.note = note[:255]
    parked[line.business_date].append(line)
    _outcome(result, line, OUTCOME_SUSPENSE, note)


def _match_money_out(batch, lines, paid_out, result):
    if not lines:
        return
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
            note = _g("No withdrawal carries this bank reference or an order number from the remark.")
        elif w.pk in taken or w.pk in paid_out:
            note = _g("Withdrawal %(order)s is already matched to another statement line.") % {"order": w.order_no}
        elif w.amount != -line.amount:
            note = _g("Withdrawal %(order)s is for %(amount)s.") % {"order": w.order_no, "amount": w.amount}
        elif w.status != Withdrawal.Status.PAID:
            note = _g("Withdrawal %(order)s is %(status)s: record it as paid, then match this line.") % {
                "order": w.order_no, "status": w.get_status_display()}
        else:
            paid_out.add(w.pk)
            line.status = StatementLine.Status.MATCHED.value
            line.withdrawal_id, line.member_id, line.entry_id, line.note = w.pk, w.member_id, w.final_entry_id, ""
            _outcome(result, line, OUTCOME_WITHDRAWAL, _g("Paid withdrawal %(order)s.") % {"order": w.order_no})
            continue
        line.note = note[:255]
        _outcome(result, line, OUTCOME_OUT_QUEUE, note)


# --- the exception queue (by hand) -------------------------------------------------------------

def _locked_line(line: StatementLine) -> StatementLine:
    return StatementLine.objects.select_for_update().select_related("merchant").get(pk=line.pk)


def _require_reason(reason: str):
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")


def _require(line: StatementLine, *, money_in: bool):
    if line.status != StatementLine.Status.UNMATCHED:
        raise InvalidState(_("The line is no longer waiting in the exception queue (%(status)s).")
                           % {"status": line.get_status_display()})
    if money_in and line.amount < 0:
        raise InvalidState(_("This is money out: match it to a withdrawal or ignore it."))
    if not money_in and line.amount > 0:
        raise InvalidState(_("This is money in, parked in suspense: match it or return it."))


def _resolved(line, actor, reason):
    line.reason = reason
    line.resolved_by = as_actor(actor).user
    line.resolved_at = timezone.now()


@transaction.atomic
def statement_line_match_to_deposit(*, line: StatementLine, deposit: Deposit, actor, reason: str) -> StatementLine:
    """Parked money is the announced deposit after all (e.g. the payer mistyped the code)."""
    _require_reason(reason)
    line = _locked_line(line)
    _require(line, money_in=True)
    if deposit.merchant_id != line.merchant_id:
        raise NotFound(_("No such deposit."))
    if deposit.amount != line.amount:
        raise OrderMismatch(_("The deposit was announced for %(expected)s; the line is %(amount)s. "
                              "Match it to the member instead, or return it.")
                            % {"expected": deposit.amount, "amount": line.amount})
    deposit = deposit_services.suspense_match_to_deposit(
        merchant=line.merchant, actor=actor, deposit=deposit, amount=line.amount, reference=line.bank_reference,
        reason=reason)
    line.deposit, line.member_id, line.entry_id = deposit, deposit.member_id, deposit.entry_id
    _resolved(line, actor, reason)
    return transition(line, "match_and_post", actor=actor, reason=reason, reason_required=True,
                      action="match_to_deposit", data={"deposit": deposit.order_no, "amount": str(line.amount)})


@transaction.atomic
def statement_line_match_to_member(*, line: StatementLine, member, actor, reason: str) -> StatementLine:
    """Parked money belongs to a member although no deposit was announced."""
    _require_reason(reason)
    line = _locked_line(line)
    _require(line, money_in=True)
    if member.merchant_id != line.merchant_id:
        raise NotFound(_("No such member."))
    entry = deposit_services.suspense_match_to_member(
        merchant=line.merchant, actor=actor, member=member, amount=line.amount, reference=line.bank_reference,
        reason=reason)
    line.member, line.entry = member, entry
    _resolved(line, actor, reason)
    return transition(line, "match_and_post", actor=actor, reason=reason, reason_required=True,
                      action="match_to_member", data={"member": member.user_id, "amount": str(line.amount)})


@transaction.atomic
def statement_line_return(*, line: StatementLine, actor, reason: str) -> StatementLine:
    """Send parked money back to the payer: suspense and supervision both go down."""
    _require_reason(reason)
    line = _locked_line(line)
    _require(line, money_in=True)
    entry = deposit_services.suspense_return(merchant=line.merchant, actor=actor, amount=line.amount,
                                             reference=line.bank_reference, reason=reason)
    line.entry = entry
    _resolved(line, actor, reason)
    return transition(line, "return_to_payer", actor=actor, reason=reason, reason_required=True,
                      data={"amount": str(line.amount), "counterparty": line.counterparty_name})


@transaction.atomic
def statement_line_match_to_withdrawal(*, line: StatementLine, withdrawal: Withdrawal, actor,
                                       reason: str) -> StatementLine:
    """A money-out line is a withdrawal after all (e.g. recorded as paid after the import)."""
    _require_reason(reason)
    line = _locked_line(line)
    _require(line, money_in=False)
    if withdrawal.merchant_id != line.merchant_id:
        raise NotFound(_("No such withdrawal."))
    if withdrawal.status != Withdrawal.Status.PAID:
        raise InvalidState(_("Only a paid withdrawal can be matched."))
    if withdrawal.amount != -line.amount:
        raise OrderMismatch(_("The withdrawal is for %(amount)s.") % {"amount": withdrawal.amount})
    if StatementLine.objects.filter(withdrawal=withdrawal).exists():
        raise InvalidState(_("The withdrawal is already matched to another statement line."))
    line.withdrawal, line.member_id, line.entry_id = withdrawal, withdrawal.member_id, withdrawal.final_entry_id
    _resolved(line, actor, reason)
    return transition(line, "match", actor=actor, reason=reason, reason_required=True,
                      action="match_to_withdrawal", data={"withdrawal": withdrawal.order_no})


@transaction.atomic
def statement_line_ignore(*, line: StatementLine, actor, reason: str) -> StatementLine:
    """Money out that needs no booking here (e.g. the bank's own fee, settled with the bank).
    Money in can't be ignored: it sits in suspense until matched or returned."""
    _require_reason(reason)
    line = _locked_line(line)
    _require(line, money_in=False)
    _resolved(line, actor, reason)
    return transition(line, "ignore", actor=actor, reason=reason, reason_required=True,
                      data={"amount": str(line.amount)})
