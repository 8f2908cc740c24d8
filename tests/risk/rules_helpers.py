"""Outflow-rule test helpers: rules saved through the service by a risk officer (the rule's
author), the three movements through the ledger's own services, and the queue's reviews."""
import itertools
from decimal import Decimal

from ledger.services.payments import payment_create
from ledger.services.releases import payment_release
from ledger.services.withdrawals import withdrawal_request
from merchants.services.members import bank_card_add
from risk.models import OutflowRule, RiskReview
from risk.services.rules import outflow_rule_save
from tests import factories as f

D = Decimal
_seq = itertools.count(1)


def rule(merchant=None, *, author=None, **fields) -> OutflowRule:
    fields = {"name": f"rule {next(_seq)}", "kind": "amount_limit", "amount": D("1000.00"), "outcome": "review",
              "mode": "enforce", **fields}
    return outflow_rule_save(rule=OutflowRule(merchant=merchant, **fields), actor=author or f.risk())


def shop(funds="5000.00"):
    """An active merchant with a funded buyer and a seller."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    if funds:
        f.funded(buyer, funds)
    return merchant, buyer, seller


def pay(buyer, seller, amount, *, mode="direct", order_no=None):
    payment, _created = payment_create(merchant=buyer.merchant, actor=None, payer=buyer, amount=str(amount),
                                       order_no=order_no or f"ORD-{next(_seq)}", mode=mode,
                                       splits=[(seller, str(amount))])
    return payment


def card(member, number=None):
    return bank_card_add(member=member, actor=None, account_number=number or f"62220202{next(_seq):011d}",
                         account_name=member.name, bank_name="ICBC")


def withdraw(member, amount, *, bank_card=None, order_no=None):
    withdrawal, _created = withdrawal_request(merchant=member.merchant, actor=None, member=member,
                                              amount=str(amount), bank_card=bank_card or card(member),
                                              order_no=order_no or f"W-{next(_seq)}")
    return withdrawal


def release(payment, *, amount=None, ref=None):
    return payment_release(payment=payment, actor=None, amount=amount, idempotency_ref=ref)


def review_of(**filters) -> RiskReview:
    return RiskReview.objects.get(**filters)
