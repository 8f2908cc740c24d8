"""Payout test worlds: a merchant whose members' approved withdrawals (and a business card's
micro-deposit) wait for a batch; operations users to build and to approve."""
import itertools
from decimal import Decimal

from ledger.selectors import member_balance
from ledger.services import withdrawals as w
from ledger.services.payments import payment_create
from merchants.services.members import bank_card_add
from payouts.services import batches
from tests import factories as f

_n = itertools.count(1)


def seller_with_card(merchant, *, name=None, amount="1000.00"):
    seller = f.member(merchant, name=name or f"张{next(_n)}")
    f.funded(seller, amount)
    card = bank_card_add(member=seller, actor=None, account_number=f"62220202{next(_n):011d}",
                         account_name=seller.name, bank_name="中国工商银行济南分行")
    return seller, card


def withdraw(merchant, seller, card, amount):
    withdrawal, _created = w.withdrawal_request(merchant=merchant, actor=None, member=seller, amount=amount,
                                                bank_card=card, order_no=f"WD-{next(_n)}")
    return withdrawal


def business_card(merchant):
    company = f.member(merchant, kind="business", name=f"山东齐鲁商贸有限公司{next(_n)}")
    return bank_card_add(member=company, actor=None, account_number=f"3700161880{next(_n):010d}",
                         account_name=company.name, bank_name="中国建设银行")


def fee_income(merchant, amount="5.00"):
    """The platform earns `amount` of fee income (its own money, which pays micro-deposits): a
    buyer's payment to a seller with that platform fee."""
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, Decimal(amount) + 1)
    payment_create(merchant=merchant, actor=None, payer=buyer, amount=Decimal(amount) + 1, order_no=f"FEE-{next(_n)}",
                   mode="direct", splits=[(seller, "1.00")], platform_fee=amount)


def world(amounts=("100.00", "250.50"), *, platform_money="5.00"):
    """A merchant with approved withdrawals of `amounts` (one seller each) and one business card
    whose micro-deposit is to be sent, the platform's fee income holding `platform_money`;
    returns (merchant, withdrawals, card)."""
    merchant = f.active_merchant()
    if platform_money:
        fee_income(merchant, platform_money)
    withdrawals = []
    for amount in amounts:
        seller, card = seller_with_card(merchant)
        withdrawals.append(withdraw(merchant, seller, card, amount))
    return merchant, withdrawals, business_card(merchant)


def released(amounts=("100.00", "250.50")):
    """A batch built by one operations user and released by another: (batch, withdrawals, card)."""
    merchant, withdrawals, card = world(amounts)
    builder, checker = f.ops(), f.ops()
    batch = batches.payout_batch_build(merchant=merchant, actor=builder)
    batches.payout_batch_submit(batch=batch, actor=builder)
    batch = batches.payout_batch_release(batch=batch, actor=checker)
    return batch, withdrawals, card


def available(member) -> Decimal:
    return member_balance(member)["available"]
