"""A guaranteed payment's full release in one round trip: the Python side of ledger.sql.release.

`release_in_database` calls `ledger_release_payment` for a release ledger.services.releases has
parsed and checked (permission, reference, fingerprint) and answers the payment as it now stands,
built from the function's answer (no query), with what the audit record and the webhook event need;
a refusal raises the ApplicationError the Python path raises for it. When it is taken:
ledger.booking.books_in_database (PostgreSQL, the setting, no outflow rule), for a full release
that no risk officer passed (releases.payment_release)."""
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError, connection
from django.utils import timezone

from core.errors import IdempotencyConflict, InvalidState, MerchantFrozen, MerchantInactive

from . import booking
from .calendar import business_date_for
from .models import AccountKind, Payment
from .sql.release import ERRORS

CALL = "SELECT * FROM ledger_release_payment(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


@dataclass(frozen=True)
class Released:
    """What a release booked: None for a replay (nothing booked, as the Python path answers it)."""
    from_status: str
    entry_id: int
    release_id: int
    sequence: int
    total: Decimal
    fee: Decimal
    payees: list  # [{"user_id", "amount"}] in split order, as the PaymentRelease row holds them


def release_in_database(*, payment_id: int, merchant, actor, reason: str, ref: str, fingerprint: str):
    """(payment, Released or None for a replay); the payment's merchant, as the caller has it, is
    the one the answer names."""
    now = timezone.now()
    args = [payment_id, ref, fingerprint, reason, actor.kind, actor.label, actor.user_id, business_date_for(now), now]
    for _attempt in range(2):
        row = _call(args)
        if row[0] != "no_accounts":
            break
        _open_accounts(merchant, row[-1] or [], row[-3])
    else:  # opened, and still missing: never book on a guess
        raise RuntimeError("the booking function found accounts missing that were just opened")
    (outcome, from_status, merchant_id, order_no, payer_id, mode, amount, fee_total, refunded, released,
     description, status, fingerprint_, entry_id, release_entry_id, auto_release_at, released_at, created_at,
     release_id, sequence, total, fee, shares, _payees) = row
    answer = Payment(
        id=payment_id, merchant=merchant, order_no=order_no, payer_id=payer_id, mode=mode, amount=amount,
        platform_fee=fee_total, refunded_amount=refunded, released_amount=released, description=description,
        status=status, fingerprint=fingerprint_, entry_id=entry_id, release_entry_id=release_entry_id,
        auto_release_at=auto_release_at, released_at=released_at, created_at=created_at)
    answer._state.adding, answer._state.db = False, "default"
    if outcome == "replay":
        return answer, None
    return answer, Released(from_status=from_status, entry_id=release_entry_id, release_id=release_id,
                            sequence=sequence, total=total, fee=fee, payees=json.loads(shares) if shares else [])


def _call(args):
    with connection.cursor() as cursor:
        try:
            cursor.execute(CALL, args)
        except DatabaseError as error:
            refusal = _refusal(error)
            if refusal is None:
                raise  # deadlocks, serialization failures, lost connections: the caller's retry decides
            raise refusal from None
        return cursor.fetchone()


def _refusal(error: DatabaseError):
    """The Python path's error for a JG… SQLSTATE the function raised, else None."""
    from .services.releases import NOTHING_HELD, ensure_releasable

    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    kind = ERRORS.get(getattr(cause, "sqlstate", None) or getattr(diag, "sqlstate", None))
    if kind is None:  # the codes it shares with the payment's function (a closed payee, escrow frozen…)
        return booking._refusal(error, order_no="")
    if kind == "payment_not_found":
        return Payment.DoesNotExist("Payment matching query does not exist.")
    if kind == "idempotency_conflict":
        return IdempotencyConflict()
    if kind == "not_releasable":
        try:
            ensure_releasable(Payment(status=getattr(diag, "message_primary", "") or ""))
        except InvalidState as refused:
            return refused
    if kind == "merchant_frozen":
        return MerchantFrozen()
    if kind == "merchant_inactive":
        return MerchantInactive()
    return InvalidState(NOTHING_HELD)


def _open_accounts(merchant, payee_ids, fee):
    """Accounts the function found missing (members older than the ledger), opened as the Python
    path opens them: the payees paid now, escrow, and fee income when the fee has a part."""
    from merchants.models import Member

    from .services.accounts import members_accounts, platform_account

    members_accounts(list(Member.objects.filter(pk__in=payee_ids)))
    platform_account(merchant, AccountKind.ESCROW)
    if fee:
        platform_account(merchant, AccountKind.FEE_INCOME)

