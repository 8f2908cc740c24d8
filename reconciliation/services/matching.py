"""Matching statement lines: automatically when a batch is imported, and by hand from the
exception queue.

Automatic (BatchMatcher), per chunk of lines, set-based: one query per kind of lookup and one
bulk booking per kind of outcome, never a statement per line:
- money in from a payment channel's settlement account (PaymentChannel.settlement_account =
  the line's counterparty account) is the channel paying out deposits its notifications
  already credited: it settles the oldest unsettled deposits of the channel credited up to the
  line's value date whose sum is exactly the line's amount, and books NOTHING (the money is
  in the books since each notification). A settlement that doesn't add up waits in the queue,
  NOT parked in suspense (that would count the money twice), with a note saying so;
- money in whose remark carries an open deposit's payment code, with the same amount (and,
  for a business member, the payer's name on the member's verified account) → the deposit is
  credited (ledger.services.deposits_bulk.deposits_credit_bulk: the rules of deposit_credit,
  one entry per deposit, proof = the bank reference);
- any other money in → parked in the merchant's suspense account, waiting in the queue with
  a note saying why: one suspense entry per line (each line is its own evidence, and the
  queue matches or returns it on its own), booked in bulk (deposits_bulk.suspense_receive_bulk);
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
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import InvalidState, NotFound, OrderMismatch, ValidationFailed
from core.names import same_name
from core.workflow import transition
from ledger.models import Deposit, PaymentChannel, Withdrawal
from ledger.selectors import channel_unsettled
from ledger.services import channel_settlement, deposits_bulk
from ledger.services import deposits as deposit_services
from ledger.services.deposits import CODE_ALPHABET, CODE_LENGTH
from merchants.models import BankCard, MemberKind

from ..models import StatementBatch, StatementLine
from ..parsing.cells import FULL_WIDTH

PREVIEW_LIMIT = 500
OUTCOME_DEPOSIT, OUTCOME_SUSPENSE = "deposit", "suspense"
OUTCOME_WITHDRAWAL, OUTCOME_OUT_QUEUE = "withdrawal", "queue_out"
OUTCOME_CHANNEL, OUTCOME_CHANNEL_QUEUE = "channel_settlement", "queue_channel"
MATCHED_OUTCOMES = (OUTCOME_DEPOSIT, OUTCOME_WITHDRAWAL, OUTCOME_CHANNEL)
UNMATCHED_OUTCOMES = (OUTCOME_SUSPENSE, OUTCOME_OUT_QUEUE, OUTCOME_CHANNEL_QUEUE)
OUTCOME_LABELS = {
    OUTCOME_DEPOSIT: _("Deposit credited"),
    OUTCOME_WITHDRAWAL: _("Paid withdrawal"),
    OUTCOME_CHANNEL: _("Channel settlement"),
    OUTCOME_SUSPENSE: _("Suspense: exception queue"),
    OUTCOME_OUT_QUEUE: _("Exception queue (not booked)"),
    OUTCOME_CHANNEL_QUEUE: _("Channel settlement that does not add up: exception queue (not booked)"),
    "duplicate": _("Duplicate: skipped"),
    "error": _("Error"),
    "skipped": _("Zero amount: skipped"),
}
_CODE_RUN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH},}}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def payment_codes_in(remark: str) -> list[str]:
    """Every string a payment code could be, in remark order (what find_open_deposit_by_code
    tries, restricted to the code alphabet so a long remark stays cheap). A code the bank
    exported in full-width forms (ＲＣ７ＫＱ２Ｍ９Ｘ) is the same code; the remark is kept as written."""
    codes = []
    for run in _CODE_RUN.findall((remark or "").translate(FULL_WIDTH).upper()):
        codes.extend(run[i:i + CODE_LENGTH] for i in range(len(run) - CODE_LENGTH + 1))
    return codes


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
        # The channels' settlement accounts (a handful, bank-wide): looked up once per import.
        self.channels = settling_channels()

    def match(self, lines: list[NewLine]) -> None:
        self.chunks += 1
        parked: list[NewLine] = []
        money_in = [x for x in lines if x.amount > 0]
        if self.channels:
            settlements = [x for x in money_in if _account_key(x.counterparty_account) in self.channels]
            if settlements:
                _match_channel_settlements(self.batch, settlements, self.channels, self.actor, self.result)
                money_in = [x for x in money_in if _account_key(x.counterparty_account) not in self.channels]
        _match_money_in(self.batch, money_in, self.actor, self.credited, parked, self.result)
        _match_money_out(self.batch, [x for x in lines if x.amount < 0], self.paid_out, self.result)
        _park_in_suspense(self.batch, parked, self.actor)

    def finish(self) -> None:
        result = self.result
        result.matched = sum(result.outcomes[o] for o in MATCHED_OUTCOMES)
        result.unmatched = sum(result.outcomes[o] for o in UNMATCHED_OUTCOMES)
        result.preview.sort(key=lambda p: p["line"] or 0)


def suspense_reference(account_number: str, bank_reference: str) -> str:
    """The idempotency key of a line's suspense entry: the line's identity (unique per account)."""
    return f"stmt:{account_number}:{bank_reference}"


def _park_in_suspense(batch, parked: list[NewLine], actor):
    """One suspense entry per parked line, booked in bulk."""
    if not parked:
        return
    description = gettext("Unidentified money in, statement import #%(batch)s") % {"batch": batch.pk}
    entries = deposits_bulk.suspense_receive_bulk(merchant=batch.merchant, actor=actor, items=[
        deposits_bulk.Parked(reference=suspense_reference(batch.account_number, x.bank_reference), amount=x.amount,
                             order_no=x.bank_reference, description=description, business_date=x.business_date)
        for x in parked])
    for line in parked:
        booked = entries[suspense_reference(batch.account_number, line.bank_reference)]
        if not booked.created:  # the line is new (duplicates were skipped), so its parking must be too
            raise RuntimeError(f"statement line {line.bank_reference} was parked in suspense before")
        line.suspense_entry_id = booked.entry_id


def _account_key(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "")


def settling_channels() -> dict[str, PaymentChannel]:
    """Payment channels by settlement account number (spaces and dashes ignored: banks write
    account numbers as they like)."""
    return {_account_key(c.settlement_account): c for c in PaymentChannel.objects.exclude(settlement_account="")}


def _settled_note(settled: list, channel) -> str:
    return (gettext("Channel settlement: %(count)s deposits of channel %(channel)s settled, nothing booked.")
            % {"count": len(settled), "channel": channel.code})[:255]


def _outcome(result, line: NewLine, outcome: str, detail: str = ""):
    result.outcomes[outcome] += 1
    if len(result.preview) < PREVIEW_LIMIT:
        result.preview.append({
            "line": line.line_no, "reference": line.bank_reference, "value_date": line.value_date,
            "amount": line.amount, "counterparty": line.counterparty_name, "remark": line.remark,
            "outcome": outcome, "detail": detail,
        })


def _match_channel_settlements(batch, lines, channels, actor, result):
    """Settlement lines of payment channels, in value-date and file order (an earlier settlement
    takes the older deposits)."""
    for line in sorted(lines, key=lambda x: (x.value_date, x.line_no)):
        channel = channels[_account_key(line.counterparty_account)]
        settled = channel_settlement.channel_settle(merchant=batch.merchant, channel=channel, actor=actor,
                                               amount=line.amount, value_date=line.value_date,
                                               reference=line.bank_reference)
        if settled is None:
            unsettled = channel_unsettled(batch.merchant, channel, up_to=line.value_date)
            total = unsettled.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
            note = gettext("Settlement from channel %(channel)s does not add up: no run of its unsettled deposits up to "
                      "%(date)s sums to %(amount)s (%(count)s unsettled, %(total)s in all). Not parked in suspense: "
                      "the money is already in the books.") % {
                "channel": channel.code, "date": line.value_date, "amount": line.amount,
                "count": unsettled.count(), "total": total}
            line.note = note[:255]
            _outcome(result, line, OUTCOME_CHANNEL_QUEUE, note)
            continue
        line.status = StatementLine.Status.MATCHED.value
        line.note = _settled_note(settled, channel)
        _outcome(result, line, OUTCOME_CHANNEL, line.note)


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
    to_credit: list[tuple[NewLine, Deposit]] = []
    claimed: set[int] = set()  # deposits a line of this chunk asks for
    # Translated once per chunk, not once per line (most lines of a big file wait with one of these).
    already, no_code, unknown_code = (gettext("The deposit with this payment code was already credited by an earlier line."),
                                      gettext("No open deposit's payment code in the remark."),
                                      gettext("No open deposit has the payment code in the remark."))
    for line in lines:
        candidates = [open_deposits[c] for c in codes[id(line)] if c in open_deposits]
        deposit = next((d for d in candidates if d.pk not in credited and d.pk not in claimed), None)
        if deposit is None:
            note = already if candidates else no_code if not codes[id(line)] or not wanted else unknown_code
            _park(line, note, parked, result)
            continue
        line.candidate_deposit_id = deposit.pk
        if deposit.amount != line.amount:
            _park(line, gettext("Payment code of deposit %(order)s, but %(expected)s was announced.")
                  % {"order": deposit.order_no, "expected": deposit.amount}, parked, result)
            continue
        if deposit.member.kind == MemberKind.BUSINESS and not any(
                same_name(line.counterparty_name, name) for name in verified_names[deposit.member_id]):
            _park(line, gettext("The payer's name is not the business member's verified account name."), parked, result)
            continue
        claimed.add(deposit.pk)
        to_credit.append((line, deposit))
    if not to_credit:
        return
    outcomes = deposits_bulk.deposits_credit_bulk(
        merchant=batch.merchant, actor=actor, proof_kind="statement_line",
        credits=[deposits_bulk.Credit(d.pk, line.amount, line.bank_reference, line.business_date)
                 for line, d in to_credit])
    for line, deposit in to_credit:
        outcome = outcomes[deposit.pk]
        if not outcome.ok:  # e.g. credited a moment ago through a channel
            _park(line, str(outcome.error.message)[:255], parked, result)
            continue
        credited.add(deposit.pk)
        line.status = StatementLine.Status.POSTED.value
        line.deposit_id, line.member_id, line.entry_id = deposit.pk, deposit.member_id, outcome.entry_id
        line.note = ""
        _outcome(result, line, OUTCOME_DEPOSIT, gettext("Deposit %(order)s credited.") % {"order": deposit.order_no})


def _park(line, note, parked, result):
    line.note = note[:255]
    parked.append(line)
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
            _outcome(result, line, OUTCOME_WITHDRAWAL, gettext("Paid withdrawal %(order)s.") % {"order": w.order_no})
            continue
        line.note = note[:255]
        _outcome(result, line, OUTCOME_OUT_QUEUE, note)


# --- the exception queue (by hand) -------------------------------------------------------------

def _locked_line(line: StatementLine) -> StatementLine:
    return StatementLine.objects.select_for_update(of=("self",), no_key=True).select_related("merchant").get(pk=line.pk)


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
    if money_in and line.suspense_entry_id is None:
        # A channel settlement that did not add up: its money is already in the books through
        # the channel's notifications, so nothing may be taken from suspense for it.
        raise InvalidState(_("This line is not parked in suspense (a payment channel's settlement): "
                             "settle it against the channel's deposits instead."))


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


@transaction.atomic
def statement_line_settle_channel(*, line: StatementLine, actor, reason: str) -> StatementLine:
    """Try a channel settlement that did not add up at import again (e.g. a late notification
    has credited the missing deposit since): the same exact-sum rule, nothing booked."""
    _require_reason(reason)
    line = _locked_line(line)
    if line.status != StatementLine.Status.UNMATCHED or line.amount < 0 or line.suspense_entry_id is not None:
        raise InvalidState(_("Only a channel settlement waiting in the exception queue can be settled."))
    channel = settling_channels().get(_account_key(line.counterparty_account))
    if channel is None:
        raise InvalidState(_("No payment channel settles from the line's counterparty account."))
    settled = channel_settlement.channel_settle(merchant=line.merchant, channel=channel, actor=actor, amount=line.amount,
                                           value_date=line.value_date, reference=line.bank_reference)
    if settled is None:
        raise OrderMismatch(_("The channel's unsettled deposits up to the value date still do not add up to "
                              "the line's amount."))
    line.note = _settled_note(settled, channel)
    _resolved(line, actor, reason)
    return transition(line, "match", actor=actor, reason=reason, reason_required=True,
                      action="settle_channel", data={"channel": channel.code, "deposits": len(settled)})
