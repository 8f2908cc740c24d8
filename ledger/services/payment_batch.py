"""Payments in bulk (批量支付: end-of-day settlement, 分账 runs): up to MAX_ITEMS payments in one
transaction, each decided exactly as `payment_create` decides a single one.

- Non-atomic: items succeed or fail independently: an item that is refused (insufficient
  funds, a frozen party, a duplicate order, an unknown member, an invalid amount) books nothing
  of its own and the others still book. The same order number twice in one batch behaves like
  two single requests: the second is a replay of the first (same content) or `duplicate_order`.
- Atomic (TigerBeetle's linked events): the first refused item aborts the transaction, so
  nothing of the batch is booked, and `BatchItemRefused` names the item.

Two ways to book, with the same answers and the same books (tests/api/test_payment_batch_paths.py):
- PostgreSQL, set-based: the batch's members are looked up in one query, the ordinary accounts
  of every party are locked and read in one statement, in account-id order; each item is then
  decided in order in memory against those balances (nothing else can move a locked row, so
  they are the balances payment_create would see), and what was accepted is written in a fixed
  number of statements whatever the batch's size (payments, splits, entries, one INSERT of all
  postings with their balance after, hot-account deltas, balances). An order number a concurrent
  request inserts meanwhile makes the payments' INSERT fail: that attempt is rolled back (its
  savepoint) and the batch goes the other way.
- Item by item (SQLite, that fallback, and a merchant the outflow rules apply to — each payment
  judged, reviewed or refused exactly as payment_create would): each item through payment_create
  in its own savepoint, after the same lock pass.
Every single payment locks its accounts in id order too (ledger.posting), so a batch and single
payments racing on the same accounts queue instead of deadlocking; without the lock pass the
items would lock accounts in the batch's order, not the ids'. The database triggers (balanced
entries, append-only postings, composite merchant keys) check the batch's rows as they check
a single payment's."""
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import (
    AccountFrozen,
    ApplicationError,
    DuplicateOrder,
    InsufficientFunds,
    NotFound,
)
from core.sql.arrays import pg_array
from merchants.models import Member, Merchant

from .. import guards, outflows
from ..calendar import auto_release_at, business_date_for
from ..models import (
    Account,
    AccountKind,
    EntryType,
    HotBalanceDelta,
    JournalEntry,
    Payment,
    PaymentSplit,
    Posting,
)
from .accounts import members_accounts, platform_account
from .payments import _fingerprint, _validated_request, payment_create

MAX_ITEMS = 1000


@dataclass(frozen=True)
class BatchItem:
    """One payment of the batch, already parsed (the API's PaymentInput)."""

    payer_user_id: str
    amount: object
    order_no: str
    mode: str
    payee_user_id: str | None = None
    splits: tuple = ()  # ((user_id, amount), ...) when not paying one payee
    platform_fee: object = None  # a Decimal, or None for no fee
    description: str = ""


@dataclass
class ItemOutcome:
    payment: Payment | None = None
    created: bool = False
    error: ApplicationError | None = None


class BatchItemRefused(ApplicationError):
    """An atomic batch refused as a whole because of one item: the item's own status and code,
    with `details.index` naming it and the item's details under `payments.<index>.<field>`."""

    def __init__(self, index: int, *, status: int, code: str, message, details: dict | None = None):
        self.status = status
        self.index = index
        prefixed = {f"payments.{index}.{key}": value for key, value in (details or {}).items()}
        super().__init__(
            _("Payment %(index)d of the batch was refused, so none was booked: %(message)s")
            % {"index": index, "message": message},
            code=code, details={"index": index, **prefixed})

    @classmethod
    def of(cls, index: int, error: ApplicationError) -> "BatchItemRefused":
        return cls(index, status=error.status, code=error.code, message=error.message, details=error.details)


def _user_ids(item: BatchItem) -> list[str]:
    payees = [item.payee_user_id] if item.payee_user_id is not None else [uid for uid, _amount in item.splits]
    return [item.payer_user_id, *payees]


