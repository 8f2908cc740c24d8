"""ledger.services: money moves by journal entries (most services), decisions without money
(freezes, the calendar, channels, announcements, settlements) by audit records."""
import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from core.errors import InsufficientFunds, InvalidAmount, PermissionRefused, ValidationFailed
from ledger.channels import channel_notification_accept
from ledger.models import Deposit, Withdrawal
from ledger.services import (accounts, calendar, channel_settlement, channels, deposits, deposits_bulk, holds, payment_batch, payments,
                             releases, reversal, withdrawals)
from ledger.services.accounts import member_accounts
from merchants.models import Merchant
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, ENTRY, NOT_SERVICES, STEPS, refusal, scenario
from tests.reconciliation.builders import announce, funded, verified_card

_seq = itertools.count(1)
D = Decimal

NOT_SERVICES.update({
    "ledger.services.deposits.new_payment_code": "draws a random payment code",
    "ledger.services.deposits.ensure_creditable": "a check: raises why a deposit can't be credited, or tells a replay",
    "ledger.services.deposits.deposit_legs": "builds a deposit's legs and order; books nothing",
    "ledger.services.deposits.expiry_days": "reads the expiry setting",
    "ledger.services.deposits.find_open_deposit_by_code": "query: the open deposit whose code is in a remark",
    "ledger.services.payments.pro_rata_shares": "arithmetic: a refund's shares between splits and fee",
    "ledger.services.releases.largest_remainder_shares": "arithmetic: a release's shares, to the cent",
    "ledger.services.releases.fee_parts": "arithmetic: the platform fee's refunded, released and held parts",
    "ledger.services.releases.payment_splits": "read: a payment's splits under its row lock",
    "ledger.services.releases.locked_payment": "read: a payment, locked for the caller's transaction",
    "ledger.services.reversal.reversal_blocker": "read: why an entry can't be reversed now (the admin's button)",
    "ledger.services.deposits.emit_succeeded": "writes the deposit.succeeded event in a crediting service's "
                                               "transaction, whose entry is the trace",
})
NOT_SERVICES.update({
    "ledger.services.accounts.open_platform_accounts": "opens the merchant's accounts as a step of its activation",
    "ledger.services.accounts.open_member_accounts": "opens a member's two accounts as a step of registering them",
    "ledger.services.accounts.platform_account": "reads one of the merchant's own accounts (opens them inside a writer's transaction if missing)",
    "ledger.services.accounts.member_accounts": "reads a member's available and frozen accounts (opens them inside a writer's transaction if missing)",
    "ledger.services.withdrawals.withdrawal_input": "parses and checks a withdrawal request; writes nothing",
    "ledger.services.withdrawals.ensure_can_withdraw": "checks freezes and the card; writes nothing",
    "ledger.services.accounts.members_accounts": "reads many members' accounts at once",
    "ledger.services.accounts.platform_accounts_forget": "empties the per-process cache of platform account ids (tests)",
})
STEPS.update({"ledger.services.deposits.emit_succeeded": "ledger.services.deposits.deposit_credit"})
STEPS.update({
    "ledger.services.accounts.open_platform_accounts": "merchants.services.lifecycle.merchant_activate",
    "ledger.services.accounts.open_member_accounts": "merchants.services.members.member_create",
})


def _n() -> int:
    return next(_seq)


def _shop():
    """A platform with a buyer holding 1,000.00 and a seller."""
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    funded(merchant, buyer, "1000.00")
    return merchant, buyer, seller


def _payment(mode="direct"):
    merchant, buyer, seller = _shop()
    payment, _created = payments.payment_create(merchant=merchant, actor=None, payer=buyer, amount="100.00",
                                                order_no=f"P-{_n()}", mode=mode, splits=[(seller, "95.00")],
                                                platform_fee="5.00")
    return payment


def _withdrawal(*, over_threshold=False):
    merchant, buyer, _seller = _shop()
    if over_threshold:
        Merchant.objects.filter(pk=merchant.pk).update(withdrawal_approval_threshold=D("50.00"))
        merchant.refresh_from_db()
    w, _created = withdrawals.withdrawal_request(merchant=merchant, actor=None, member=buyer, amount="100.00",
                                                 bank_card=verified_card(buyer), order_no=f"W-{_n()}")
    return w


