"""Deposits credited and money parked in suspense in bulk (a statement import's chunk).

The same rules as ledger.services.deposits.deposit_credit / suspense_receive, set-based:
- deposits_credit_bulk locks the chunk's deposits in one statement (id order), checks each as
  deposit_credit would (awaiting funds, same amount; the same proof again books nothing; a
  refusal is returned for that deposit, never raised, so the caller parks its line), books one
  DEPOSIT entry per deposit with its real order through ledger.posting_bulk, marks the
  deposits succeeded in one UPDATE, writes one audit record per deposit (the "succeed"
  transition, hash-chained through core.audit) and emits one deposit.succeeded event each;
- suspense_receive_bulk parks several amounts, one SUSPENSE_IN entry each.
- channel_settle marks a channel's credited deposits as settled by a bank statement line (the
  money was booked when the channel's notification proved it: nothing is booked again)."""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record_many
from core.errors import ApplicationError, NotFound
from core.sql.arrays import pg_array

from .. import guards
from ..accounts import members_accounts, platform_account
from ..models import AccountKind, Deposit, EntryType
from ..posting import Leg, Order
from ..posting_bulk import BulkBooked, BulkEntry, post_credits_bulk
from .deposits import deposit_legs, emit_succeeded, ensure_creditable

CHANNEL_PROOF = "channel_notification"


@dataclass(frozen=True)
class Credit:
    deposit_id: int
    amount: Decimal
    proof_reference: str
    business_date: datetime.date | None = None


@dataclass
class CreditOutcome:
    deposit: Deposit | None = None
    entry_id: int | None = None
    error: ApplicationError | None = None  # why this deposit was not credited

    @property
    def ok(self) -> bool:
        return self.error is None


@transaction.atomic
def deposits_credit_bulk(*, merchant, actor, proof_kind: str, credits: list[Credit]) -> dict[int, CreditOutcome]:
    """Credit several announced deposits of one merchant; deposit id -> outcome."""
    if not credits:
        return {}
    locked = {d.pk: d for d in Deposit.objects.select_for_update(of=("self",), no_key=True).select_related("member")
              .filter(merchant_id=merchant.pk, pk__in={c.deposit_id for c in credits}).order_by("pk")}
    try:
        guards.ensure_merchant_can_receive(merchant)
    except ApplicationError as err:
        return {c.deposit_id: CreditOutcome(locked.get(c.deposit_id), error=err) for c in credits}
    outcomes: dict[int, CreditOutcome] = {}
    to_book: list[tuple[Credit, Deposit]] = []
    for credit in credits:
        deposit = locked.get(credit.deposit_id)
        if credit.deposit_id in outcomes:
            continue  # asked twice in one call: the first request stands, one outcome per deposit
        try:
            if deposit is None:
                raise NotFound(_("No such deposit."))
            if ensure_creditable(deposit, credit.amount, proof_kind, credit.proof_reference):
                outcomes[credit.deposit_id] = CreditOutcome(deposit, deposit.entry_id)  # the same proof again
                continue
        except ApplicationError as err:
            outcomes[credit.deposit_id] = CreditOutcome(deposit, error=err)
            continue
        outcomes[credit.deposit_id] = CreditOutcome(deposit)
        to_book.append((credit, deposit))
    if not to_book:
        return outcomes
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    accounts = members_accounts({d.member_id: d.member for _c, d in to_book}.values())
    booked = post_credits_bulk(merchant=merchant, entry_type=EntryType.DEPOSIT, actor=actor, entries=[
        BulkEntry(*deposit_legs(d, supervision, accounts[d.member_id][0]), business_date=c.business_date)
        for c, d in to_book])
    now = timezone.now()
    for credit, deposit in to_book:
        deposit.entry_id = booked[f"deposit:{deposit.pk}"].entry_id
        deposit.status = Deposit.Status.SUCCEEDED
        deposit.proof_kind, deposit.proof_reference = proof_kind, credit.proof_reference[:128]
        deposit.credited_at = now
        outcomes[deposit.pk].entry_id = deposit.entry_id
    _mark_succeeded([d for _c, d in to_book], now)
    audit_record_many(actor=actor, records=[
        {"model": Deposit, "object_id": d.pk, "object_repr": str(d), "merchant_id": d.merchant_id,
         "action": "succeed", "from_state": Deposit.Status.AWAITING_FUNDS, "to_state": Deposit.Status.SUCCEEDED,
         "data": {"proof": proof_kind, "reference": d.proof_reference}}
        for _c, d in to_book])
    for _c, d in to_book:
        emit_succeeded(merchant, d)
    return outcomes


