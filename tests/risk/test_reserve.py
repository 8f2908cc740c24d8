"""The risk reserve (风险保证金): the required amount by maker-checker policy (a fixed amount or a
percentage of 30 days' inflows), funding only on bank-side proof, a reserve nothing but a compensation
or the closing release can touch, withdrawals held back while it is short, compensations to wronged
members (reserve first), and the release at closing after a clean last end of day. Every step allowed
and refused; 总分平衡 after every booking."""
import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from core.errors import (
    ApplicationError,
    InsufficientFunds,
    InvalidState,
    OrderMismatch,
    PermissionRefused,
    ReserveShortfall,
    ValidationFailed,
)
from core.models import AuditEvent
from ledger.calendar import business_date_for
from ledger.models import Account, AccountKind, Deposit, EntryType, JournalEntry
from ledger.posting import Leg, Order, ReserveProtected, post_entry
from ledger.selectors import prove_merchant, reserve_position
from ledger.services import withdrawals as w
from ledger.services.accounts import member_accounts, platform_account
from ledger.services.deposits import deposit_credit, reserve_deposit_announce
from merchants.models import Merchant
from merchants.services.lifecycle import merchant_close, merchant_start_closing
from reconciliation.models import EodRun
from risk.models import ReserveCompensation, ReservePolicy, ReserveRelease
from risk.services import reserve as rs
from tests import factories as f
from tests.payouts.helpers import fee_income, seller_with_card

from .helpers import D, fund_reserve, pay, require_reserve

pytestmark = pytest.mark.django_db


def proven(merchant):
    proof = prove_merchant(merchant)
    assert proof.ok, proof
    return proof


def reserve_of(merchant) -> Decimal:
    return reserve_position(merchant).balance


def _policy(merchant, maker=None, **kw):
    kw = {"basis": "amount", "amount": "1000.00", "reason": "new platform, fake-order risk", **kw}
    return rs.reserve_policy_request(merchant=merchant, actor=maker or f.risk(), **kw)


# --- the required reserve: policy by maker-checker ---------------------------------------------------

def test_a_fixed_reserve_is_required_once_a_second_risk_officer_approves_it():
    # given an active merchant and a risk officer's request for 1,000.00
    merchant = f.active_merchant()
    maker, checker = f.risk(), f.risk()
    policy = _policy(merchant, maker)
    merchant.refresh_from_db()
    # then nothing is required yet
    assert policy.status == ReservePolicy.Status.REQUESTED and merchant.risk_reserve_required == 0
    # when a second risk officer approves it
    rs.reserve_policy_approve(policy=policy, actor=checker, reason="agreed")
    # then it is in force and the merchant must hold 1,000.00; every step audited
    policy.refresh_from_db()
    merchant.refresh_from_db()
    assert policy.status == ReservePolicy.Status.IN_FORCE and policy.decided_by == checker
    assert merchant.risk_reserve_required == D("1000.00")
    assert reserve_position(merchant).shortfall == D("1000.00")
    actions = set(AuditEvent.objects.filter(object_id=str(policy.pk), content_type__model="reservepolicy")
                  .values_list("action", flat=True))
    assert {"request", "approve"} <= actions
    assert AuditEvent.objects.filter(content_type__model="merchant", object_id=str(merchant.pk),
                                     action="reserve_required").exists()


def test_the_requester_may_not_approve_their_own_policy():
    # given a policy requested by one risk officer
    merchant = f.active_merchant()
    maker = f.risk()
    policy = _policy(merchant, maker)
    # when the same officer approves it, then it is refused and nothing is required
    with pytest.raises(PermissionRefused):
        rs.reserve_policy_approve(policy=policy, actor=maker)
    merchant.refresh_from_db()
    assert merchant.risk_reserve_required == 0
    policy.refresh_from_db()
    assert policy.status == ReservePolicy.Status.REQUESTED


@pytest.mark.parametrize("who", ["rm", "ops", "platform"])
def test_only_a_risk_officer_requests_a_policy(who):
    # given an active merchant; when an RM, operations or the platform asks for a reserve, then refused
    merchant = f.active_merchant()
    actor = {"rm": f.rm, "ops": f.ops, "platform": lambda: None}[who]()
    with pytest.raises(PermissionRefused):
        _policy(merchant, actor) if actor is not None else rs.reserve_policy_request(
            merchant=merchant, actor=None, basis="amount", amount="1.00", reason="x")