def _processing():
    return withdrawals.withdrawal_process(withdrawal=_withdrawal(), actor=f.ops())


def _parked(merchant, amount="80.00"):
    """Money in that no deposit explains, parked in suspense."""
    reference = f"S-{_n()}"
    deposits.suspense_receive(merchant=merchant, actor=None, amount=amount, reference=reference)
    return reference


def _channel(**fields):
    n = _n()
    return channels.payment_channel_create(actor=f.ops(), code=f"pay{n}", name=f"Pay {n}", app_id=f"pay-{n}",
                                           secret="s3cret", **fields)


# --- accounts, calendar, channels ------------------------------------------------------------

@scenario(accounts.account_freeze, leaves=AUDIT)
def risk_freezes_a_member_s_account():
    return dict(account=member_accounts(f.member(f.active_merchant()))[0], actor=f.risk(), reason="Court order")


@scenario(accounts.account_unfreeze, leaves=AUDIT)
def risk_unfreezes_a_frozen_account():
    account = accounts.account_freeze(account=member_accounts(f.member(f.active_merchant()))[0], actor=f.risk(),
                                      reason="Court order")
    return dict(account=account, actor=f.risk(), reason="Order lifted")


@scenario(calendar.business_day_set, leaves=AUDIT)
def operations_mark_a_public_holiday():
    return dict(actor=f.ops(), day=date(2027, 1, 1), is_working_day=False, note="New Year")


@scenario(channels.payment_channel_create, leaves=AUDIT)
def operations_register_a_channel():
    return dict(actor=f.ops(), code="tracepay", name="TracePay", app_id="tracepay-1", secret="s3cret")


@scenario(channels.payment_channel_update, leaves=AUDIT)
def operations_rename_a_channel():
    return dict(channel=_channel(), actor=f.ops(), name="Renamed Pay")


# --- deposits and suspense ---------------------------------------------------------------------

@scenario(deposits.deposit_announce, leaves=AUDIT)
def the_platform_announces_a_deposit():
    merchant = f.active_merchant()
    return dict(merchant=merchant, actor=None, member=f.member(merchant), amount="100.00", order_no="D-1",
                method="offline_transfer")


@scenario(deposits.deposit_credit, leaves=BOTH)
def a_statement_line_proves_an_announced_deposit():
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "100.00", "D-1")
    return dict(deposit=deposit, actor=None, amount="100.00", proof_kind="statement_line", proof_reference="SL-1")


@scenario(deposits.deposits_expire_due, leaves=AUDIT)
def an_announced_deposit_is_never_paid():
    merchant = f.active_merchant()
    announce(merchant, f.member(merchant), "100.00", "D-1")
    return dict(now=timezone.now() + timedelta(days=deposits.expiry_days() + 1))


@scenario(deposits.suspense_receive, leaves=ENTRY)
def money_arrives_that_no_deposit_explains():
    return dict(merchant=f.active_merchant(), actor=None, amount="80.00", reference="S-1")


@scenario(deposits.suspense_match_to_deposit, leaves=BOTH)
def operations_identify_parked_money_as_a_deposit():
    merchant = f.active_merchant()
    reference = _parked(merchant)
    deposit = announce(merchant, f.member(merchant), "80.00", "D-1")
    return dict(merchant=merchant, actor=f.ops(), deposit=deposit, amount="80.00", reference=reference,
                reason="Payer mistyped the code")


@scenario(deposits.suspense_match_to_member, leaves=BOTH)
def operations_identify_parked_money_as_a_member_s():
    merchant = f.active_merchant()
    reference = _parked(merchant)
    return dict(merchant=merchant, actor=f.ops(), member=f.member(merchant), amount="80.00", reference=reference,
                reason="The member called")


@scenario(deposits.suspense_return, leaves=BOTH)
def operations_return_parked_money_to_the_payer():
    merchant = f.active_merchant()
    reference = _parked(merchant)
    return dict(merchant=merchant, actor=f.ops(), amount="80.00", reference=reference, reason="Unknown payer")


@scenario(deposits_bulk.deposits_credit_bulk, leaves=BOTH)
def a_statement_chunk_proves_two_deposits():
    merchant = f.active_merchant()
    member = f.member(merchant)
    one, two = announce(merchant, member, "10.00", "D-1"), announce(merchant, member, "20.00", "D-2")
    return dict(merchant=merchant, actor=None, proof_kind="statement_line", credits=[
        deposits_bulk.Credit(one.pk, D("10.00"), "SL-1"), deposits_bulk.Credit(two.pk, D("20.00"), "SL-2")])