def _mark_succeeded(deposits: list[Deposit], now):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE ledger_deposit d SET status = %s, entry_id = v.entry_id, proof_kind = v.kind,
                          proof_reference = v.ref, credited_at = %s
                   FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, entry_id, kind, ref)
                   WHERE d.id = v.id""",
                [Deposit.Status.SUCCEEDED, now, pg_array(d.pk for d in deposits),
                 pg_array(d.entry_id for d in deposits), pg_array(d.proof_kind for d in deposits),
                 pg_array(d.proof_reference for d in deposits)])
        return
    Deposit.objects.bulk_update(deposits, ["status", "entry", "proof_kind", "proof_reference", "credited_at"])


@dataclass(frozen=True)
class Parked:
    reference: str  # unique per merchant among suspense inflows (the entry's idempotency key)
    amount: Decimal
    order_no: str = ""
    description: str = ""
    business_date: datetime.date | None = None


@transaction.atomic
def suspense_receive_bulk(*, merchant, actor, items: list[Parked]) -> dict[str, BulkBooked]:
    """Money no deposit explains, one SUSPENSE_IN entry per item (supervision up, suspense up);
    returns reference -> (entry id, created). A reference booked before returns its entry and
    books nothing (as suspense_receive's replay)."""
    if not items:
        return {}
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    suspense = platform_account(merchant, AccountKind.SUSPENSE)
    booked = post_credits_bulk(merchant=merchant, entry_type=EntryType.SUSPENSE_IN, actor=actor, entries=[
        BulkEntry(idempotency_ref=f"suspense-in:{p.reference}",
                  legs=(Leg(supervision, p.amount), Leg(suspense, p.amount)),
                  order=Order(order_no=(p.order_no or p.reference)[:64], amount=p.amount,
                              description=p.description),
                  business_date=p.business_date)
        for p in items])
    return {p.reference: booked[f"suspense-in:{p.reference}"] for p in items}


# --- channel settlement -----------------------------------------------------------------------

def channel_unsettled(merchant, channel, *, up_to: datetime.date | None = None):
    """The channel's deposits credited on its notification and not yet settled to the
    supervision account, oldest first (business date of the credit, then credit order)."""
    qs = Deposit.objects.filter(merchant_id=merchant.pk, channel=channel, status=Deposit.Status.SUCCEEDED,
                                proof_kind=CHANNEL_PROOF, settled_at__isnull=True)
    if up_to is not None:
        qs = qs.filter(entry__business_date__lte=up_to)
    return qs.order_by("entry__business_date", "entry_id")


def channel_in_transit(merchant, business_date: datetime.date) -> Decimal:
    """Money of the merchant's channel deposits that the books hold at the end of a business
    date but the bank does not yet: credited (entry business date up to the date) and not
    settled by a statement line with a value date up to it. The end of day subtracts it from
    the book supervision balance before comparing with the bank's closing balance."""
    total = (Deposit.objects.filter(merchant_id=merchant.pk, proof_kind=CHANNEL_PROOF,
                                    status=Deposit.Status.SUCCEEDED, entry__business_date__lte=business_date)
             .exclude(settlement_value_date__lte=business_date)
             .aggregate(s=Sum("amount"))["s"])
    return total or Decimal("0.00")


@transaction.atomic
def channel_settle(*, merchant, channel, actor, amount: Decimal, value_date: datetime.date,
                   reference: str) -> list[Deposit] | None:
    """A statement line from the channel's settlement account paid `amount` on `value_date`:
    settle the oldest unsettled deposits of the channel credited up to that date whose sum is
    exactly the amount (the whole days the channel settles). Returns the settled deposits, or
    None when no run of them adds up (nothing changes). Books nothing: the money entered the
    books when the channel's notification credited each deposit."""
    candidates = list(channel_unsettled(merchant, channel, up_to=value_date)
                      .select_for_update(of=("self",), no_key=True)
                      .only("pk", "amount", "order_no", "payment_code", "merchant_id", "status"))
    running, cut = Decimal("0.00"), None
    for i, deposit in enumerate(candidates):
        running += deposit.amount
        if running == amount:
            cut = i + 1
            break
        if running > amount:
            break
    if cut is None:
        return None
    settled = candidates[:cut]
    now = timezone.now()
    Deposit.objects.filter(pk__in=[d.pk for d in settled]).update(
        settled_at=now, settlement_reference=reference[:128], settlement_value_date=value_date)
    audit_record_many(actor=actor, records=[
        {"model": Deposit, "object_id": d.pk, "object_repr": str(d), "merchant_id": d.merchant_id,
         "action": "channel_settled", "from_state": d.status, "to_state": d.status,
         "data": {"channel": channel.code, "reference": reference, "value_date": value_date,
                  "settlement_amount": amount}}
        for d in settled])
    return settled