def test_an_rm_may_not_approve_a_policy():
    # given a requested policy; when an RM approves it, then refused
    policy = _policy(f.active_merchant())
    with pytest.raises(PermissionRefused):
        rs.reserve_policy_approve(policy=policy, actor=f.rm())


def test_a_rejected_policy_needs_a_reason_and_changes_nothing():
    # given a requested policy
    merchant = f.active_merchant()
    policy = _policy(merchant)
    # when a second officer rejects it without a reason, then refused
    with pytest.raises(ValidationFailed):
        rs.reserve_policy_reject(policy=policy, actor=f.risk(), reason=" ")
    # when with a reason, then it is rejected, and a rejected policy can't be approved
    rs.reserve_policy_reject(policy=policy, actor=f.risk(), reason="too high for its size")
    policy.refresh_from_db()
    assert policy.status == ReservePolicy.Status.REJECTED
    with pytest.raises(InvalidState):
        rs.reserve_policy_approve(policy=policy, actor=f.risk())
    merchant.refresh_from_db()
    assert merchant.risk_reserve_required == 0


def test_one_request_at_a_time_and_a_new_policy_supersedes_the_old():
    # given a fixed policy in force
    merchant = f.active_merchant()
    first = require_reserve(merchant, "1000.00")
    second = _policy(merchant, amount="2500.00")
    # when another request comes while one waits, then it is refused
    with pytest.raises(InvalidState):
        _policy(merchant, amount="3000.00")
    # when the second is approved, then the first is superseded (history kept) and 2,500.00 required
    rs.reserve_policy_approve(policy=second, actor=f.risk())
    first.refresh_from_db()
    merchant.refresh_from_db()
    assert first.status == ReservePolicy.Status.SUPERSEDED
    assert merchant.risk_reserve_required == D("2500.00")
    assert ReservePolicy.objects.filter(merchant=merchant).count() == 2


@pytest.mark.parametrize("fields", [
    {"basis": "percent", "percent": "0"}, {"basis": "percent", "percent": "100.01"},
    {"basis": "percent", "percent": "abc"}, {"basis": "amount", "amount": "-1.00"}, {"basis": "other"},
])
def test_a_policy_that_is_neither_an_amount_nor_a_sane_percentage_is_refused(fields):
    # given a merchant; when a malformed policy is requested, then refused, nothing kept
    merchant = f.active_merchant()
    with pytest.raises(ApplicationError) as err:
        rs.reserve_policy_request(merchant=merchant, actor=f.risk(), reason="x", **fields)
    assert getattr(err.value, "code", "") in ("invalid_request", "invalid_amount")
    assert not ReservePolicy.objects.filter(merchant=merchant).exists()


def test_a_reserve_is_not_required_of_a_merchant_holding_no_money():
    # given a draft merchant; when a reserve is requested, then refused
    with pytest.raises(InvalidState):
        _policy(f.draft_merchant())


def test_a_percentage_follows_the_last_30_days_of_customer_inflows_with_its_minimum():
    # given 10,000.00 of customers' deposits today, 5,000.00 forty days ago, and 8,000.00 of reserve money
    merchant = f.active_merchant()
    today = business_date_for()
    buyer = f.member(merchant)
    f.funded(buyer, "10000.00")
    f.funded(buyer, "5000.00", business_date=today - datetime.timedelta(days=40))
    fund_reserve(merchant, "8000.00")
    # when 5 % with a 300.00 minimum is approved
    policy = _policy(merchant, basis="percent", percent="5", minimum="300.00")
    rs.reserve_policy_approve(policy=policy, actor=f.risk())
    # then 5 % of the 10,000.00 in the window is required (old money and the reserve's own don't count)
    merchant.refresh_from_db()
    assert merchant.risk_reserve_required == D("500.00")
    # when 20,000.00 more arrives and the daily refresh runs, then it grows with the inflows
    f.funded(buyer, "20000.00")
    assert rs.reserve_requirements_refresh_all(actor=None) == 1
    merchant.refresh_from_db()
    assert merchant.risk_reserve_required == D("1500.00")
    # and thirty days on, with nothing new, only the minimum is left
    rs.reserve_requirement_refresh(merchant=merchant, as_of=today + datetime.timedelta(days=31))
    merchant.refresh_from_db()
    assert merchant.risk_reserve_required == D("300.00")