@scenario(deposits_bulk.suspense_receive_bulk, leaves=ENTRY)
def a_statement_chunk_parks_money_no_deposit_explains():
    return dict(merchant=f.active_merchant(), actor=None, items=[deposits_bulk.Parked("S-1", D("5.00")),
                                                                 deposits_bulk.Parked("S-2", D("7.00"))])


@scenario(channel_settlement.channel_settle, leaves=AUDIT)
def a_channel_pays_out_what_its_notification_credited():
    merchant, channel = f.active_merchant(), _channel(settlement_account="6222000088880001")
    deposit = deposits.deposit_announce(merchant=merchant, actor=None, member=f.member(merchant), amount="60.00",
                                        order_no="C-1", method="channel", channel=channel)
    channel_notification_accept(channel=channel, amount="60.00", transaction_id="T-1",
                                payment_code=deposit.payment_code)
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    return dict(merchant=merchant, channel=channel, actor=None, amount=D("60.00"),
                value_date=deposit.entry.business_date, reference="SETTLE-1")


# --- holds, payments, reversals ----------------------------------------------------------------

@scenario(holds.hold_create, leaves=BOTH)
def risk_holds_part_of_a_member_s_money():
    _merchant, buyer, _seller = _shop()
    return dict(member=buyer, actor=f.risk(), amount="300.00", reason="Court order", legal_reference="(2026)鲁01")


@scenario(holds.hold_release, leaves=BOTH)
def risk_releases_a_hold():
    _merchant, buyer, _seller = _shop()
    hold = holds.hold_create(member=buyer, actor=f.risk(), amount="300.00", reason="Court order")
    return dict(hold=hold, actor=f.risk(), reason="Order lifted")


@scenario(payments.payment_create, leaves=ENTRY)
def a_buyer_pays_a_seller():
    merchant, buyer, seller = _shop()
    return dict(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="P-1", mode="direct",
                splits=[(seller, "95.00")], platform_fee="5.00")


@scenario(payment_batch.payment_create_batch, leaves=ENTRY)
def a_platform_settles_two_payments_in_one_batch():
    merchant, buyer, seller = _shop()
    return dict(merchant=merchant, actor=None, items=[
        payment_batch.BatchItem(buyer.user_id, D("10.00"), f"PB-{_n()}", "direct", payee_user_id=seller.user_id),
        payment_batch.BatchItem(buyer.user_id, D("20.00"), f"PB-{_n()}", "guaranteed", payee_user_id=seller.user_id,
                                platform_fee=D("1.00"))])


@scenario(payments.payment_release, leaves=BOTH)
def the_buyer_confirms_receipt_of_a_guaranteed_payment():
    return dict(payment=_payment("guaranteed"), actor=None)


@scenario(releases.payment_release, leaves=BOTH)
def the_platform_releases_a_first_instalment_of_a_guaranteed_payment():
    return dict(payment=_payment("guaranteed"), actor=None, amount="40.00", idempotency_ref=f"api:{_n()}")


@scenario(releases.payment_release_part, leaves=BOTH)
def operations_release_part_of_a_guaranteed_payment_in_the_admin():
    return dict(payment=_payment("guaranteed"), actor=f.ops(), amount="40.00", reason="First lot delivered")


@scenario(payments.payment_refund, leaves=BOTH)
def a_partly_released_payment_is_refunded_beyond_what_escrow_holds():
    payment = releases.payment_release(payment=_payment("guaranteed"), actor=None, amount="40.00")
    return dict(payment=payment, actor=None, amount="70.00", reason="Returned", idempotency_ref=f"RF-{_n()}")


@scenario(payments.payments_auto_release_due, leaves=BOTH)
def a_guaranteed_payment_s_release_time_passes():
    _payment("guaranteed")
    return dict(now=timezone.now() + timedelta(days=365))


@scenario(payments.payment_refund, leaves=BOTH)
def a_settled_payment_is_partly_refunded():
    return dict(payment=_payment(), actor=None, amount="10.00", reason="Damaged goods", idempotency_ref="RF-1")