def _member(members: dict, user_id: str, field: str) -> Member:
    member = members.get(user_id)
    if member is None:
        raise NotFound(_("No member with this user id."), field=field)
    return member


def _book(*, merchant, actor, item: BatchItem, members: dict) -> tuple[Payment, bool]:
    payer = _member(members, item.payer_user_id, "payer_user_id")
    if item.payee_user_id is not None:
        fee = item.platform_fee or 0
        splits = [(_member(members, item.payee_user_id, "payee_user_id"), item.amount - fee)]
    else:
        splits = [(_member(members, uid, "splits"), amount) for uid, amount in item.splits]
    return payment_create(merchant=merchant, actor=actor, payer=payer, amount=item.amount, order_no=item.order_no,
                          mode=item.mode, splits=splits, platform_fee=item.platform_fee or "0.00",
                          description=item.description or "")


def _lock_parties(members) -> None:
    """Lock the parties' available accounts in id order (see the module docstring)."""
    ids = [m.pk for m in members]
    if ids:
        list(Account.objects.select_for_update(no_key=True)
             .filter(member_id__in=ids, kind=AccountKind.MEMBER_AVAILABLE).order_by("id").values_list("id", flat=True))


@transaction.atomic
def payment_create_batch(*, merchant: Merchant, actor, items: list, atomic: bool = False) -> list[ItemOutcome]:
    """Book `items` (BatchItem, or the ApplicationError that refused the item's parsing) in one
    transaction; returns one ItemOutcome per item, in order. Atomic: raises BatchItemRefused
    for the first refused item and books nothing."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ApplicationError(_("A batch holds 1 to %(max)d payments.") % {"max": MAX_ITEMS}, field="payments")
    guards.ensure_merchant_can_move_money(merchant)
    wanted = {uid for item in items if isinstance(item, BatchItem) for uid in _user_ids(item)}
    members = {m.user_id: m for m in Member.objects.filter(merchant=merchant, user_id__in=wanted)}
    # Outflow rules judge each payment as payment_create does: a merchant they apply to books item by item.
    if connection.vendor == "postgresql" and not outflows.applies(merchant):
        try:
            with transaction.atomic():
                return _book_set_based(merchant=merchant, actor=actor, items=items, atomic=atomic, members=members)
        except _OneByOne:
            pass  # a concurrent request took one of the order numbers meanwhile: book item by item
    return _book_one_by_one(merchant=merchant, actor=actor, items=items, atomic=atomic, members=members)


def _book_one_by_one(*, merchant, actor, items, atomic, members) -> list[ItemOutcome]:
    # Again after a set-based attempt: rolling back its savepoint released the locks it took.
    _lock_parties(members.values())
    outcomes = []
    for index, item in enumerate(items):
        if isinstance(item, ApplicationError):
            if atomic:
                raise BatchItemRefused.of(index, item)
            outcomes.append(ItemOutcome(error=item))
            continue
        try:
            # payment_create is atomic: inside this transaction, a savepoint of its own.
            payment, created = _book(merchant=merchant, actor=actor, item=item, members=members)
        except ApplicationError as error:
            if atomic:
                raise BatchItemRefused.of(index, error) from error
            outcomes.append(ItemOutcome(error=error))
            continue
        outcomes.append(ItemOutcome(payment=payment, created=created))
    return outcomes


# --- set-based (PostgreSQL) ---------------------------------------------------------------------

class _OneByOne(Exception):
    """The set-based booking can't decide an item alone (an order number inserted concurrently)."""


@dataclass
class _Accepted:
    index: int
    payment: Payment
    merged: dict  # payee pk -> amount
    legs: list  # [(account, change)], account-id order


