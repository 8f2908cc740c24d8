"""The exception queue, by hand: lines the import could not match wait here until a person
decides, each with a reason and an audit record. Money in parked in suspense is matched to a
deposit or a member, or returned to the payer; a money-out line is matched to a withdrawal or
ignored; a channel settlement that did not add up is tried again against the channel's deposits."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import InvalidState, NotFound, OrderMismatch, ValidationFailed
from core.workflow import transition
from ledger.models import Deposit, Withdrawal
from ledger.services import channel_settlement
from ledger.services import deposits as deposit_services

from ..models import StatementLine
from . import money_in


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
    channel = money_in.settling_channels().get(money_in.account_key(line.counterparty_account))
    if channel is None:
        raise InvalidState(_("No payment channel settles from the line's counterparty account."))
    settled = channel_settlement.channel_settle(merchant=line.merchant, channel=channel, actor=actor,
                                                amount=line.amount, value_date=line.value_date,
                                                reference=line.bank_reference)
    if settled is None:
        raise OrderMismatch(_("The channel's unsettled deposits up to the value date still do not add up to "
                              "the line's amount."))
    line.note = money_in.settled_note(settled, channel)
    _resolved(line, actor, reason)
    return transition(line, "match", actor=actor, reason=reason, reason_required=True,
                      action="settle_channel", data={"channel": channel.code, "deposits": len(settled)})
