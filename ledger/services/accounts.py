"""An account's life: opening (the platform's accounts when a merchant is activated, a
member's when the member is created — merchants.hooks — or on first use by a writer), and
account-level freezes (只进不出): a frozen account still receives credits, but nothing
leaves it — the posting engine refuses every debit from it (AccountFrozen) unless the leg
returns money to its owner (a released hold, a rejected or failed withdrawal).

Everything here may write; reads (balances, a member's account ids) are in ledger.selectors."""
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import InvalidState, ValidationFailed
from core.permissions import require

from ..models import Account, AccountKind
from ..models.accounts import HOT_KINDS, MEMBER_KINDS, PLATFORM_KINDS


def open_platform_accounts(*, merchant, actor=None) -> None:
    """Called when a merchant is activated: the supervision account record and the
    platform-level virtual accounts. Idempotent."""
    existing = set(Account.objects.filter(merchant=merchant, member__isnull=True).values_list("kind", flat=True))
    Account.objects.bulk_create([
        Account(merchant=merchant, kind=kind, is_hot=kind in HOT_KINDS)
        for kind in PLATFORM_KINDS if kind not in existing
    ])


def open_member_accounts(*, member, actor=None) -> None:
    existing = set(Account.objects.filter(member=member).values_list("kind", flat=True))
    Account.objects.bulk_create([
        Account(merchant_id=member.merchant_id, member=member, kind=kind)
        for kind in MEMBER_KINDS if kind not in existing
    ])


# (merchant id, kind) -> (account id, is_hot) of platform accounts, per process and for good: they
# are never deleted and their id and is_hot never change (hot by kind, set at opening; the hot flag
# that moves, ledger.services.hot_flagging, is a member's available account's). Filled only once
# the row is known to be committed, so a rolled-back opening leaves no id behind.
_platform_accounts: dict[tuple[int, str], tuple[int, bool]] = {}
_KNOWN_FIELDS = ("id", "merchant_id", "member_id", "kind", "is_hot")


def platform_account(merchant, kind: str) -> Account:
    """The merchant's platform account of `kind`, opened if missing. What posting needs (id,
    merchant, kind, is_hot) comes from a per-process cache without a query after the first time;
    the rest (balance, frozen, ...) is left deferred, so reading it loads the row as it is now — a
    check never trusts a cached `frozen` (posting reads the row itself: ledger.posting)."""
    known = _platform_accounts.get((merchant.pk, kind))
    if known is not None:
        return Account.from_db(DEFAULT_DB_ALIAS, _KNOWN_FIELDS, (known[0], merchant.pk, None, kind, known[1]))
    try:
        account = Account.objects.get(merchant=merchant, member__isnull=True, kind=kind)
    except Account.DoesNotExist:
        open_platform_accounts(merchant=merchant)
        account = Account.objects.get(merchant=merchant, member__isnull=True, kind=kind)
    entry = ((merchant.pk, kind), (account.pk, account.is_hot))
    transaction.on_commit(lambda: _platform_accounts.setdefault(*entry))  # at once outside a transaction
    return account


def platform_accounts_forget() -> None:
    """Empty the per-process cache (tests whose database is emptied under them)."""
    _platform_accounts.clear()


def member_accounts(member) -> tuple[Account, Account]:
    """(available, frozen) of a member, opened on first use if the member predates the ledger."""
    accounts = {a.kind: a for a in Account.objects.filter(member=member)}
    if len(accounts) < 2:
        try:
            with transaction.atomic():
                open_member_accounts(member=member)
        except IntegrityError:
            pass  # opened concurrently
        accounts = {a.kind: a for a in Account.objects.filter(member=member)}
    return accounts[AccountKind.MEMBER_AVAILABLE], accounts[AccountKind.MEMBER_FROZEN]


def members_accounts(members) -> dict[int, tuple[Account, Account]]:
    """Accounts of several members in one query (payments with splits)."""
    ids = [m.pk for m in members]
    found: dict[int, dict] = {}
    for account in Account.objects.filter(member_id__in=ids):
        found.setdefault(account.member_id, {})[account.kind] = account
    result = {}
    for m in members:
        kinds = found.get(m.pk, {})
        if len(kinds) < 2:
            result[m.pk] = member_accounts(m)
        else:
            result[m.pk] = (kinds[AccountKind.MEMBER_AVAILABLE], kinds[AccountKind.MEMBER_FROZEN])
    return result


def _checked(actor, reason):
    actor = require(actor, "ledger.freeze_account")
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    return actor


@transaction.atomic
def account_freeze(*, account, actor, reason: str) -> Account:
    actor = _checked(actor, reason)
    account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
    if account.frozen:
        raise InvalidState(_("The account is already frozen."))
    account.frozen, account.freeze_reason = True, reason.strip()
    account.save(update_fields=["frozen", "freeze_reason"])
    audit_record(actor=actor, obj=account, action="freeze", from_state="active", to_state="frozen", reason=reason)
    return account


@transaction.atomic
def account_unfreeze(*, account, actor, reason: str) -> Account:
    actor = _checked(actor, reason)
    account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
    if not account.frozen:
        raise InvalidState(_("The account is not frozen."))
    account.frozen, account.freeze_reason = False, ""
    account.save(update_fields=["frozen", "freeze_reason"])
    audit_record(actor=actor, obj=account, action="unfreeze", from_state="frozen", to_state="active", reason=reason)
    return account
