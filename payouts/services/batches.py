"""Payout batches: build → submit → approve and release, or cancel.

- build: under the merchant's build lock (core.locks.Lock.PAYOUT_BUILD), every approved
  withdrawal due by the batch's value date and every card's micro-deposit still to be sent,
  that no live batch holds yet (the partial unique indexes on PayoutLine refuse a second one
  even if the lock were bypassed); the payee's account is copied, encrypted, onto the line, so
  the file says what was sent even if the card changes later.
  Micro-deposits are the platform's cost (ledger.services.micro_deposits): while its fee
  income can't pay them, they are left for a later batch.
- release (maker-checker on the model): the platform's fee income must still pay the
  micro-deposits; each withdrawal goes to `processing` through
  ledger.services.withdrawals.withdrawal_process, each micro-deposit to `sent` through
  merchants.services.members — one transaction: a withdrawal a freeze now stops refuses the
  whole release, naming it (cancel the batch and build again).
- cancel: the lines stop being live, so their withdrawals and micro-deposits can be built again."""
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import ApplicationError, InsufficientFunds, InvalidState, PermissionRefused
from core.locks import Lock, xact_lock
from core.workflow import transition
from ledger.calendar import business_date_for
from ledger.models import Withdrawal
from ledger.services.micro_deposits import micro_deposits_affordable
from ledger.services.withdrawals import withdrawal_process
from merchants.models import BankCard, Member, MicroDeposit
from merchants.services.members import bank_card_micro_deposit_sent

from ..models import PayoutBatch, PayoutLine

MICRO_DEPOSIT_PURPOSE = "账户验证 account verification"


def _locked(batch) -> PayoutBatch:
    return PayoutBatch.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=batch.pk)


def _reference(merchant, value_date) -> str:
    sequence = PayoutBatch.objects.filter(merchant=merchant, value_date=value_date).count() + 1
    return f"PB{value_date:%Y%m%d}M{merchant.pk}N{sequence}"


def _line(batch, n: int, *, card: BankCard, kind, amount, purpose, withdrawal=None) -> PayoutLine:
    line = PayoutLine(batch=batch, merchant_id=batch.merchant_id, kind=kind, withdrawal=withdrawal, bank_card=card,
                      amount=amount, payee_name=card.account_name, payee_bank=card.bank_name, purpose=purpose[:140],
                      end_to_end_id=f"{batch.reference}-{n:04d}")
    line.set_payee_number(card.account_number)
    return line


def due_for_payout(merchant, value_date):
    """What a build for this value date would gather now: (withdrawals, cards)."""
    live = PayoutLine.objects.filter(merchant_id=merchant.pk, live=True)
    withdrawals = (Withdrawal.objects.filter(merchant=merchant, status=Withdrawal.Status.APPROVED,
                                             value_date__lte=value_date)
                   .exclude(pk__in=live.filter(kind=PayoutLine.Kind.WITHDRAWAL).values("withdrawal_id"))
                   .select_related("bank_card").order_by("value_date", "pk"))
    cards = (BankCard.objects.filter(merchant_id=merchant.pk, micro_deposit_status=MicroDeposit.PENDING)
             .exclude(member__status=Member.Status.CLOSED)
             .exclude(pk__in=live.filter(kind=PayoutLine.Kind.MICRO_DEPOSIT).values("bank_card_id")).order_by("pk"))
    return list(withdrawals), list(cards)