@scenario(reversal.entry_reverse, leaves=BOTH)
def operations_reverse_a_settled_payment_s_entry():
    return dict(entry=_payment().entry, actor=f.ops(), reason="Booked twice by the platform")


# --- withdrawals -------------------------------------------------------------------------------

@scenario(withdrawals.withdrawal_request, leaves=BOTH)
def a_member_asks_for_money_to_their_verified_card():
    merchant, buyer, _seller = _shop()
    return dict(merchant=merchant, actor=None, member=buyer, amount="100.00", bank_card=verified_card(buyer),
                order_no="W-1")


@scenario(withdrawals.member_closing_payout, leaves=BOTH)
def risk_pays_out_a_leaving_members_balance_to_close_them():
    _merchant, buyer, _seller = _shop()
    verified_card(buyer)
    return dict(member=buyer, actor=f.risk(), reason="Left the platform")


@refusal(withdrawals.member_closing_payout, error=PermissionRefused)
def operations_may_not_close_a_member_by_payout():
    _merchant, buyer, _seller = _shop()
    verified_card(buyer)
    return dict(member=buyer, actor=f.ops(), reason="Left the platform")


@scenario(withdrawals.withdrawal_approve, leaves=AUDIT)
def operations_approve_a_withdrawal_over_the_threshold():
    w = _withdrawal(over_threshold=True)
    assert w.status == Withdrawal.Status.PENDING_APPROVAL
    return dict(withdrawal=w, actor=f.ops())


@scenario(withdrawals.withdrawal_reject, leaves=BOTH)
def operations_reject_a_withdrawal_over_the_threshold():
    return dict(withdrawal=_withdrawal(over_threshold=True), actor=f.ops(), reason="Suspicious")


@scenario(withdrawals.withdrawal_process, leaves=AUDIT)
def operations_send_an_approved_withdrawal_to_the_bank():
    return dict(withdrawal=_withdrawal(), actor=f.ops())


@scenario(withdrawals.withdrawal_mark_paid, leaves=BOTH)
def the_bank_pays_a_withdrawal():
    return dict(withdrawal=_processing(), actor=f.ops(), bank_reference="BANK-1")


@scenario(withdrawals.withdrawal_mark_failed, leaves=BOTH)
def the_bank_can_t_pay_a_withdrawal():
    return dict(withdrawal=_processing(), actor=f.ops(), reason="Account closed")


# --- refusals write nothing --------------------------------------------------------------------

@refusal(deposits.deposit_announce, error=InvalidAmount)
def a_deposit_of_nothing():
    merchant = f.active_merchant()
    return dict(merchant=merchant, actor=None, member=f.member(merchant), amount="0.00", order_no="D-0",
                method="offline_transfer")


@refusal(payments.payment_create, error=ValidationFailed)
def a_payment_whose_splits_do_not_add_up():
    merchant, buyer, seller = _shop()
    return dict(merchant=merchant, actor=None, payer=buyer, amount="100.00", order_no="P-0", mode="direct",
                splits=[(seller, "90.00")])


@refusal(payment_batch.payment_create_batch, error=payment_batch.BatchItemRefused)
def an_atomic_batch_whose_second_payment_overdraws():
    merchant, buyer, seller = _shop()
    return dict(merchant=merchant, actor=None, atomic=True, items=[
        payment_batch.BatchItem(buyer.user_id, D("10.00"), "PB-1", "direct", payee_user_id=seller.user_id),
        payment_batch.BatchItem(buyer.user_id, D("5000.00"), "PB-2", "direct", payee_user_id=seller.user_id)])


@refusal(releases.payment_release, error=ValidationFailed)
def a_release_of_more_than_the_payment_still_holds():
    payment = releases.payment_release(payment=_payment("guaranteed"), actor=None, amount="40.00")
    return dict(payment=payment, actor=None, amount="60.01")


@refusal(withdrawals.withdrawal_request, error=InsufficientFunds)
def a_withdrawal_of_more_than_the_member_has():
    merchant, buyer, _seller = _shop()
    return dict(merchant=merchant, actor=None, member=buyer, amount="5000.00", bank_card=verified_card(buyer),
                order_no="W-0")


@refusal(holds.hold_create, error=PermissionRefused)
def a_hold_by_someone_who_may_not():
    _merchant, buyer, _seller = _shop()
    return dict(member=buyer, actor=f.rm(), amount="10.00", reason="Because")
