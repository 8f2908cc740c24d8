"""The posting engine: the one function that writes journal entries, postings and balances.

Services describe a movement as legs — (account, change to its natural balance) — and call
`post_entry`. It refuses an unbalanced set of legs, then, in the caller's transaction:
1. inserts the entry (its idempotency reference is unique per merchant: a replay returns
   the entry already booked);
2. moves each ordinary account's materialised balance with one conditional UPDATE per
   account, in account-id order (so two movements never deadlock); an UPDATE that would take
   a balance below zero matches no row and the movement is refused as insufficient funds;
3. for hot accounts (supervision, escrow, fee income) appends a HotBalanceDelta instead of
   locking the row, unless the leg asks for an overdraft check (then it locks that row; a debit
   without one only takes a shared lock to see a freeze). A member's account can be made hot or
   ordinary while movements run (ledger.services.hot_flagging); a debit goes by the flag it reads
   under its row lock, never by the one its caller loaded;
4. inserts the postings, each with the balance after it (none for hot accounts).
PostgreSQL then checks that the entry's postings sum to zero (a statement-level trigger over the
INSERT's new rows; every writer inserts an entry's postings in one statement)."""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.errors import AccountFrozen, ApplicationError, InsufficientFunds

from .calendar import business_date_for
from .models import Account, AccountKind, HotBalanceDelta, JournalEntry, Posting
from .models.accounts import RESERVE_DEBIT_TYPES


class UnbalancedEntry(ApplicationError):
    code, status = "unbalanced_entry", 500


class ReserveProtected(ApplicationError):
    code, status = "reserve_protected", 422
    default_message = _("The risk reserve can't be paid out, spent or withdrawn by the platform: only a "
                        "compensation approved by two risk officers or the release at closing takes money from it.")


@dataclass(frozen=True)
class Leg:
    account: Account
    change: Decimal  # to the account's natural balance: + raises it, − lowers it
    check: bool = True  # refuse if the balance would go below zero (hot accounts: takes a lock)
    allow_frozen: bool = False  # a debit from a frozen account (e.g. returning a hold) is allowed


@dataclass(frozen=True)
class Order:
    order_no: str = ""
    payer_id: int | None = None
    payee_id: int | None = None
    amount: Decimal | None = None
    description: str = ""


@dataclass
class Booked:
    entry: JournalEntry
    created: bool
    balances: dict = field(default_factory=dict)  # account id -> balance after (ordinary accounts)


def validated_legs(merchant, legs, entry_type: str | None = None) -> list[Leg]:
    """The entry's non-zero legs, refused unless there is one, they balance, all belong to the
    merchant and none takes money from the risk reserve unless the entry is a compensation or a
    release (RESERVE_DEBIT_TYPES). The one check of both posting paths (this module and
    ledger.posting_bulk)."""
    legs = [leg for leg in legs if leg.change]
    if not legs:
        raise UnbalancedEntry(_("An entry needs at least one non-zero leg."))
    if sum(leg.account.natural_sign * leg.change for leg in legs) != 0:
        raise UnbalancedEntry(_("The legs of an entry must balance."))
    if any(leg.account.merchant_id != merchant.pk for leg in legs):
        raise UnbalancedEntry(_("Every leg must belong to the entry's merchant."))
    if entry_type not in RESERVE_DEBIT_TYPES and any(
            leg.account.kind == AccountKind.RISK_RESERVE and leg.change < 0 for leg in legs):
        raise ReserveProtected()
    return legs