# --- funding: only on bank-side proof ----------------------------------------------------------------

def test_a_reserve_deposit_is_credited_only_on_bank_side_proof():
    # given a merchant listening for events, and a reserve deposit it announced
    merchant = f.active_merchant()
    events = f.listening(merchant)
    deposit = reserve_deposit_announce(merchant=merchant, actor=None, amount="2000.00", order_no="RSV-1")
    # then the announcement moves no money
    assert deposit.status == Deposit.Status.AWAITING_FUNDS and deposit.member is None
    assert reserve_of(merchant) == 0
    # when a statement line proves it
    deposit_credit(deposit=deposit, actor=None, amount="2000.00", proof_kind="statement_line",
                   proof_reference="BANK-REF-1")
    # then supervision and reserve are up by 2,000.00, as a reserve deposit with its order
    entry = JournalEntry.objects.get(merchant=merchant, order_no="RSV-1")
    assert entry.entry_type == EntryType.RESERVE_DEPOSIT
    assert reserve_of(merchant) == D("2000.00")
    assert proven(merchant).supervision_balance == D("2000.00")
    assert events("reserve.funded")[0][1]["amount"] == "2000.00"
    # and the same proof again books nothing
    deposit_credit(deposit=deposit, actor=None, amount="2000.00", proof_kind="statement_line",
                   proof_reference="BANK-REF-1")
    assert reserve_of(merchant) == D("2000.00")


def test_a_reserve_deposit_with_another_amount_is_not_credited():
    # given an announced reserve deposit; when a different amount arrives, then refused, nothing booked
    merchant = f.active_merchant()
    deposit = reserve_deposit_announce(merchant=merchant, actor=None, amount="2000.00", order_no="RSV-2")
    with pytest.raises(OrderMismatch):
        deposit_credit(deposit=deposit, actor=None, amount="1999.00", proof_kind="statement_line",
                       proof_reference="BANK-REF-2")
    assert reserve_of(merchant) == 0


def test_a_statement_line_funds_the_reserve_only_when_the_platform_itself_paid():
    from reconciliation.services.imports import statement_import
    from tests.reconciliation.builders import english

    # given two announced reserve deposits of one merchant
    merchant = f.active_merchant()
    own = reserve_deposit_announce(merchant=merchant, actor=None, amount="3000.00", order_no="RSV-OWN")
    other = reserve_deposit_announce(merchant=merchant, actor=None, amount="500.00", order_no="RSV-OTHER")
    day = business_date_for().isoformat()
    # when the bank's statement shows one paid by the platform, the other by somebody else
    content = english([
        ("SR-1", day, "3000.00", merchant.legal_name, "6222000011112222", "ICBC", f"保证金 {own.payment_code}", ""),
        ("SR-2", day, "500.00", "王某某", "6222000033334444", "ICBC", f"保证金 {other.payment_code}", ""),
    ])
    statement_import(account_number=merchant.supervision_account_number, actor=None, stream=content)
    # then the platform's own money is in the reserve; the other waits in suspense, not on the reserve
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.status == Deposit.Status.SUCCEEDED and other.status == Deposit.Status.AWAITING_FUNDS
    assert reserve_of(merchant) == D("3000.00")
    assert platform_account(merchant, AccountKind.SUSPENSE).balance == D("500.00")
    proven(merchant)


def test_a_channel_notification_funds_the_reserve():
    from ledger.channels import channel_notification_accept
    from ledger.services.channels import payment_channel_create

    # given a channel and a reserve deposit announced through it
    merchant = f.active_merchant()
    channel = payment_channel_create(actor=f.ops(), code="unionpay", name="银联", app_id="UP-APP", secret="s3cret")
    deposit = reserve_deposit_announce(merchant=merchant, actor=None, amount="800.00", order_no="RSV-CH",
                                       method="channel", channel=channel)
    # when the channel's signed notification proves it
    outcome = channel_notification_accept(channel=channel, amount="800.00", transaction_id="T-1",
                                          payment_code=deposit.payment_code)
    # then the reserve is funded
    assert outcome.result == "credited" and reserve_of(merchant) == D("800.00")
    proven(merchant)


