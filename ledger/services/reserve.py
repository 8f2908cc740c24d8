"""The risk reserve's money out (风险保证金), as the books record it. Who asks and who approves is the
risk office's (risk.services.reserve: a risk officer requests, a second approves); these functions
book an approved decision in that decision's transaction.

The reserve is the platform's money held for its customers. It comes in only as a deposit proven by
the bank side (ledger.services.deposits.reserve_deposit_announce, credited as a RESERVE_DEPOSIT
entry) and leaves only in two ways, the entry types the posting engine and the database let debit it
(ledger.models.accounts.RESERVE_DEBIT_TYPES):

- a compensation (RESERVE_COMPENSATION) to a wronged member of the platform, with the order it
  concerns: reserve down, the member's available balance up. The reserve pays first: only what it
  lacks may come from the platform's own money (its fee income), and only when the decision says so;
  otherwise a compensation larger than the reserve is refused (insufficient funds);
- the release (RESERVE_RELEASE) when the merchant closes: the whole reserve leaves the supervision
  account for the platform's own bank account (reserve down, supervision down)."""
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InsufficientFunds, InvalidState
from core.money import ZERO, parse_amount

from .. import guards
from ..models import Account, AccountKind, EntryType, JournalEntry
from ..posting import Leg, Order, post_entry
from .accounts import member_accounts, platform_account


@dataclass(frozen=True)
class CompensationBooked:
    entry: JournalEntry
    reserve_part: Decimal  # what the reserve paid
    platform_part: Decimal  # what the platform's fee income paid (only what the reserve lacked)


def _locked_reserve(merchant) -> Account:
    """The reserve account under its row lock: two compensations of one merchant read its balance in
    turn, so each sees what the other left."""
    reserve = platform_account(merchant, AccountKind.RISK_RESERVE)
    return Account.objects.select_for_update(no_key=True).get(pk=reserve.pk)


@transaction.atomic
def reserve_compensation_book(*, merchant, member, amount, order_no: str, reason: str, reference: str, actor,
                              platform_may_pay: bool = False) -> CompensationBooked:
    """Pay `amount` to `member` from the reserve first; the remainder from the platform's fee income if
    `platform_may_pay`, else refused. `reference` (the decision's id) books it once."""
    guards.ensure_member_of(merchant, member)
    guards.ensure_member_can_receive(member)
    amount = parse_amount(amount)
    reserve = _locked_reserve(merchant)
    if reserve.frozen:
        raise InvalidState(_("The risk reserve account is frozen."))
    reserve_part = min(amount, reserve.balance)
    platform_part = amount - reserve_part
    if platform_part and not platform_may_pay:
        raise InsufficientFunds(_("The risk reserve holds %(balance)s, less than the compensation of %(amount)s.")
                                % {"balance": reserve.balance, "amount": amount},
                                details={"account": [str(AccountKind.RISK_RESERVE.label)]})
    available, _frozen = member_accounts(member)
    legs = [Leg(reserve, -reserve_part), Leg(available, amount)]
    if platform_part:
        legs.append(Leg(platform_account(merchant, AccountKind.FEE_INCOME), -platform_part, check=True))
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.RESERVE_COMPENSATION,
        idempotency_ref=f"reserve-compensation:{reference}", legs=legs, actor=actor,
        order=Order(order_no=order_no, payee_id=member.pk, amount=amount, description=reason))
    return CompensationBooked(booked.entry, reserve_part, platform_part)


@transaction.atomic
def reserve_release_book(*, merchant, reference: str, actor, description: str = "") -> JournalEntry | None:
    """The whole reserve leaves the supervision account for the platform (the merchant is closing);
    None when the reserve is empty (nothing to book)."""
    reserve = _locked_reserve(merchant)
    if reserve.balance <= ZERO:
        return None
    amount = reserve.balance
    booked = post_entry(
        merchant=merchant, entry_type=EntryType.RESERVE_RELEASE, idempotency_ref=f"reserve-release:{reference}",
        legs=[Leg(reserve, -amount, allow_frozen=False),
              Leg(platform_account(merchant, AccountKind.SUPERVISION), -amount, check=True)],
        actor=actor, order=Order(order_no=f"RESERVE-RELEASE-{reference}"[:64], amount=amount,
                                 description=description))
    return booked.entry