@transaction.atomic
def payout_batch_build(*, merchant, actor, value_date=None) -> PayoutBatch:
    """Gather what is due into a new draft batch. Nothing due is refused (InvalidState)."""
    actor = as_actor(actor)
    if actor.user is not None and not actor.user.has_perm("payouts.build_payoutbatch"):
        raise PermissionRefused(_("You may not build payout batches."))
    value_date = value_date or business_date_for()
    xact_lock(int(Lock.PAYOUT_BUILD), merchant.pk & 0x7FFFFFFF)
    withdrawals, cards = due_for_payout(merchant, value_date)
    unaffordable = []
    try:
        micro_deposits_affordable(merchant, sum((c.micro_deposit_amount for c in cards), Decimal("0")))
    except InsufficientFunds:
        # The platform can't pay its micro-deposits yet: they wait for a later batch, the
        # withdrawals go now.
        unaffordable, cards = [c.pk for c in cards], []
    if not withdrawals and not cards:
        raise InvalidState(_("Nothing is due for payout on %(date)s: no approved withdrawal and no micro-deposit "
                             "to send.") % {"date": value_date})
    batch = PayoutBatch.objects.create(merchant=merchant, reference=_reference(merchant, value_date),
                                       value_date=value_date, created_by=actor.user)
    lines = [_line(batch, n, card=w.bank_card, kind=PayoutLine.Kind.WITHDRAWAL, amount=w.amount, withdrawal=w,
                   purpose=f"提现 withdrawal {w.order_no}")
             for n, w in enumerate(withdrawals, start=1)]
    lines += [_line(batch, n, card=card, kind=PayoutLine.Kind.MICRO_DEPOSIT, amount=card.micro_deposit_amount,
                    purpose=MICRO_DEPOSIT_PURPOSE)
              for n, card in enumerate(cards, start=len(lines) + 1)]
    PayoutLine.objects.bulk_create(lines)
    batch.count, batch.control_sum = len(lines), sum(line.amount for line in lines)
    batch.save(update_fields=["count", "control_sum"])
    audit_record(actor=actor, obj=batch, action="build", to_state=batch.status,
                 data={"value_date": value_date.isoformat(), "count": batch.count,
                       "control_sum": str(batch.control_sum), "withdrawals": [w.pk for w in withdrawals],
                       "micro_deposits": [c.pk for c in cards], "micro_deposits_unaffordable": unaffordable})
    return batch


def payout_batches_build_due(*, actor=None, value_date=None) -> list[PayoutBatch]:
    """The beat's build (per value date and cut-off): one batch per merchant with something due,
    each in its own transaction; a merchant with nothing due is skipped."""
    from merchants.models import Merchant

    value_date = value_date or business_date_for()
    built = []
    for merchant in Merchant.objects.filter(status__in=(Merchant.Status.ACTIVE, Merchant.Status.FROZEN)):
        try:
            built.append(payout_batch_build(merchant=merchant, actor=actor, value_date=value_date))
        except InvalidState:
            continue
    return built


@transaction.atomic
def payout_batch_submit(*, batch, actor, reason: str = "") -> PayoutBatch:
    batch = _locked(batch)
    batch.submitted_by = as_actor(actor).user
    return transition(batch, "submit", actor=actor, reason=reason)


def _require_person(actor):
    actor = as_actor(actor)
    if actor.user is None:
        raise PermissionRefused(_("Only bank staff may approve and release a payout batch."))
    return actor


@transaction.atomic
def payout_batch_release(*, batch, actor, reason: str = "") -> PayoutBatch:
    """A second person approves: the file may go to the bank; withdrawals go to processing and
    micro-deposits to sent, in this transaction."""
    actor = _require_person(actor)
    batch = _locked(batch)
    batch.approved_by, batch.released_at = actor.user, timezone.now()
    transition(batch, "release", actor=actor, reason=reason)
    # The platform pays its micro-deposits from its own money: it must be there when the file goes.
    micro_deposits_affordable(batch.merchant, sum(
        (line.amount for line in batch.lines.filter(kind=PayoutLine.Kind.MICRO_DEPOSIT)), Decimal("0")))
    for line in batch.lines.select_related("withdrawal", "bank_card").order_by("pk"):
        try:
            if line.kind == PayoutLine.Kind.WITHDRAWAL:
                withdrawal_process(withdrawal=line.withdrawal, actor=actor,
                                   reason=_("Payout batch %(ref)s") % {"ref": batch.reference})
            else:
                bank_card_micro_deposit_sent(card=line.bank_card, actor=actor, batch_reference=batch.reference)
        except ApplicationError as err:
            raise InvalidState(_("%(line)s can't be sent: %(message)s Cancel the batch and build it again.")
                               % {"line": line.end_to_end_id, "message": err.message}) from err
    return batch


@transaction.atomic
def payout_batch_cancel(*, batch, actor, reason: str) -> PayoutBatch:
    batch = _locked(batch)
    transition(batch, "cancel", actor=actor, reason=reason, reason_required=True)
    batch.lines.update(live=False)
    return batch
