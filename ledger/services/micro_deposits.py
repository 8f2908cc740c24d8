"""Micro-deposits (小额打款验证) in the books: the bank pays a small amount from the supervision
account into a corporate card to prove the account is the member's. It is the platform's cost, so
it is paid from the platform's own money in the supervision account (its fee income).

The money leaves when the bank proves it paid (a payout result file or the supervision account's
statement line): fee income down, supervision down, one entry per micro-deposit keyed by its
payout line's end-to-end id (a second answer for it books nothing). Before the payout file is
released the platform's fee income must cover what it sends (`micro_deposits_affordable`), so a
paid micro-deposit normally finds the money there; if the platform spent it since, booking the
payment is refused (InsufficientFunds) and the bank's answer waits in the exception queue until
the platform's account is funded — a balance never goes below zero."""
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InsufficientFunds

from ..models import AccountKind, EntryType
from ..posting import Leg, Order, post_entry
from ..selectors import account_balances
from .accounts import platform_account


def micro_deposits_affordable(merchant, amount: Decimal) -> None:
    """Refused unless the platform's fee income (pending changes included) covers `amount`."""
    if not amount:
        return
    available = account_balances(merchant)[AccountKind.FEE_INCOME]
    if available < amount:
        raise InsufficientFunds(
            _("The platform's own account (fee income, %(available)s) can't pay the micro-deposits "
              "(%(amount)s): the platform must fund it first.") % {"available": available, "amount": amount},
            details={"account": [str(AccountKind.FEE_INCOME.label)]})


@transaction.atomic
def micro_deposit_paid_book(*, merchant, member_id: int, amount: Decimal, reference: str, actor,
                            bank_reference: str = ""):
    """Book a micro-deposit the bank paid: the entry (a replay returns the one booked)."""
    fee_income = platform_account(merchant, AccountKind.FEE_INCOME)
    supervision = platform_account(merchant, AccountKind.SUPERVISION)
    return post_entry(
        merchant=merchant, entry_type=EntryType.MICRO_DEPOSIT, idempotency_ref=f"micro_deposit:{reference}",
        legs=[Leg(fee_income, -amount), Leg(supervision, -amount, check=False, allow_frozen=True)], actor=actor,
        order=Order(order_no=reference[:64], payee_id=member_id, amount=amount,
                    description=(bank_reference or "")[:255]),
    ).entry