# --- the reserve can't be spent by the platform ------------------------------------------------------

@pytest.mark.parametrize("entry_type", [EntryType.PAYMENT, EntryType.WITHDRAWAL_REQUEST, EntryType.ADJUSTMENT,
                                        EntryType.REVERSAL, EntryType.PAYMENT_RELEASE])
def test_no_platform_movement_takes_money_from_the_reserve(entry_type):
    # given a funded reserve
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    buyer = f.member(merchant)
    available, _frozen = member_accounts(buyer)
    reserve = platform_account(merchant, AccountKind.RISK_RESERVE)
    # when anything but a compensation or a release moves money out of it, then the engine refuses it
    with pytest.raises(ReserveProtected), transaction.atomic():
        post_entry(merchant=merchant, entry_type=entry_type, idempotency_ref=f"steal-{entry_type}",
                   legs=[Leg(reserve, D("-100.00")), Leg(available, D("100.00"))], actor=None,
                   order=Order(order_no="FAKE-1"))
    # and nothing was booked
    assert reserve_of(merchant) == D("1000.00")
    assert not JournalEntry.objects.filter(merchant=merchant, order_no="FAKE-1").exists()


def test_a_reserve_deposit_can_not_be_reversed_away():
    from ledger.services.reversal import entry_reverse

    # given a funded reserve; when operations reverse its deposit, then refused: the reserve stays
    merchant = f.active_merchant()
    deposit = fund_reserve(merchant, "1000.00")
    with pytest.raises(InvalidState):
        entry_reverse(entry=deposit.entry, actor=f.ops(), reason="mistake")
    assert reserve_of(merchant) == D("1000.00")


@pytest.mark.postgres
def test_the_database_refuses_a_reserve_debit_that_bypasses_the_posting_engine():
    from django.db import IntegrityError, connection, transaction

    # given a funded reserve
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    reserve = platform_account(merchant, AccountKind.RISK_RESERVE)
    payment_entry = pay(*_buyer_and_seller(merchant), "10.00").entry
    # when SQL lowers its balance directly, or names an entry that is no compensation, then refused
    for declared in ("", str(payment_entry.pk)):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jianguan.reserve_entry', %s, true)", [declared])
            cursor.execute("UPDATE ledger_account SET balance = balance - 1 WHERE id = %s", [reserve.pk])
    # and raising it (a deposit) is never in the guard's way
    fund_reserve(merchant, "1.00")
    assert reserve_of(merchant) == D("1001.00")


def _buyer_and_seller(merchant):
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "100.00")
    return buyer, seller


# --- withdrawals while the reserve is short ----------------------------------------------------------

@pytest.fixture
def short(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "RESERVE_SHORTFALL_WITHDRAWAL_LIMIT": "1000.00"}
    merchant = f.active_merchant()
    require_reserve(merchant, "5000.00")
    fund_reserve(merchant, "4000.00")
    seller, card = seller_with_card(merchant, amount="20000.00")
    return merchant, seller, card


def _withdraw(merchant, seller, card, amount, n=[0]):  # noqa: B006 - a counter for order numbers
    n[0] += 1
    return w.withdrawal_request(merchant=merchant, actor=None, member=seller, amount=amount, bank_card=card,
                                order_no=f"WD-R-{n[0]}")[0]


def test_a_shortfall_refuses_withdrawals_above_the_limit_until_funded(short):
    merchant, seller, card = short
    # given a reserve 1,000.00 short; when a member asks for 1,000.01, then refused with the shortfall
    with pytest.raises(ReserveShortfall) as err:
        _withdraw(merchant, seller, card, "1000.01")
    assert err.value.code == "reserve_shortfall" and err.value.details["shortfall"] == "1000.00"
    assert member_accounts(seller)[0].balance == D("20000.00")
    # when at the limit, then it goes through
    assert _withdraw(merchant, seller, card, "1000.00").amount == D("1000.00")
    # when the platform funds the rest, then large withdrawals are allowed again
    fund_reserve(merchant, "1000.00")
    assert _withdraw(merchant, seller, card, "5000.00").amount == D("5000.00")
    proven(merchant)


