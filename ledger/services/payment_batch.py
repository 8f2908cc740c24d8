"""Payments in bulk (批量支付: end-of-day settlement, 分账 runs): up to MAX_ITEMS payments in one
transaction, each booked exactly as `payment_create` books a single one.

- Non-atomic: each item runs in its own savepoint, so an item that is refused (insufficient
  funds, a frozen party, a duplicate order, an unknown member) books nothing of its own and
  the others still book. The same order number twice in one batch behaves like two single
  requests: the second is a replay of the first (same content) or `duplicate_order`.
- Atomic (TigerBeetle's linked events): the first refused item aborts the transaction, so
  nothing of the batch is booked, and `BatchItemRefused` names the item.

Set-based where it is cheap and changes nothing of the single path's checks: the batch's
members are looked up in one query, and the ordinary accounts of every party are locked in
one pass, in account-id order, before the first item books. Every single payment locks its
accounts in id order too (ledger.posting), so a batch and single payments racing on the same
accounts queue instead of deadlocking; without that pass the items would lock accounts in
the batch's order, not the ids'. The database triggers (balanced entries, append-only
postings, composite merchant keys) check each item as they check a single payment."""
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, NotFound
from merchants.models import Member, Merchant

from .. import guards
from ..models import Account, AccountKind, Payment
from .payments import payment_create

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
