"""Opening and finding accounts."""
from django.db import IntegrityError, transaction

from .models import Account, AccountKind
from .models.accounts import HOT_KINDS, MEMBER_KINDS, PLATFORM_KINDS


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


def platform_account(merchant, kind: str) -> Account:
    try:
        return Account.objects.get(merchant=merchant, member__isnull=True, kind=kind)
    except Account.DoesNotExist:
        open_platform_accounts(merchant=merchant)
        return Account.objects.get(merchant=merchant, member__isnull=True, kind=kind)



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