def test_the_one_time_code_path_refuses_the_same_withdrawal(short):
    from ledger.services.confirmations import withdrawal_challenge

    merchant, seller, card = short
    # given the shortfall; when the challenge for a large withdrawal is asked, then refused before any code
    with pytest.raises(ReserveShortfall):
        withdrawal_challenge(merchant=merchant, actor=None, member=seller, amount="3000.00", bank_card=card,
                             order_no="WD-OTP-1")


def test_a_merchant_without_a_required_reserve_is_not_held_back(settings):
    # given no required reserve and an empty reserve; when a large withdrawal is asked, then it goes through
    settings.JIANGUAN = {**settings.JIANGUAN, "RESERVE_SHORTFALL_WITHDRAWAL_LIMIT": "1000.00"}
    merchant = f.active_merchant()
    seller, card = seller_with_card(merchant, amount="9000.00")
    assert _withdraw(merchant, seller, card, "9000.00").status


# --- compensation: reserve first, maker-checker ------------------------------------------------------

@pytest.fixture
def wronged():
    """A platform with a 1,000.00 reserve and a buyer who paid 300.00 for order ORD-WRONG."""
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "300.00")
    from ledger.services.payments import payment_create

    payment_create(merchant=merchant, actor=None, payer=buyer, amount="300.00", order_no="ORD-WRONG",
                   mode="direct", splits=[(seller, "300.00")])
    return merchant, buyer


def _compensation(merchant, buyer, maker=None, **kw):
    kw = {"amount": "300.00", "order_no": "ORD-WRONG", "reason": "goods never shipped (fake order)", **kw}
    return rs.reserve_compensation_request(merchant=merchant, actor=maker or f.risk(), member=buyer, **kw)


def test_a_compensation_pays_the_wronged_buyer_from_the_reserve_after_a_second_approval(wronged):
    merchant, buyer = wronged
    events = f.listening(merchant)
    maker, checker = f.risk(), f.risk()
    # given a risk officer's request to pay the buyer 300.00 for ORD-WRONG
    compensation = _compensation(merchant, buyer, maker)
    # then nothing moved yet
    assert reserve_of(merchant) == D("1000.00") and member_accounts(buyer)[0].balance == 0
    # when a second risk officer approves it
    rs.reserve_compensation_approve(compensation=compensation, actor=checker)
    # then the reserve paid the buyer, with the order, and the platform is told
    compensation.refresh_from_db()
    assert compensation.status == ReserveCompensation.Status.APPROVED
    assert (compensation.reserve_part, compensation.platform_part) == (D("300.00"), D("0.00"))
    assert reserve_of(merchant) == D("700.00") and member_accounts(buyer)[0].balance == D("300.00")
    entry = compensation.entry
    assert entry.entry_type == EntryType.RESERVE_COMPENSATION and entry.order_no == "ORD-WRONG"
    assert entry.payee_id == buyer.pk and entry.actor_user_id == checker.pk
    [(_type, data)] = events("reserve.compensation_paid")
    assert data["user_id"] == buyer.user_id and data["order_no"] == "ORD-WRONG" and data["from_reserve"] == "300.00"
    proven(merchant)
    # and it is paid once: a second approval is refused
    with pytest.raises(InvalidState):
        rs.reserve_compensation_approve(compensation=compensation, actor=f.risk())


def test_the_requester_may_not_approve_their_own_compensation(wronged):
    merchant, buyer = wronged
    maker = f.risk()
    compensation = _compensation(merchant, buyer, maker)
    # when the requester approves, then refused and nothing moves
    with pytest.raises(PermissionRefused):
        rs.reserve_compensation_approve(compensation=compensation, actor=maker)
    assert reserve_of(merchant) == D("1000.00")


@pytest.mark.parametrize("who", ["rm", "ops"])
def test_only_risk_officers_request_and_approve_compensations(wronged, who):
    merchant, buyer = wronged
    actor = {"rm": f.rm, "ops": f.ops}[who]()
    with pytest.raises(PermissionRefused):
        _compensation(merchant, buyer, actor)
    compensation = _compensation(merchant, buyer)
    with pytest.raises(PermissionRefused):
        rs.reserve_compensation_approve(compensation=compensation, actor=actor)


