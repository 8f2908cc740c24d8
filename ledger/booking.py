"""The payment's booking in one round trip: the Python side of ledger.sql.booking.

`book_payment_in_database` calls `ledger_book_payment` with a request ledger.services.payments has
already parsed and checked, and answers (payment, created) as `payment_create` does, or raises the
ApplicationError the Python path raises for the same refusal. A created payment comes back built
from the request and the function's answer (its splits prefetched, no query); a replay is loaded.

`books_in_database(merchant)` says when this path is taken: on PostgreSQL, unless the setting
JIANGUAN_BOOK_IN_DATABASE is off (the Python path books the same: tests/ledger/
test_booking_parity.py), and only for merchants no outflow rule applies to (rules see the payment's
row before it books: the Python path)."""
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import (
    AccountFrozen,
    DuplicateOrder,
    InsufficientFunds,
    InvalidState,
    MemberFrozen,
    NotFound,
)
from merchants.models import Member

from . import outflows
from .calendar import auto_release_at, business_date_for
from .models import AccountKind, Payment, PaymentSplit
from .sql.booking import ERRORS

CALL = ("SELECT payment_id, entry_id, created, status, split_ids FROM ledger_book_payment("
        "%s, %s, %s, %s, %s, %s, %s, %s, %s::bigint[], %s::numeric[], %s, %s, %s, %s, %s, %s)")


def books_in_database(merchant) -> bool:
    return (connection.vendor == "postgresql" and settings.JIANGUAN["BOOK_IN_DATABASE"]
            and not outflows.applies(merchant))


def book_payment_in_database(*, merchant, actor, payer, order_no, mode, amount, fee, merged: dict,
                             description: str, fingerprint: str, payees: dict | None = None):
    """(payment, created). `merged` is {payee pk: amount}; `payees` the Member objects by pk, when
    the caller has them (the answer then names them without a query)."""
    actor = as_actor(actor)
    now = timezone.now()
    guaranteed = mode == Payment.Mode.GUARANTEED
    args = [merchant.pk, order_no, payer.pk, mode, amount, fee, description or "", fingerprint, list(merged),
            list(merged.values()), actor.kind, actor.label, actor.user_id, business_date_for(now), now,
            auto_release_at(merchant, now) if guaranteed else None]
    for _attempt in range(2):
        row = _call(args)
        if row[3] != "no_accounts":
            break
        _open_accounts(merchant, payer, merged, guaranteed, fee)
    else:  # opened, and still missing: never book on a guess
        raise RuntimeError("the booking function found accounts missing that were just opened")
    payment_id, entry_id, created, status, split_ids = row
    if not created:
        return Payment.objects.get(pk=payment_id), False
    payment = Payment(
        id=payment_id, merchant=merchant, order_no=order_no, payer=payer, mode=mode, amount=amount,
        platform_fee=fee, description=description or "", fingerprint=fingerprint, status=status,
        entry_id=entry_id, auto_release_at=args[-1], created_at=now)
    payment._state.adding, payment._state.db = False, "default"
    payees = payees or {}
    splits = []
    for split_id, (pk, value) in zip(split_ids, merged.items()):
        split = PaymentSplit(id=split_id, merchant=merchant, payment=payment, payee_id=pk, amount=value)
        if pk in payees:
            split.payee = payees[pk]
        split._state.adding, split._state.db = False, "default"
        splits.append(split)
    prefetched = payment.splits.all()
    prefetched._result_cache, prefetched._prefetch_done = splits, True
    payment._prefetched_objects_cache = {"splits": prefetched}
    return payment, True


def _call(args):
    with connection.cursor() as cursor:
        try:
            cursor.execute(CALL, args)
        except DatabaseError as error:
            refusal = _refusal(error, order_no=args[1])
            if refusal is None:
                raise  # deadlocks, serialization failures, lost connections: the caller's retry decides
            raise refusal from None
        return cursor.fetchone()


def _refusal(error: DatabaseError, *, order_no: str):
    """The ApplicationError for a JG… SQLSTATE the function raised, else None."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)
    kind = ERRORS.get(code)
    if kind is None:
        return None
    detail = getattr(getattr(cause, "diag", None), "message_primary", "") or ""
    if kind == "member_not_found":
        return NotFound(_("No such member."))
    if kind == "member_frozen":
        return MemberFrozen()
    if kind == "member_inactive":
        label = dict(Member.Status.choices).get(detail, detail)
        return InvalidState(_("The member is not active (%(status)s).") % {"status": label})
    if kind == "payee_closed":
        return InvalidState(_("The member is closed and can't receive money."))
    if kind == "duplicate_order":
        return DuplicateOrder(_("Order %(order_no)s was already used for a different payment.")
                              % {"order_no": order_no})
    if kind == "account_frozen":
        return AccountFrozen()
    if detail:
        return InsufficientFunds(details={"account": [str(AccountKind(detail).label)]})
    return InsufficientFunds()


def _open_accounts(merchant, payer, merged, guaranteed, fee):
    """Accounts the function found missing (members older than the ledger), opened as the Python
    path opens them."""
    from .services.accounts import members_accounts, platform_account

    members_accounts([payer, *Member.objects.filter(pk__in=list(merged))])
    if guaranteed:
        platform_account(merchant, AccountKind.ESCROW)
    elif fee:
        platform_account(merchant, AccountKind.FEE_INCOME)
