"""Deposits credited and money parked in suspense in bulk (a statement import's chunk).

The same rules as ledger.services.deposits.deposit_credit / suspense_receive, set-based:
- deposits_credit_bulk locks the chunk's deposits in one statement (id order), checks each as
  deposit_credit would (awaiting funds, same amount; the same proof again books nothing; a
  refusal is returned for that deposit, never raised, so the caller parks its line), books one
  DEPOSIT entry per deposit (RESERVE_DEPOSIT for the platform's risk reserve) with its real order
  through ledger.posting_bulk, marks the
  deposits succeeded in one UPDATE, writes one audit record per deposit (the "succeed"
  transition, hash-chained through core.audit) and emits one deposit.succeeded event each;
- suspense_receive_bulk parks several amounts, one SUSPENSE_IN entry each."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record_many
from core.errors import ApplicationError, NotFound
from core.sql.arrays import pg_array

from .. import guards
from ..models import AccountKind, Deposit, EntryType
from ..posting import Leg, Order
from ..posting_bulk import BulkBooked, BulkEntry, post_credits_bulk
from .accounts import members_accounts, platform_account
from .deposits import (
    PLATFORM_CREDITED,
    deposit_entry_type,
    deposit_legs,
    emit_succeeded,
    ensure_creditable,
)


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
    accounts = members_accounts({d.member_id: d.member for _c, d in to_book if not d.for_platform}.values())
    booked = {}
    for purpose in Deposit.Purpose.values:  # one bulk booking per entry type: members', reserve, platform's own
        chunk = [(c, d) for c, d in to_book if d.purpose == purpose]
        if not chunk:
            continue
        entry_type = deposit_entry_type(chunk[0][1])
        credited = platform_account(merchant, PLATFORM_CREDITED[purpose]) if purpose in PLATFORM_CREDITED else None
        booked.update(post_credits_bulk(merchant=merchant, entry_type=entry_type, actor=actor, entries=[
            BulkEntry(*deposit_legs(d, supervision, credited or accounts[d.member_id][0]),
                      business_date=c.business_date)
            for c, d in chunk]))
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
