"""Money in on the supervision account's statement, as an import meets it (steps of
services.batch_matcher, inside the import's transaction):

- from a payment channel's settlement account (PaymentChannel.settlement_account = the line's
  counterparty account): the channel paying out deposits its notifications already credited.
  It settles the oldest unsettled deposits of the channel credited up to the line's value date
  whose sum is exactly the line's amount, and books NOTHING (the money is in the books since
  each notification). A settlement that doesn't add up waits in the queue, NOT parked in
  suspense (that would count the money twice), with a note saying so;
- with an open deposit's payment code in the remark and the same amount (and, for a business
  member, the payer's name on the member's verified account; for the platform's risk reserve, the
  merchant's own legal name): the deposit is credited
  (ledger.services.deposits_bulk.deposits_credit_bulk: the rules of deposit_credit, one entry
  per deposit, proof = the bank reference);
- anything else: parked in the merchant's suspense account, waiting in the queue with a note
  saying why: one suspense entry per line (each line is its own evidence, and the queue matches
  or returns it on its own), booked in bulk (deposits_bulk.suspense_receive_bulk)."""
import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext

from core.names import same_name
from ledger.models import Deposit, PaymentChannel
from ledger.selectors import channel_unsettled
from ledger.services import channel_settlement, deposits_bulk
from ledger.services.deposits import CODE_ALPHABET, CODE_LENGTH
from merchants.models import BankCard, MemberKind

from ..models import StatementLine
from ..parsing.cells import FULL_WIDTH
from .line_outcomes import (
    OUTCOME_CHANNEL,
    OUTCOME_CHANNEL_QUEUE,
    OUTCOME_DEPOSIT,
    OUTCOME_SUSPENSE,
    LineOutcome,
)

_CODE_RUN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH},}}")


def payment_codes_in(remark: str) -> list[str]:
    """Every string a payment code could be, in remark order (what find_open_deposit_by_code
    tries, restricted to the code alphabet so a long remark stays cheap). A code the bank
    exported in full-width forms (ＲＣ７ＫＱ２Ｍ９Ｘ) is the same code; the remark is kept as written."""
    codes = []
    for run in _CODE_RUN.findall((remark or "").translate(FULL_WIDTH).upper()):
        codes.extend(run[i:i + CODE_LENGTH] for i in range(len(run) - CODE_LENGTH + 1))
    return codes


def account_key(number: str) -> str:
    """An account number as compared: spaces and dashes ignored (banks write them as they like)."""
    return re.sub(r"[\s-]", "", number or "")


def settling_channels() -> dict[str, PaymentChannel]:
    """Payment channels by settlement account number (account_key)."""
    return {account_key(c.settlement_account): c for c in PaymentChannel.objects.exclude(settlement_account="")}


def settled_note(settled: list, channel) -> str:
    """The note of a line that settled a channel's deposits."""
    return (gettext("Channel settlement: %(count)s deposits of channel %(channel)s settled, nothing booked.")
            % {"count": len(settled), "channel": channel.code})[:255]


def suspense_reference(account_number: str, bank_reference: str) -> str:
    """The idempotency key of a line's suspense entry: the line's identity (unique per account)."""
    return f"stmt:{account_number}:{bank_reference}"


def match_channel_settlements(batch, lines, channels, actor) -> list[LineOutcome]:
    """Settlement lines of payment channels, in value-date and file order (an earlier settlement
    takes the older deposits)."""
    outcomes = []
    for line in sorted(lines, key=lambda x: (x.value_date, x.line_no)):
        channel = channels[account_key(line.counterparty_account)]
        settled = channel_settlement.channel_settle(merchant=batch.merchant, channel=channel, actor=actor,
                                                    amount=line.amount, value_date=line.value_date,
                                                    reference=line.bank_reference)
        if settled is None:
            unsettled = channel_unsettled(batch.merchant, channel, up_to=line.value_date)
            total = unsettled.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
            note = gettext("Settlement from channel %(channel)s does not add up: no run of its unsettled deposits up to "
                           "%(date)s sums to %(amount)s (%(count)s unsettled, %(total)s in all). Not parked in "
                           "suspense: the money is already in the books.") % {
                "channel": channel.code, "date": line.value_date, "amount": line.amount,
                "count": unsettled.count(), "total": total}
            line.note = note[:255]
            outcomes.append(LineOutcome(line, OUTCOME_CHANNEL_QUEUE, note))
            continue
        line.status = StatementLine.Status.MATCHED.value
        line.note = settled_note(settled, channel)
        outcomes.append(LineOutcome(line, OUTCOME_CHANNEL, line.note))
    return outcomes


