"""merchants.services: onboarding, freezes, credentials, members and bank cards. None of them
moves money, so each leaves an audit record."""
import itertools
import re
from datetime import timedelta

from django.utils import timezone

from core.errors import InvalidState, PermissionRefused, ValidationFailed
from ledger.services.confirmations import movement_confirm, payment_challenge, release_challenge, withdrawal_challenge
from merchants.models import BusinessType, Challenge, WebhookDelivery
from merchants.services.challenges import ChallengeClosed, challenge_issue
from merchants.services.credentials import credentials_rotate
from merchants.services.events import emit
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_close,
    merchant_create,
    merchant_freeze,
    merchant_reject,
    merchant_start_closing,
    merchant_submit,
    merchant_unfreeze,
    merchant_update,
)
from merchants.services.members import (
    bank_card_add,
    bank_card_verify,
    member_close,
    member_create,
    member_freeze,
    member_unfreeze,
)
from merchants.services.webhooks import webhook_resend
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, NOT_SERVICES, STEPS, refusal, scenario

_seq = itertools.count(1)

NOT_SERVICES.update({
    "merchants.services.credentials.valid_secrets": "reads a merchant's API secrets still valid (the signature check)",
    "merchants.services.credentials.new_app_id": "makes a random app id; writes nothing",
    "merchants.services.credentials.issue_secret": "stores a new secret as a step of activation and rotation",
    "merchants.services.rows.locked": "reads a row under lock for the service that changes it",
    "merchants.services.rows.validated": "runs a model's validation; writes nothing",
    "merchants.services.events.emit": "writes the event's outbox row as a step of the service that tells the platform",
    "merchants.services.webhooks.backoff_seconds": "reads a setting",
    "merchants.services.webhooks.max_attempts": "reads a setting",
    "merchants.services.webhooks.timeout_seconds": "reads a setting",
    "merchants.services.webhooks.signed_request": "builds a signed HTTP request; writes nothing",
    "merchants.services.webhooks.schedule": "asks the broker to deliver an event; writes nothing",
    "merchants.services.webhooks.attempt": "the sender: one HTTP try of an event, logged as its attempt row",
    "merchants.services.webhooks.deliver_due_now": "the sender: tries every event that is due",
})
STEPS.update({
    "merchants.services.credentials.issue_secret": "merchants.services.lifecycle.merchant_activate",
    "merchants.services.events.emit": "merchants.services.lifecycle.merchant_freeze",
})


def _submitted():
    merchant = f.draft_merchant()
    return merchant_submit(merchant=merchant, actor=merchant.relationship_manager)


def _approved():
    return merchant_approve(merchant=_submitted(), actor=f.risk())


@scenario(merchant_create, leaves=AUDIT)
def an_rm_registers_a_platform():
    manager = f.rm()
    return dict(actor=manager, code=f"trace-{next(_seq)}", legal_name="Trace Mall Co Ltd", uscc=f.uscc(),
                contact_name="Wang Wu", contact_phone="0531-88888888", business_type=BusinessType.B2C_MALL,
                relationship_manager=manager)


@scenario(merchant_update, leaves=AUDIT)
def a_draft_s_contact_changes():
    merchant = f.draft_merchant()
    return dict(merchant=merchant, actor=merchant.relationship_manager, contact_name="Li Si")


@scenario(merchant_submit, leaves=AUDIT)
def a_draft_is_submitted():
    merchant = f.draft_merchant()
    return dict(merchant=merchant, actor=merchant.relationship_manager)


@scenario(merchant_approve, leaves=AUDIT)
def risk_approves_a_submitted_merchant():
    return dict(merchant=_submitted(), actor=f.risk())


@scenario(merchant_reject, leaves=AUDIT)
def risk_rejects_a_submitted_merchant():
    return dict(merchant=_submitted(), actor=f.risk(), reason="Licence expired")


@scenario(merchant_activate, leaves=AUDIT)
def operations_activate_an_approved_merchant():
    return dict(merchant=_approved(), actor=f.ops())


