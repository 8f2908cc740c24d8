"""Factories for every app's tests. Rows are created through the services where a workflow
matters (so tests see what production sees), and directly only for plain setup."""
import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.roles import AUDITOR, OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from merchants.models import BusinessType, Merchant, WebhookDelivery
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_create,
    merchant_submit,
)
from merchants.services.members import member_create
from merchants.uscc import make_uscc

_seq = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


def staff(role: str, **kwargs):
    return UserFactory(role=role, **kwargs)


def rm(**kw):
    return staff(RELATIONSHIP_MANAGER, **kw)


def risk(**kw):
    return staff(RISK_OFFICER, **kw)


def ops(**kw):
    return staff(OPERATIONS, **kw)


def auditor(**kw):
    return staff(AUDITOR, **kw)


def uscc() -> str:
    n = next(_seq)
    return make_uscc(f"91370100MA{n:07d}")


def draft_merchant(*, manager=None, **fields) -> Merchant:
    manager = manager or rm()
    n = next(_seq)
    code = fields.pop("code", f"m{n}")
    data = dict(
        legal_name=f"Shandong Test Mall {n} Co Ltd", uscc=uscc(), contact_name="Wang Wu",
        contact_phone="0531-88888888", business_type=BusinessType.B2C_MALL, relationship_manager=manager,
    )
    data.update(fields)
    return merchant_create(actor=manager, code=code, **data)


def active_merchant(*, manager=None, with_secret=False, **fields):
    merchant = draft_merchant(manager=manager, **fields)
    merchant_submit(merchant=merchant, actor=merchant.relationship_manager)
    merchant_approve(merchant=merchant, actor=risk())
    merchant, secret = merchant_activate(merchant=merchant, actor=ops())
    return (merchant, secret) if with_secret else merchant


def member(merchant, *, user_id=None, kind="individual", roles=("buyer", "seller"), **kw):
    n = next(_seq)
    return member_create(
        merchant=merchant, actor=merchant.relationship_manager, user_id=user_id or f"u-{n}",
        name=kw.pop("name", f"Member {n}"), kind=kind, id_number=kw.pop("id_number", f"11010119900307{n:04d}"),
        phone=kw.pop("phone", f"138{n:08d}"), roles=roles,
    )


def funded(member, amount, *, order_no=None, business_date=None):
    """Give a member money the way the bank does: a deposit announced for the member's
    merchant and credited on bank-side proof (a statement line) through the ledger's deposit
    service. Returns the credited deposit (its entry, proof_kind and proof_reference set).

    order_no: the deposit's order number, when a test shows or looks for it (a receipt);
    otherwise FUND-n, which is also the proof reference. business_date: the credit's business
    date, when a test books it on another day than today."""
    from ledger.services import deposits

    n = next(_funding)
    deposit = deposits.deposit_announce(merchant=member.merchant, actor=None, member=member, amount=amount,
                                        order_no=order_no or f"FUND-{n}", method="offline_transfer")
    return deposits.deposit_credit(deposit=deposit, actor=None, amount=amount, proof_kind="statement_line",
                                   proof_reference=f"FUND-{n}", business_date=business_date)


_funding = itertools.count(1)


def statement_layout(**fields):
    """A bank's statement layout as operations would save it (validated, audited)."""
    from reconciliation.models import StatementLayout
    from reconciliation.services.layouts import statement_layout_save

    n = next(_seq)
    fields = {"code": f"bank-{n}", "name": f"Bank {n}", **fields}
    return statement_layout_save(layout=StatementLayout(**fields), actor=ops())


CLOSED_PORT_URL = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens, attempts fail at once


def listening(merchant, url: str = CLOSED_PORT_URL):
    """Give the merchant a webhook URL and return a function listing the events in its outbox,
    oldest first, as (event_type, data) — what the platform will receive, whether or not an
    attempt has been made yet."""
    Merchant.objects.filter(pk=merchant.pk).update(webhook_url=url)
    merchant.webhook_url = url

    def events(*types):
        rows = WebhookDelivery.objects.filter(merchant_id=merchant.pk).order_by("id")
        return [(d.event_type, d.payload["data"]) for d in rows if not types or d.event_type in types]

    return events


def micro_deposit_paid(card):
    """The bank has paid a corporate card's micro-deposit (as a payout batch's answer would
    record it), so the member can read it back: bank_card_verify refuses it before."""
    from merchants.services.members import bank_card_micro_deposit_paid

    return bank_card_micro_deposit_paid(card=card, actor=None, bank_reference="TEST-MICRO")
