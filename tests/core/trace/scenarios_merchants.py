"""merchants.services: onboarding, freezes, credentials, members and bank cards. None of them
moves money, so each leaves an audit record."""
import itertools

from core.errors import ValidationFailed
from merchants import services as s
from merchants.models import BusinessType
from tests import factories as f
from tests.core.trace import AUDIT, NOT_SERVICES, refusal, scenario

_seq = itertools.count(1)

NOT_SERVICES.update({
    "merchants.services.valid_secrets": "reads a merchant's API secrets still valid (the signature check)",
})


def _submitted():
    merchant = f.draft_merchant()
    return s.merchant_submit(merchant=merchant, actor=merchant.relationship_manager)


def _approved():
    return s.merchant_approve(merchant=_submitted(), actor=f.risk())


@scenario(s.merchant_create, leaves=AUDIT)
def an_rm_registers_a_platform():
    manager = f.rm()
    return dict(actor=manager, code=f"trace-{next(_seq)}", legal_name="Trace Mall Co Ltd", uscc=f.uscc(),
                contact_name="Wang Wu", contact_phone="0531-88888888", business_type=BusinessType.B2C_MALL,
                relationship_manager=manager)


@scenario(s.merchant_update, leaves=AUDIT)
def a_draft_s_contact_changes():
    merchant = f.draft_merchant()
    return dict(merchant=merchant, actor=merchant.relationship_manager, contact_name="Li Si")


@scenario(s.merchant_submit, leaves=AUDIT)
def a_draft_is_submitted():
    merchant = f.draft_merchant()
    return dict(merchant=merchant, actor=merchant.relationship_manager)


@scenario(s.merchant_approve, leaves=AUDIT)
def risk_approves_a_submitted_merchant():
    return dict(merchant=_submitted(), actor=f.risk())


@scenario(s.merchant_reject, leaves=AUDIT)
def risk_rejects_a_submitted_merchant():
    return dict(merchant=_submitted(), actor=f.risk(), reason="Licence expired")


@scenario(s.merchant_activate, leaves=AUDIT)
def operations_activate_an_approved_merchant():
    return dict(merchant=_approved(), actor=f.ops())


@scenario(s.merchant_freeze, leaves=AUDIT)
def risk_freezes_an_active_merchant():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="Court order")


@scenario(s.merchant_unfreeze, leaves=AUDIT)
def risk_unfreezes_a_frozen_merchant():
    merchant = s.merchant_freeze(merchant=f.active_merchant(), actor=f.risk(), reason="Court order")
    return dict(merchant=merchant, actor=f.risk(), reason="Order lifted")


@scenario(s.merchant_start_closing, leaves=AUDIT)
def risk_starts_closing_an_active_merchant():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="Platform shut down")


@scenario(s.merchant_close, leaves=AUDIT)
def a_closing_merchant_with_nothing_left_closes():
    merchant = s.merchant_start_closing(merchant=f.active_merchant(), actor=f.risk(), reason="Platform shut down")
    return dict(merchant=merchant, actor=f.risk())


@scenario(s.credentials_rotate, leaves=AUDIT)
def operations_rotate_an_active_merchant_s_secret():
    return dict(merchant=f.active_merchant(), actor=f.ops(), reason="Suspected leak")


@scenario(s.member_create, leaves=AUDIT)
def the_platform_registers_a_buyer():
    n = next(_seq)
    return dict(merchant=f.active_merchant(), actor=None, user_id=f"trace-{n}", name=f"Trace Buyer {n}",
                kind="individual", id_number=f"11010119900307{8000 + n:04d}", phone=f"139{n:08d}")


@scenario(s.member_freeze, leaves=AUDIT)
def risk_freezes_a_member():
    return dict(member=f.member(f.active_merchant()), actor=f.risk(), reason="Fraud report")


@scenario(s.member_unfreeze, leaves=AUDIT)
def risk_unfreezes_a_frozen_member():
    member = s.member_freeze(member=f.member(f.active_merchant()), actor=f.risk(), reason="Fraud report")
    return dict(member=member, actor=f.risk(), reason="Report withdrawn")


@scenario(s.member_close, leaves=AUDIT)
def a_member_with_nothing_left_is_closed():
    return dict(member=f.member(f.active_merchant()), actor=f.risk(), reason="Left the platform")


@scenario(s.bank_card_add, leaves=AUDIT)
def an_individual_adds_a_card_in_their_own_name():
    member = f.member(f.active_merchant())
    return dict(member=member, actor=None, account_number="6222020200112233445", account_name=member.name,
                bank_name="ICBC")


@scenario(s.bank_card_verify, leaves=AUDIT)
def a_business_reads_back_the_micro_deposit():
    member = f.member(f.active_merchant(), kind="business", name="Trace Grain Co Ltd")
    card = s.bank_card_add(member=member, actor=None, account_number="6222020200112233446",
                           account_name="Trace Grain Co Ltd", bank_name="ICBC")
    return dict(card=card, actor=None, amount=str(card.micro_deposit_amount))


@refusal(s.merchant_freeze, error=ValidationFailed)
def a_freeze_without_a_reason():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="  ")