def test_a_compensation_needs_an_order_of_that_member_and_a_reason(wronged):
    merchant, buyer = wronged
    stranger = f.member(merchant)
    # when the order is not the member's (or not in the books at all), then refused
    with pytest.raises(OrderMismatch):
        _compensation(merchant, stranger)
    with pytest.raises(OrderMismatch):
        _compensation(merchant, buyer, order_no="NO-SUCH-ORDER")
    # when there is no reason or no order number, then refused
    with pytest.raises(ValidationFailed):
        _compensation(merchant, buyer, reason="")
    with pytest.raises(ValidationFailed):
        _compensation(merchant, buyer, order_no=" ")
    # when the member belongs to another merchant, then refused
    with pytest.raises(ValidationFailed):
        _compensation(merchant, f.member(f.active_merchant()))
    assert not ReserveCompensation.objects.exists()


def test_a_compensation_larger_than_the_reserve_is_refused_unless_the_platform_pays_the_rest(wronged):
    merchant, buyer = wronged
    # given a compensation of 1,200.00 against a reserve of 1,000.00
    compensation = _compensation(merchant, buyer, amount="1200.00")
    # when approved, then refused: the reserve lacks it; nothing moved, the request waits
    with pytest.raises(InsufficientFunds):
        rs.reserve_compensation_approve(compensation=compensation, actor=f.risk())
    compensation.refresh_from_db()
    assert compensation.status == ReserveCompensation.Status.REQUESTED and reserve_of(merchant) == D("1000.00")
    # given the platform earned 500.00 of fees and a request that lets its own money pay the remainder
    fee_income(merchant, "500.00")
    rs.reserve_compensation_reject(compensation=compensation, actor=f.risk(), reason="asked again with top-up")
    topped = _compensation(merchant, buyer, amount="1200.00", platform_may_pay=True)
    # when approved, then the reserve goes out first (all of it), the fee income pays only the 200.00 left
    rs.reserve_compensation_approve(compensation=topped, actor=f.risk())
    topped.refresh_from_db()
    assert (topped.reserve_part, topped.platform_part) == (D("1000.00"), D("200.00"))
    assert reserve_of(merchant) == 0 and member_accounts(buyer)[0].balance == D("1200.00")
    proven(merchant)


def test_a_rejected_compensation_needs_a_reason_and_pays_nothing(wronged):
    merchant, buyer = wronged
    compensation = _compensation(merchant, buyer)
    with pytest.raises(ValidationFailed):
        rs.reserve_compensation_reject(compensation=compensation, actor=f.risk(), reason="")
    rs.reserve_compensation_reject(compensation=compensation, actor=f.risk(), reason="the buyer was refunded")
    compensation.refresh_from_db()
    assert compensation.status == ReserveCompensation.Status.REJECTED
    with pytest.raises(InvalidState):
        rs.reserve_compensation_approve(compensation=compensation, actor=f.risk())
    assert reserve_of(merchant) == D("1000.00")


def test_a_frozen_platform_s_reserve_still_compensates_its_buyers(wronged):
    from merchants.services.lifecycle import merchant_freeze

    # given the platform frozen by risk (nothing leaves its members' accounts)
    merchant, buyer = wronged
    merchant_freeze(merchant=merchant, actor=f.risk(), reason="fake orders")
    compensation = _compensation(merchant, buyer)
    # when a compensation is approved, then the buyer is paid (money in to a member, from the reserve)
    rs.reserve_compensation_approve(compensation=compensation, actor=f.risk())
    assert member_accounts(buyer)[0].balance == D("300.00")
    proven(merchant)


# --- release on closing -----------------------------------------------------------------------------

@pytest.fixture
def closing():
    """A merchant holding only its 1,000.00 reserve, closing."""
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    merchant_start_closing(merchant=merchant, actor=f.risk(), reason="platform shut down")
    merchant.refresh_from_db()
    return merchant


def _release(merchant, maker=None):
    return rs.reserve_release_request(merchant=merchant, actor=maker or f.risk(), payee_account_name=merchant.legal_name,
                                      payee_account_number="3700 1618 8000 0012 345", reason="merchant closes")