@scenario(merchant_freeze, leaves=AUDIT)
def risk_freezes_an_active_merchant():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="Court order")


@scenario(merchant_unfreeze, leaves=AUDIT)
def risk_unfreezes_a_frozen_merchant():
    merchant = merchant_freeze(merchant=f.active_merchant(), actor=f.risk(), reason="Court order")
    return dict(merchant=merchant, actor=f.risk(), reason="Order lifted")


@scenario(merchant_start_closing, leaves=AUDIT)
def risk_starts_closing_an_active_merchant():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="Platform shut down")


@scenario(merchant_close, leaves=AUDIT)
def a_closing_merchant_with_nothing_left_closes():
    merchant = merchant_start_closing(merchant=f.active_merchant(), actor=f.risk(), reason="Platform shut down")
    return dict(merchant=merchant, actor=f.risk())


@scenario(credentials_rotate, leaves=AUDIT)
def operations_rotate_an_active_merchant_s_secret():
    return dict(merchant=f.active_merchant(), actor=f.ops(), reason="Suspected leak")


@scenario(member_create, leaves=AUDIT)
def the_platform_registers_a_buyer():
    n = next(_seq)
    return dict(merchant=f.active_merchant(), actor=None, user_id=f"trace-{n}", name=f"Trace Buyer {n}",
                kind="individual", id_number=f"11010119900307{8000 + n:04d}", phone=f"139{n:08d}")


@scenario(member_freeze, leaves=AUDIT)
def risk_freezes_a_member():
    return dict(member=f.member(f.active_merchant()), actor=f.risk(), reason="Fraud report")


@scenario(member_unfreeze, leaves=AUDIT)
def risk_unfreezes_a_frozen_member():
    member = member_freeze(member=f.member(f.active_merchant()), actor=f.risk(), reason="Fraud report")
    return dict(member=member, actor=f.risk(), reason="Report withdrawn")


@scenario(member_close, leaves=AUDIT)
def a_member_with_nothing_left_is_closed():
    return dict(member=f.member(f.active_merchant()), actor=f.risk(), reason="Left the platform")


@scenario(bank_card_add, leaves=AUDIT)
def an_individual_adds_a_card_in_their_own_name():
    member = f.member(f.active_merchant())
    return dict(member=member, actor=None, account_number="6222020200112233445", account_name=member.name,
                bank_name="ICBC")


@scenario(bank_card_verify, leaves=AUDIT)
def a_business_reads_back_the_micro_deposit():
    member = f.member(f.active_merchant(), kind="business", name="Trace Grain Co Ltd")
    card = bank_card_add(member=member, actor=None, account_number="6222020200112233446",
                           account_name="Trace Grain Co Ltd", bank_name="ICBC")
    f.micro_deposit_paid(card)
    return dict(card=card, actor=None, amount=str(card.micro_deposit_amount))


@refusal(merchant_freeze, error=ValidationFailed)
def a_freeze_without_a_reason():
    return dict(merchant=f.active_merchant(), actor=f.risk(), reason="  ")


@scenario(webhook_resend, leaves=AUDIT)
def operations_resend_a_failed_webhook_delivery():
    merchant = f.active_merchant()
    f.listening(merchant)
    delivery = emit(merchant, "merchant.frozen", {"reason": "test"})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    return {"delivery": delivery, "actor": f.ops(), "reason": "the platform fixed its endpoint"}


@refusal(webhook_resend, error=PermissionRefused)
def an_auditor_may_not_resend_a_webhook():
    merchant = f.active_merchant()
    f.listening(merchant)
    delivery = emit(merchant, "merchant.frozen", {"reason": "test"})
    return {"delivery": delivery, "actor": f.auditor()}


# --- one-time codes (merchants.services.challenges; the ledger's confirmed withdrawals) -----------