def match_money_in(batch, lines, actor, credited: set, parked: list) -> list[LineOutcome]:
    """Credit the deposits the lines prove; the others go to `parked` (park_in_suspense books
    them). `credited`: the deposits this file credited in earlier chunks (grows)."""
    if not lines:
        return []
    outcomes: list[LineOutcome] = []

    def park(line, note):
        line.note = note[:255]
        parked.append(line)
        outcomes.append(LineOutcome(line, OUTCOME_SUSPENSE, note))

    codes = {id(line): payment_codes_in(line.remark) for line in lines}
    wanted = {code for found in codes.values() for code in found}
    open_deposits = {}
    if wanted:
        open_deposits = {d.payment_code: d for d in Deposit.objects.filter(
            merchant_id=batch.merchant_id, status=Deposit.Status.AWAITING_FUNDS, payment_code__in=wanted,
        ).select_related("member")}
    business = {d.member_id for d in open_deposits.values() if d.member_id and d.member.kind == MemberKind.BUSINESS}
    verified_names = defaultdict(set)
    for member_id, name in BankCard.objects.filter(member_id__in=business, verified=True).values_list(
            "member_id", "account_name"):
        verified_names[member_id].add(name)
    to_credit: list[tuple] = []
    claimed: set[int] = set()  # deposits a line of this chunk asks for
    # Translated once per chunk, not once per line (most lines of a big file wait with one of these).
    already, no_code, unknown_code = (
        gettext("The deposit with this payment code was already credited by an earlier line."),
        gettext("No open deposit's payment code in the remark."),
        gettext("No open deposit has the payment code in the remark."))
    for line in lines:
        candidates = [open_deposits[c] for c in codes[id(line)] if c in open_deposits]
        deposit = next((d for d in candidates if d.pk not in credited and d.pk not in claimed), None)
        if deposit is None:
            park(line, already if candidates else no_code if not codes[id(line)] or not wanted else unknown_code)
            continue
        line.candidate_deposit_id = deposit.pk
        if deposit.amount != line.amount:
            park(line, gettext("Payment code of deposit %(order)s, but %(expected)s was announced.")
                 % {"order": deposit.order_no, "expected": deposit.amount})
            continue
        if deposit.for_platform:
            if not same_name(line.counterparty_name, batch.merchant.legal_name):
                park(line, gettext("The platform's own money (its risk reserve or its own account) must be paid by the "
                                   "platform itself: the payer's name is not the merchant's legal name."))
                continue
        elif deposit.member.kind == MemberKind.BUSINESS and not any(
                same_name(line.counterparty_name, name) for name in verified_names[deposit.member_id]):
            park(line, gettext("The payer's name is not the business member's verified account name."))
            continue
        claimed.add(deposit.pk)
        to_credit.append((line, deposit))
    if not to_credit:
        return outcomes
    booked = deposits_bulk.deposits_credit_bulk(
        merchant=batch.merchant, actor=actor, proof_kind="statement_line",
        credits=[deposits_bulk.Credit(d.pk, line.amount, line.bank_reference, line.business_date)
                 for line, d in to_credit])
    for line, deposit in to_credit:
        result = booked[deposit.pk]
        if not result.ok:  # e.g. credited a moment ago through a channel
            park(line, str(result.error.message)[:255])
            continue
        credited.add(deposit.pk)
        line.status = StatementLine.Status.POSTED.value
        line.deposit_id, line.member_id, line.entry_id = deposit.pk, deposit.member_id, result.entry_id
        line.note = ""
        outcomes.append(LineOutcome(line, OUTCOME_DEPOSIT,
                                    gettext("Deposit %(order)s credited.") % {"order": deposit.order_no}))
    return outcomes


def park_in_suspense(batch, parked: list, actor) -> None:
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