def _clean_eod(merchant, status="balanced", day=None):
    return EodRun.objects.create(merchant=merchant, business_date=day or business_date_for(), status=status)


def test_the_reserve_is_released_after_a_clean_last_end_of_day_and_the_merchant_closes(closing):
    merchant = closing
    events = f.listening(merchant)
    _clean_eod(merchant)
    maker, checker = f.risk(), f.risk()
    release = _release(merchant, maker)
    # when a second risk officer approves the release
    rs.reserve_release_approve(release=release, actor=checker)
    # then the reserve left the supervision account for the platform's account
    release.refresh_from_db()
    assert release.status == ReserveRelease.Status.APPROVED and release.amount == D("1000.00")
    assert release.entry.entry_type == EntryType.RESERVE_RELEASE
    assert reserve_of(merchant) == 0 and proven(merchant).supervision_balance == 0
    assert events("reserve.released")[0][1]["amount"] == "1000.00"
    # and the merchant can now close
    merchant_close(merchant=merchant, actor=f.risk())
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.CLOSED


def test_a_closing_merchant_with_its_reserve_is_refused_the_close(closing):
    # given a closing merchant still holding its reserve; when closed, then refused (balances not zero)
    with pytest.raises(InvalidState):
        merchant_close(merchant=closing, actor=f.risk())


def test_the_reserve_is_not_released_of_a_merchant_that_is_not_closing():
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    with pytest.raises(InvalidState):
        _release(merchant)


def test_the_release_is_refused_without_an_end_of_day(closing):
    release = _release(closing)
    with pytest.raises(InvalidState) as err:
        rs.reserve_release_approve(release=release, actor=f.risk())
    assert "end of day" in str(err.value.message)
    assert reserve_of(closing) == D("1000.00")


def test_the_release_is_refused_when_the_last_end_of_day_is_not_clean(closing):
    _clean_eod(closing, status="discrepancies")
    release = _release(closing)
    with pytest.raises(InvalidState):
        rs.reserve_release_approve(release=release, actor=f.risk())
    assert reserve_of(closing) == D("1000.00")


def test_the_release_is_refused_when_money_moved_after_the_last_end_of_day(closing):
    _clean_eod(closing, day=business_date_for() - datetime.timedelta(days=1))
    release = _release(closing)
    with pytest.raises(InvalidState) as err:
        rs.reserve_release_approve(release=release, actor=f.risk())
    assert "after the last end of day" in str(err.value.message)


def test_the_release_waits_until_every_other_balance_is_paid_out():
    # given a closing merchant whose member still holds money
    merchant = f.active_merchant()
    fund_reserve(merchant, "1000.00")
    f.funded(f.member(merchant), "50.00")
    merchant_start_closing(merchant=merchant, actor=f.risk(), reason="shut down")
    _clean_eod(merchant)
    release = _release(merchant)
    # when the release is approved, then refused: the reserve is the last money to leave
    with pytest.raises(InvalidState) as err:
        rs.reserve_release_approve(release=release, actor=f.risk())
    assert "other accounts" in str(err.value.message)


def test_the_requester_may_not_approve_the_release_and_only_one_is_asked(closing):
    _clean_eod(closing)
    maker = f.risk()
    release = _release(closing, maker)
    with pytest.raises(PermissionRefused):
        rs.reserve_release_approve(release=release, actor=maker)
    with pytest.raises(InvalidState):
        _release(closing)
    with pytest.raises(ValidationFailed):
        rs.reserve_release_reject(release=release, actor=f.risk(), reason="")
    rs.reserve_release_reject(release=release, actor=f.risk(), reason="wrong account")
    release.refresh_from_db()
    assert release.status == ReserveRelease.Status.REJECTED
    assert reserve_of(closing) == D("1000.00")


def test_the_reserve_account_is_the_platform_s_and_never_a_member_s():
    merchant = f.active_merchant()
    reserve = platform_account(merchant, AccountKind.RISK_RESERVE)
    assert reserve.member_id is None and not reserve.is_hot
    assert Account.objects.filter(merchant=merchant, kind=AccountKind.RISK_RESERVE).count() == 1