def _decide(*, merchant, item, members, by_pk, accounts, platform, balances, frozen, orders):
    """What payment_create would do with `item` now, decided in memory against the locked
    balances: (payment to insert, merged splits, legs), or (existing payment, None, None) for a
    replay; raises the item's ApplicationError. `balances` move as if the item booked."""
    payer = _member(members, item.payer_user_id, "payer_user_id")
    if item.payee_user_id is not None:
        splits = [(_member(members, item.payee_user_id, "payee_user_id"), item.amount - (item.platform_fee or 0))]
    else:
        splits = [(_member(members, uid, "splits"), amount) for uid, amount in item.splits]
    order_no, amount, fee, merged = _validated_request(
        payer=payer, amount=item.amount, order_no=item.order_no, mode=item.mode, splits=splits,
        platform_fee=item.platform_fee or "0.00", description=item.description or "")
    fingerprint = _fingerprint(payer_id=payer.pk, amount=amount, mode=item.mode, splits=merged, fee=fee)
    existing = orders.get(order_no)
    if existing is not None and existing.fingerprint != fingerprint:
        raise DuplicateOrder(_("Order %(order_no)s was already used for a different payment.")
                             % {"order_no": order_no})
    try:
        guards.ensure_merchant_can_move_money(merchant)
        guards.ensure_member_can_pay(by_pk[payer.pk])
        for pk in merged:
            guards.ensure_member_can_receive(by_pk[pk])
    except ApplicationError:
        if existing is not None:
            return existing, None, None
        raise
    if existing is not None:
        return existing, None, None
    guaranteed = item.mode == Payment.Mode.GUARANTEED
    source = accounts[payer.pk][0]
    # As ledger.posting._move_balance: a frozen account pays nothing, then the overdraft check.
    if frozen[source.pk]:
        raise AccountFrozen()
    if balances[source.pk] - amount < 0:
        raise InsufficientFunds(details={"account": [str(source.get_kind_display())]})
    legs = [(source, -amount)]
    if guaranteed:
        legs.append((platform[AccountKind.ESCROW], amount))
    else:
        legs += [(accounts[pk][0], value) for pk, value in merged.items()]
        if fee:
            legs.append((platform[AccountKind.FEE_INCOME], fee))
    for account, change in legs:
        if account.pk in balances:  # the members' accounts, hot ones too: a later item's check sees it
            balances[account.pk] += change
    payment = Payment(
        merchant=merchant, order_no=order_no, payer_id=payer.pk, mode=item.mode, amount=amount, platform_fee=fee,
        description=item.description or "", fingerprint=fingerprint,
        status=Payment.Status.HELD if guaranteed else Payment.Status.SETTLED,
        auto_release_at=auto_release_at(merchant) if guaranteed else None)
    orders[order_no] = payment
    return payment, merged, sorted(legs, key=lambda leg: leg[0].pk)