def post_entry(*, merchant, entry_type: str, idempotency_ref: str, legs: list[Leg], actor,
               order: Order = Order(), reverses: JournalEntry | None = None, business_date=None) -> Booked:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_entry must run inside the service's transaction.atomic()")
    legs = validated_legs(merchant, legs, entry_type)
    actor = as_actor(actor)

    entry = JournalEntry(
        merchant=merchant, entry_type=entry_type, idempotency_ref=idempotency_ref, order_no=order.order_no,
        payer_id=order.payer_id, payee_id=order.payee_id, order_amount=order.amount,
        description=order.description[:255], actor_kind=actor.kind, actor_label=actor.label[:150],
        actor_user_id=actor.user_id, business_date=business_date or business_date_for(),
        reverses=reverses,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        existing = JournalEntry.objects.filter(merchant=merchant, idempotency_ref=idempotency_ref).first()
        if existing is None:
            raise
        return Booked(existing, created=False)

    if entry_type in RESERVE_DEBIT_TYPES and connection.vendor == "postgresql":
        # The database's guard (ledger.sql.integrity.RESERVE_DEBIT_GUARD) lets the reserve's balance
        # fall only while the transaction names the compensation or release entry being booked.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jianguan.reserve_entry', %s, true)", [str(entry.pk)])
    # Net the legs per account; ordinary accounts are updated in id order.
    net: dict[int, Decimal] = defaultdict(Decimal)
    by_id: dict[int, Account] = {}
    check: dict[int, bool] = defaultdict(bool)
    allow_frozen: dict[int, bool] = defaultdict(bool)
    for leg in legs:
        net[leg.account.pk] += leg.change
        by_id[leg.account.pk] = leg.account
        check[leg.account.pk] |= leg.check
        allow_frozen[leg.account.pk] |= leg.allow_frozen
    balances: dict[int, Decimal] = {}
    deltas = []
    for account_id in sorted(net):
        account, change = by_id[account_id], net[account_id]
        if not change:
            continue
        balance = _move(account, change, check[account_id], allow_frozen[account_id])
        if balance is None:
            deltas.append(HotBalanceDelta(merchant_id=merchant.pk, account_id=account_id, change=change))
        else:
            balances[account_id] = balance
    Posting.objects.bulk_create([
        Posting(merchant_id=merchant.pk, entry=entry, account_id=leg.account.pk,
                amount=leg.account.natural_sign * leg.change,
                balance_after=balances.get(leg.account.pk))
        for leg in legs
    ])
    if deltas:
        HotBalanceDelta.objects.bulk_create(deltas)
    return Booked(entry, created=True, balances=balances)


def _move(account: Account, change: Decimal, check: bool, allow_frozen: bool) -> Decimal | None:
    """An ordinary account's new balance, or None for a hot one (the caller appends a delta).
    The flag may have flipped since the caller loaded the account (a member's account marked hot
    or ordinary: ledger.services.hot_flagging), so a debit trusts only what it reads under its row
    lock: each turn of the loop means another transaction flipped the flag and committed."""
    hot = account.is_hot
    while True:
        if hot:
            if change > 0 or not (check or not allow_frozen) or _check_hot_debit(account, change, check,
                                                                                 allow_frozen):
                return None
        else:
            balance = _move_balance(account, change, allow_frozen)
            if balance is not None:
                return balance
        hot = not hot


def _move_balance(account: Account, change: Decimal, allow_frozen: bool) -> Decimal | None:
    """One conditional UPDATE: it takes the row lock, refuses an overdraft or a debit from a
    frozen account by matching no row, and returns the new balance. None: an account made hot
    since it was loaded, whose pending deltas the materialised balance does not show — a credit is
    then a delta and a debit counts the deltas, and no balance after is stored without them."""
    with connection.cursor() as cursor:
        cursor.execute(
            # ROUND: SQLite adds numerics as floats (0.70 - 0.40 - 0.30 < 0); a no-op on PostgreSQL.
            "UPDATE ledger_account SET balance = ROUND(balance + %s, 2) "
            "WHERE id = %s AND ROUND(balance + %s, 2) >= 0 AND (%s OR NOT frozen OR %s) AND NOT is_hot "
            "RETURNING balance",
            [change, account.pk, change, change > 0, allow_frozen],
        )
        row = cursor.fetchone()
    if row is None:
        frozen, hot = Account.objects.filter(pk=account.pk).values_list("frozen", "is_hot").first()
        if hot:  # made hot since it was loaded: a credit is a delta, a debit counts the pending deltas
            return None
        if frozen and change < 0 and not allow_frozen:
            raise AccountFrozen()
        raise InsufficientFunds(details={"account": [str(account.get_kind_display())]})
    return Decimal(row[0])


def _check_hot_debit(account: Account, change: Decimal, check: bool, allow_frozen: bool) -> bool:
    """A debit from a hot account. With an overdraft check, the row is locked (FOR NO KEY UPDATE):
    such debits of one account serialise, so two can't both spend the last of it. Without one
    (escrow paying out a payment's own remainder), only the freeze is checked, under a shared
    FOR SHARE lock: any number of releases run side by side, while a freeze (FOR NO KEY UPDATE)
    waits for those in flight and every later one sees it. False: the account is no longer hot
    (made ordinary, its deltas folded, under a lock this one waited for), so the debit takes the
    ordinary conditional UPDATE instead — a pending delta must not be booked against it."""
    if not check:
        frozen, hot = _flags_for_share(account.pk)
        if frozen and not allow_frozen:
            raise AccountFrozen()
        return hot
    locked = Account.objects.select_for_update(no_key=True).only("balance", "frozen", "is_hot").get(pk=account.pk)
    if not locked.is_hot:
        return False
    if locked.frozen and not allow_frozen:
        raise AccountFrozen()
    pending = HotBalanceDelta.objects.filter(account_id=account.pk).aggregate(s=Sum("change"))["s"] or 0
    if locked.balance + pending + change < 0:
        raise InsufficientFunds()
    return True


def _flags_for_share(account_id: int) -> tuple[bool, bool]:
    """(frozen, is_hot) of the account, under a shared lock."""
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT frozen, is_hot FROM ledger_account WHERE id = %s{lock}", [account_id])
        frozen, hot = cursor.fetchone()
        return bool(frozen), bool(hot)


def roll_up_hot_balances(account_ids=None) -> int:
    """Fold pending hot-account deltas into the materialised balances. Deltas committed after
    the DELETE's snapshot stay for the next run, so nothing is counted twice or lost."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            where, params = ("WHERE account_id = ANY(%s)", [list(account_ids)]) if account_ids else ("", [])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""WITH d AS (DELETE FROM ledger_hotbalancedelta {where} RETURNING account_id, change),
                            s AS (SELECT account_id, SUM(change) AS total FROM d GROUP BY account_id)
                        UPDATE ledger_account a SET balance = a.balance + s.total FROM s
                        WHERE a.id = s.account_id""",
                    params,
                )
                return cursor.rowcount
        qs = HotBalanceDelta.objects.all()
        if account_ids:
            qs = qs.filter(account_id__in=account_ids)
        totals = list(qs.values("account_id").annotate(total=Sum("change")))
        for row in totals:
            Account.objects.filter(pk=row["account_id"]).update(balance=F("balance") + row["total"])
        qs.delete()
        return len(totals)