NOT_SERVICES.update({
    "merchants.services.challenges.new_code": "makes a random code; writes nothing",
    "merchants.services.challenges.code_hash": "hashes a code; writes nothing",
    "merchants.services.challenges.challenge_for": "reads a merchant's challenge",
    "merchants.services.challenges.challenge_confirm": "checks the code and books, as a step of movement_confirm",
    "ledger.services.confirmations.withdrawal_needs_code": "reads the merchant's setting and its orders",
})
STEPS.update({"merchants.services.challenges.challenge_confirm": "ledger.services.confirmations.movement_confirm"})


def _challenged_withdrawal():
    from merchants import sms
    from tests.reconciliation.builders import funded, verified_card

    merchant = f.active_merchant()
    member = f.member(merchant, phone="13912345678")
    funded(merchant, member, "100.00")
    challenge = withdrawal_challenge(merchant=merchant, actor=None, member=member, amount="10.00",
                                     bank_card=verified_card(member), order_no=f"W-otp-{next(_seq)}")
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.OutboxBackend.outbox[-1][1]).group(1)
    return merchant, challenge, code


@scenario(challenge_issue, leaves=AUDIT)
def a_member_is_sent_a_code_to_confirm_a_withdrawal():
    member = f.member(f.active_merchant(), phone="13912345678")
    return dict(member=member, purpose="withdrawal", actor=None,
                payload={"bank_card_id": 1, "amount": "10.00", "order_no": "W-otp"})


@refusal(challenge_issue, error=InvalidState)
def a_member_without_a_phone_is_sent_no_code():
    member = f.member(f.active_merchant(), phone="")
    return dict(member=member, purpose="withdrawal", actor=None, payload={})


@scenario(withdrawal_challenge, leaves=AUDIT)
def a_platform_asks_for_a_withdrawal_the_member_must_confirm():
    from tests.reconciliation.builders import funded, verified_card

    merchant = f.active_merchant()
    member = f.member(merchant, phone="13912345678")
    funded(merchant, member, "100.00")
    return dict(merchant=merchant, actor=None, member=member, amount="10.00", bank_card=verified_card(member),
                order_no="W-otp")


@scenario(movement_confirm, leaves=BOTH)
def the_members_code_books_the_withdrawal():
    merchant, challenge, code = _challenged_withdrawal()
    return dict(merchant=merchant, token=challenge.token, code=code, actor=None)


@refusal(movement_confirm, error=ChallengeClosed)
def an_expired_code_books_nothing():
    merchant, challenge, code = _challenged_withdrawal()
    Challenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return dict(merchant=merchant, token=challenge.token, code=code, actor=None)


NOT_SERVICES.update({
    "ledger.services.confirmations.payment_needs_code": "reads the merchant's setting and its orders",
    "ledger.services.confirmations.release_needs_code": "reads the merchant's setting",
    "ledger.services.payments.payment_input": "checks a payment request and its parties; writes nothing",
    "ledger.services.releases.ensure_releasable": "checks a payment's status; writes nothing",
})


def _buyer_and_seller():
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant, phone="13912345678"), f.member(merchant)
    f.funded(buyer, "100.00")
    return merchant, buyer, seller


@scenario(payment_challenge, leaves=AUDIT)
def a_platform_asks_for_a_large_payment_the_payer_must_confirm():
    merchant, buyer, seller = _buyer_and_seller()
    return dict(merchant=merchant, actor=None, payer=buyer, amount="50.00", order_no="P-otp", mode="direct",
                splits=[(seller, "50.00")])


@scenario(release_challenge, leaves=AUDIT)
def a_platform_asks_for_a_release_the_payer_must_confirm():
    from ledger.services.payments import payment_create

    merchant, buyer, seller = _buyer_and_seller()
    payment, _created = payment_create(merchant=merchant, actor=None, payer=buyer, amount="50.00",
                                       order_no=f"G-otp-{next(_seq)}", mode="guaranteed", splits=[(seller, "50.00")])
    return dict(merchant=merchant, actor=None, payment=payment, idempotency_ref="api:trace-release")
