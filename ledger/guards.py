"""Checks every money movement shares: who may move money out (只进不出 for frozen parties)."""
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidState, MemberFrozen, MerchantFrozen, MerchantInactive, NotFound
from core.money import format_amount
from merchants.models import Member, Merchant


def ensure_merchant_can_move_money(merchant: Merchant) -> None:
    if merchant.status == Merchant.Status.ACTIVE:
        return
    if merchant.status == Merchant.Status.FROZEN:
        raise MerchantFrozen()
    raise MerchantInactive()


def ensure_merchant_can_receive(merchant: Merchant) -> None:
    """Frozen merchants still receive (in only, nothing out)."""
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN):
        raise MerchantInactive()


def ensure_member_of(merchant: Merchant, member: Member) -> None:
    if member.merchant_id != merchant.pk:
        raise NotFound(_("No such member."))


def ensure_member_can_pay(member: Member) -> None:
    if member.status == Member.Status.FROZEN:
        raise MemberFrozen()
    if member.status != Member.Status.ACTIVE:
        raise InvalidState(_("The member is not active (%(status)s).") % {"status": member.get_status_display()})


def ensure_member_can_receive(member: Member) -> None:
    if member.status in (Member.Status.CLOSED,):
        raise InvalidState(_("The member is closed and can't receive money."))


def member_close_blockers(member: Member) -> list:
    """What the ledger holds of a member that closing would strand (merchants.hooks.member_close_checks):
    money in their accounts (withdrawals in flight are in the frozen balance), and deposits still
    announced (money that may yet arrive for them)."""
    from .models import Account, AccountKind, Deposit

    balances = dict(Account.objects.filter(member=member).values_list("kind", "balance"))
    problems = []
    available, frozen = balances.get(AccountKind.MEMBER_AVAILABLE) or 0, balances.get(AccountKind.MEMBER_FROZEN) or 0
    if available or frozen:
        problems.append(_("their balance is not zero (available %(available)s, frozen %(frozen)s): pay it out to a "
                          "verified card first") % {"available": format_amount(available),
                                                    "frozen": format_amount(frozen)})
    waiting = Deposit.objects.filter(member=member, status=Deposit.Status.AWAITING_FUNDS).count()
    if waiting:
        problems.append(_("%(n)s announced deposit(s) may still be paid: cancel them or let them expire")
                        % {"n": waiting})
    return problems