def _book_set_based(*, merchant, actor, items, atomic, members) -> list[ItemOutcome]:
    """The batch in a fixed number of statements: the parties' accounts locked (id order) and
    read once, every item decided in order in memory exactly as payment_create would decide it
    (the rows are locked, so the balances read are the balances it would see), then the
    payments, splits, entries, postings (one INSERT: the balance trigger checks each entry),
    hot deltas and balances written set-based."""
    by_pk = {m.pk: m for m in members.values()}
    accounts = members_accounts(list(by_pk.values()))
    platform = {kind: platform_account(merchant, kind) for kind in (AccountKind.ESCROW, AccountKind.FEE_INCOME)}
    ordinary = sorted({pair[0].pk for pair in accounts.values()})
    locked = {a.pk: a for a in Account.objects.select_for_update(no_key=True).filter(pk__in=ordinary)
              .order_by("id").only("id", "balance", "frozen", "is_hot")}
    # A member's account may have been made hot or ordinary since it was loaded
    # (ledger.services.hot_flagging): the flag read under the lock decides, and a hot payer's
    # balance is checked with its pending deltas, as ledger.posting checks a hot debit.
    for available, _frozen in accounts.values():
        available.is_hot = locked[available.pk].is_hot
    hot_ids = [pk for pk, a in locked.items() if a.is_hot]
    pending = dict(HotBalanceDelta.objects.filter(account_id__in=hot_ids).order_by().values("account_id")
                   .annotate(total=Sum("change")).values_list("account_id", "total")) if hot_ids else {}
    balances = {pk: a.balance + (pending.get(pk) or 0) for pk, a in locked.items()}
    frozen = {pk: a.frozen for pk, a in locked.items()}
    wanted = {(i.order_no or "").strip() for i in items if isinstance(i, BatchItem)}
    orders = {p.order_no: p for p in Payment.objects.filter(merchant=merchant, order_no__in=wanted)}

    outcomes: list[ItemOutcome] = []
    accepted: list[_Accepted] = []
    for index, item in enumerate(items):
        if isinstance(item, ApplicationError):
            if atomic:
                raise BatchItemRefused.of(index, item)
            outcomes.append(ItemOutcome(error=item))
            continue
        try:
            payment, merged, legs = _decide(merchant=merchant, item=item, members=members, by_pk=by_pk,
                                            accounts=accounts, platform=platform, balances=balances,
                                            frozen=frozen, orders=orders)
        except ApplicationError as error:
            if atomic:
                raise BatchItemRefused.of(index, error) from error
            outcomes.append(ItemOutcome(error=error))
            continue
        outcomes.append(ItemOutcome(payment=payment, created=legs is not None))
        if legs is not None:
            accepted.append(_Accepted(index, payment, merged, legs))
    if accepted:
        _write(merchant=merchant, actor=actor, accepted=accepted, before={pk: a.balance for pk, a in locked.items()})
    return outcomes


def _write(*, merchant, actor, accepted: list[_Accepted], before: dict) -> None:
    try:
        with transaction.atomic():
            # The row goes in first, as in payment_create: an order number a concurrent request
            # inserted meanwhile fails here (after waiting for it), and the batch goes item by item.
            Payment.objects.bulk_create([a.payment for a in accepted])
    except IntegrityError:
        raise _OneByOne() from None
    PaymentSplit.objects.bulk_create([
        PaymentSplit(merchant=merchant, payment=a.payment, payee_id=pk, amount=value)
        for a in accepted for pk, value in a.merged.items()])
    actor = as_actor(actor)
    today = business_date_for()
    entries = JournalEntry.objects.bulk_create([
        JournalEntry(
            merchant=merchant, idempotency_ref=f"payment:{a.payment.pk}", order_no=a.payment.order_no,
            entry_type=EntryType.PAYMENT_HOLD if a.payment.mode == Payment.Mode.GUARANTEED else EntryType.PAYMENT,
            payer_id=a.payment.payer_id, payee_id=next(iter(a.merged)) if len(a.merged) == 1 else None,
            order_amount=a.payment.amount, description=a.payment.description[:255], actor_kind=actor.kind,
            actor_label=actor.label[:150], actor_user_id=actor.user_id, business_date=today)
        for a in accepted])
    running = dict(before)
    postings, hot = [], {}
    for a, entry in zip(accepted, entries, strict=True):
        a.payment.entry = entry
        for account, change in a.legs:
            if account.is_hot:
                hot[account.pk] = hot.get(account.pk, Decimal(0)) + change
                after = None
            else:
                running[account.pk] += change
                after = running[account.pk]
            postings.append(Posting(merchant_id=merchant.pk, entry=entry, account_id=account.pk,
                                    amount=account.natural_sign * change, balance_after=after))
    moved = {pk: balance for pk, balance in running.items() if balance != before[pk]}
    if moved:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_account a SET balance = v.balance "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id",
                [pg_array(moved), pg_array(moved.values())])
    Posting.objects.bulk_create(postings)
    if hot:
        HotBalanceDelta.objects.bulk_create([
            HotBalanceDelta(merchant_id=merchant.pk, account_id=pk, change=change) for pk, change in hot.items()])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_payment p SET entry_id = v.entry_id "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, entry_id) WHERE p.id = v.id",
            [pg_array(a.payment.pk for a in accepted), pg_array(e.pk for e in entries)])
