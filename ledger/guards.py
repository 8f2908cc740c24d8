"""Checks every money movement shares: who may move money out (只进不出 for frozen parties)."""
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidState, MemberFrozen, MerchantFrozen, MerchantInactive, NotFound
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
