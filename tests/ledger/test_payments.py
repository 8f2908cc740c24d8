"""Payments: direct and guaranteed, release, auto-release, idempotency and every refusal."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import (
    DuplicateOrder,
    InsufficientFunds,
    InvalidAmount,
    InvalidState,
    MemberFrozen,
    MerchantFrozen,
    MerchantInactive,
    NotFound,
    ValidationFailed,
)
from ledger import calendar, tasks
from ledger.models import (
    EntryType,
    HotBalanceDelta,
    JournalEntry,
    Payment,
    PaymentSplit,
    Posting,
)
from ledger.selectors import account_balances, member_balance, prove_merchant
from ledger.services.payments import (
    payment_create,
    payment_release,
    payments_auto_release_due,
)
from merchants.services.lifecycle import (
    merchant_freeze,
    merchant_start_closing,
    merchant_unfreeze,
)
from merchants.services.members import member_close, member_freeze
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def available(member):
    return member_balance(member)["available"]


@pytest.fixture
def shop():
    """An active merchant with a buyer holding 1000.00 and two sellers."""
    merchant = f.active_merchant()
    buyer, seller, other_seller = f.member(merchant), f.member(merchant), f.member(merchant)
    f.funded(buyer, "1000.00")
    return merchant, buyer, seller, other_seller


def pay(merchant, payer, splits, amount, *, mode="direct", fee="0.00", order_no="ORD-1"):
    return payment_create(merchant=merchant, actor=None, payer=payer, amount=amount, order_no=order_no, mode=mode,
                          splits=splits, platform_fee=fee, description="two mugs")


# --- direct ------------------------------------------------------------------------------

def test_a_direct_payment_settles_to_the_payees_and_the_fee_account(shop):
    # given a buyer with 1000.00 and two sellers
    merchant, buyer, seller, other = shop
    # when the buyer pays 300.00: 200.00 to one seller, 95.00 to the other, 5.00 platform fee
    payment, created = pay(merchant, buyer, [(seller, "200.00"), (other, "95.00")], "300.00", fee="5.00")
    # then it settles at once and each account moved by its share
    assert created and payment.status == Payment.Status.SETTLED and payment.auto_release_at is None
    assert (available(buyer), available(seller), available(other)) == (D("700.00"), D("200.00"), D("95.00"))
    balances = account_balances(merchant)
    assert balances["fee_income"] == D("5.00") and balances["escrow"] == 0
    assert balances["supervision"] == D("1000.00")  # money moved inside the supervision account only
    assert payment.entry.entry_type == EntryType.PAYMENT
    assert payment.entry.idempotency_ref == f"payment:{payment.pk}"
    assert payment.entry.order_no == "ORD-1" and payment.entry.payer_id == buyer.pk
    assert Posting.objects.filter(entry=payment.entry).count() == 4
    assert sorted(payment.splits.values_list("payee_id", "amount")) == sorted(
        [(seller.pk, D("200.00")), (other.pk, D("95.00"))])
    assert prove_merchant(merchant).ok


def test_a_payee_named_twice_is_merged_into_one_split(shop):
    merchant, buyer, seller, _other = shop
    payment, _ = pay(merchant, buyer, [(seller, "60.00"), (seller, "40.00")], "100.00")
    assert list(payment.splits.values_list("payee_id", "amount")) == [(seller.pk, D("100.00"))]
    # the merged spelling is the same request: a replay, not a new payment
    again, created = pay(merchant, buyer, [(seller, "100.00")], "100.00")
    assert (again.pk, created) == (payment.pk, False)
    assert available(seller) == D("100.00")
    assert prove_merchant(merchant).ok


def test_a_frozen_payee_still_receives(shop):
    merchant, buyer, seller, _other = shop
    member_freeze(member=seller, actor=f.risk(), reason="court order")
    pay(merchant, buyer, [(seller, "10.00")], "10.00")
    assert available(seller) == D("10.00")
    assert prove_merchant(merchant).ok


# --- refusals ----------------------------------------------------------------------------

def _nothing_written(merchant, buyer, before="1000.00"):
    assert not Payment.objects.filter(merchant=merchant).exists()
    assert not PaymentSplit.objects.filter(merchant=merchant).exists()
    assert not JournalEntry.objects.filter(merchant=merchant).exclude(entry_type=EntryType.DEPOSIT).exists()
    assert available(buyer) == D(before)
    assert prove_merchant(merchant).ok


def test_insufficient_funds_write_nothing_not_even_the_payment(shop):
    merchant, buyer, seller, _other = shop
    with pytest.raises(InsufficientFunds):
        pay(merchant, buyer, [(seller, "1000.01")], "1000.01")
    with pytest.raises(InsufficientFunds):
        pay(merchant, buyer, [(seller, "1000.01")], "1000.01", mode="guaranteed")
    _nothing_written(merchant, buyer)
    # and the order number is still free
    _payment, created = pay(merchant, buyer, [(seller, "1000.00")], "1000.00")
    assert created and available(buyer) == 0


def test_a_payer_can_spend_the_exact_balance_left_after_earlier_payments():
    # 0.70 - 0.40 - 0.30: exact on PostgreSQL's numeric; on SQLite it needs the engine's rounding
    merchant = f.active_merchant()
    buyer, seller = f.member(merchant), f.member(merchant)
    f.funded(buyer, "0.70")
    pay(merchant, buyer, [(seller, "0.40")], "0.40", order_no="A")
    pay(merchant, buyer, [(seller, "0.30")], "0.30", order_no="B")
    assert available(buyer) == 0 and available(seller) == D("0.70")
    assert prove_merchant(merchant).ok


def test_a_frozen_payer_pays_nothing(shop):
    merchant, buyer, seller, _other = shop
    member_freeze(member=buyer, actor=f.risk(), reason="suspected fraud")
    # the caller's object is stale (still "active"): the service reads the status afresh
    assert buyer.status == "active"
    with pytest.raises(MemberFrozen):
        pay(merchant, buyer, [(seller, "10.00")], "10.00")
    _nothing_written(merchant, buyer)


def test_a_closed_payee_receives_nothing(shop):
    merchant, buyer, seller, _other = shop
    member_close(member=seller, actor=f.risk(), reason="left the platform")
    with pytest.raises(InvalidState):
        pay(merchant, buyer, [(seller, "10.00")], "10.00")
    _nothing_written(merchant, buyer)


def test_a_frozen_merchant_moves_no_money(shop):
    merchant, buyer, seller, _other = shop
    merchant = merchant_freeze(merchant=merchant, actor=f.risk(), reason="investigation")
    with pytest.raises(MerchantFrozen):
        pay(merchant, buyer, [(seller, "10.00")], "10.00")
    _nothing_written(merchant, buyer)


def test_an_inactive_merchant_moves_no_money(shop):
    merchant, buyer, seller, _other = shop
    merchant = merchant_start_closing(merchant=merchant, actor=f.risk(), reason="contract ends")
    with pytest.raises(MerchantInactive):
        pay(merchant, buyer, [(seller, "10.00")], "10.00")
    _nothing_written(merchant, buyer)


def test_splits_plus_fee_must_equal_the_amount(shop):
    merchant, buyer, seller, other = shop
    with pytest.raises(ValidationFailed) as error:
        pay(merchant, buyer, [(seller, "50.00"), (other, "40.00")], "100.00", fee="5.00")
    assert error.value.status == 400 and error.value.code == "invalid_request"
    assert "splits" in error.value.details and error.value.details["splits_plus_fee"] == ["95.00"]
    _nothing_written(merchant, buyer)


@pytest.mark.parametrize("kwargs, error, field", [
    ({"fee": "100.00"}, ValidationFailed, "platform_fee"),  # fee must stay below the amount
    ({"fee": "-1.00"}, InvalidAmount, "platform_fee"),
    ({"fee": "0.001"}, InvalidAmount, "platform_fee"),
    ({"amount": "0"}, InvalidAmount, "amount"),
    ({"amount": 100}, InvalidAmount, "amount"),  # numbers are refused: amounts are strings
    ({"splits": []}, ValidationFailed, "splits"),
    ({"mode": "cash"}, ValidationFailed, "mode"),
    ({"order_no": "  "}, ValidationFailed, "order_no"),
    ({"order_no": "x" * 65}, ValidationFailed, "order_no"),
])
def test_malformed_requests_are_refused(shop, kwargs, error, field):
    merchant, buyer, seller, _other = shop
    args = {"amount": "100.00", "splits": [(seller, "100.00")], "mode": "direct", "fee": "0.00",
            "order_no": "ORD-X"}
    args.update(kwargs)
    with pytest.raises(error) as raised:
        pay(merchant, buyer, args["splits"], args["amount"], mode=args["mode"], fee=args["fee"],
            order_no=args["order_no"])
    assert field in raised.value.details
    _nothing_written(merchant, buyer)


def test_the_payer_cannot_pay_themself(shop):
    merchant, buyer, seller, _other = shop
    with pytest.raises(ValidationFailed):
        pay(merchant, buyer, [(seller, "50.00"), (buyer, "50.00")], "100.00")
    _nothing_written(merchant, buyer)


def test_members_of_another_merchant_are_not_found(shop):
    merchant, buyer, seller, _other = shop
    elsewhere = f.active_merchant()
    stranger = f.member(elsewhere)
    with pytest.raises(NotFound):
        pay(merchant, buyer, [(stranger, "10.00")], "10.00")
    with pytest.raises(NotFound):
        pay(merchant, stranger, [(seller, "10.00")], "10.00")
    _nothing_written(merchant, buyer)


# --- idempotency -------------------------------------------------------------------------

def test_a_replay_returns_the_payment_and_books_once(shop):
    merchant, buyer, seller, other = shop
    first, created = pay(merchant, buyer, [(seller, "60.00"), (other, "35.00")], "100.00", fee="5.00")
    # the same body with the splits in another order is the same request
    again, created_again = pay(merchant, buyer, [(other, "35.00"), (seller, "60.00")], "100.00", fee="5.00")
    assert created and not created_again and again.pk == first.pk
    assert JournalEntry.objects.filter(merchant=merchant, entry_type=EntryType.PAYMENT).count() == 1
    assert available(buyer) == D("900.00")
    assert prove_merchant(merchant).ok


@pytest.mark.parametrize("amount, payee, split, fee, mode", [
    ("100.00", "seller", "100.00", "0.00", "direct"),  # the fee dropped
    ("95.00", "seller", "90.00", "5.00", "direct"),  # another amount
    ("100.00", "seller", "95.00", "5.00", "guaranteed"),  # another mode
    ("100.00", "other", "95.00", "5.00", "direct"),  # another payee
])
def test_the_same_order_number_with_another_body_is_a_duplicate_order(shop, amount, payee, split, fee, mode):
    merchant, buyer, seller, other = shop
    pay(merchant, buyer, [(seller, "95.00")], "100.00", fee="5.00")
    with pytest.raises(DuplicateOrder) as error:
        pay(merchant, buyer, [({"seller": seller, "other": other}[payee], split)], amount, fee=fee, mode=mode)
    assert error.value.status == 409
    assert Payment.objects.filter(merchant=merchant).count() == 1
    assert available(buyer) == D("900.00")


def test_a_different_payer_on_the_same_order_number_is_a_duplicate_order(shop):
    merchant, buyer, seller, other = shop
    f.funded(other, "50.00")
    pay(merchant, buyer, [(seller, "10.00")], "10.00")
    with pytest.raises(DuplicateOrder):
        pay(merchant, other, [(seller, "10.00")], "10.00")


def test_a_replay_after_the_payer_was_frozen_still_answers_with_the_payment(shop):
    merchant, buyer, seller, _other = shop
    first, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00")
    member_freeze(member=buyer, actor=f.risk(), reason="later freeze")
    again, created = pay(merchant, buyer, [(seller, "10.00")], "10.00")
    assert (again.pk, created) == (first.pk, False)


def test_order_numbers_are_scoped_per_merchant(shop):
    merchant, buyer, seller, _other = shop
    elsewhere = f.active_merchant()
    b2, s2 = f.member(elsewhere), f.member(elsewhere)
    f.funded(b2, "10.00")
    pay(merchant, buyer, [(seller, "10.00")], "10.00", order_no="SAME")
    _payment, created = pay(elsewhere, b2, [(s2, "10.00")], "10.00", order_no="SAME")
    assert created


# --- query count -------------------------------------------------------------------------

# The Python path (SQLite, or JIANGUAN_BOOK_IN_DATABASE off), measured for a direct payment with one
# payee and a fee inside the test's transaction: 2 savepoint pairs (service, payment insert) + entry
# savepoint pair = 6, the parties' status, the payment, its split, the members' accounts, the fee
# account, the entry, 2 balance UPDATEs, the postings, the hot-account delta, the payment's entry
# link, and the business-day lookup (the first payment of a minute in the process: ledger.calendar
# caches the business date per minute, forgotten here before each count so it is always paid).
PAYMENT_MAX_QUERIES = 18


@pytest.fixture
def fixed_business_day(settings):
    # With the cut-off at midnight every moment is "after the cut-off", so the business date
    # always costs the same single calendar query whatever the time the test runs.
    settings.JIANGUAN = {**settings.JIANGUAN, "DAILY_CUTOFF": "00:00"}


@pytest.fixture
def python_path(settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "BOOK_IN_DATABASE": False}


def test_a_direct_payment_takes_a_small_constant_number_of_queries(shop, fixed_business_day, python_path,
                                                                    django_assert_max_num_queries,
                                                                    django_assert_num_queries):
    merchant, buyer, seller, _other = shop
    pay(merchant, buyer, [(seller, "1.00")], "2.00", fee="1.00", order_no="WARM-UP")  # opens no accounts
    calendar.business_dates_forget()
    with django_assert_max_num_queries(PAYMENT_MAX_QUERIES):
        pay(merchant, buyer, [(seller, "9.00")], "10.00", fee="1.00", order_no="Q-1")
    # and it does not grow with the number of members in the merchant
    for _ in range(25):
        f.member(merchant)
    calendar.business_dates_forget()
    with django_assert_num_queries(PAYMENT_MAX_QUERIES):
        pay(merchant, buyer, [(seller, "9.00")], "10.00", fee="1.00", order_no="Q-2")


def _statements(context):
    """What reached the database, less the savepoints the test's own transaction adds (outside a
    test the service's atomic block is the transaction: BEGIN goes with the first statement)."""
    return [q["sql"] for q in context.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["direct", "guaranteed"])
def test_on_postgresql_a_payment_is_one_call_of_the_booking_function(shop, mode, django_assert_max_num_queries):
    # given a merchant whose calendar lookup is already done this minute
    merchant, buyer, seller, other = shop
    pay(merchant, buyer, [(seller, "1.00")], "2.00", fee="1.00", order_no="WARM-UP", mode=mode)
    # when a payment with two payees and a fee is booked
    with django_assert_max_num_queries(PAYMENT_MAX_QUERIES) as context:
        payment, created = pay(merchant, buyer, [(seller, "5.00"), (other, "4.00")], "10.00", fee="1.00",
                               order_no="ONE-CALL", mode=mode)
    # then the books took one statement besides the business-day lookup, and COMMIT makes 3
    statements = _statements(context)
    assert len([sql for sql in statements if "ledger_book_payment" in sql]) == 1
    assert len(statements) <= 2, statements
    # and the answer is the payment as booked, its splits named without a query
    assert created and payment.entry.postings.count() == (4 if mode == "direct" else 2)
    assert [(split.payee.user_id, split.amount) for split in payment.splits.all()] == [
        (seller.user_id, D("5.00")), (other.user_id, D("4.00"))]
    assert Payment.objects.get(pk=payment.pk).status == payment.status
    assert prove_merchant(merchant).ok


# --- guaranteed, release, auto-release ---------------------------------------------------

def test_a_guaranteed_payment_waits_in_escrow(shop):
    merchant, buyer, seller, other = shop
    before = timezone.now()
    payment, _ = pay(merchant, buyer, [(seller, "70.00"), (other, "20.00")], "100.00", fee="10.00",
                     mode="guaranteed")
    after = timezone.now()
    assert payment.status == Payment.Status.HELD
    assert before + timedelta(days=7) <= payment.auto_release_at <= after + timedelta(days=7)
    assert payment.entry.entry_type == EntryType.PAYMENT_HOLD
    assert (available(buyer), available(seller), available(other)) == (D("900.00"), 0, 0)
    balances = account_balances(merchant)
    assert (balances["escrow"], balances["fee_income"]) == (D("100.00"), 0)
    assert prove_merchant(merchant).ok


def test_the_auto_release_delay_comes_from_the_settings(shop, settings):
    settings.JIANGUAN = {**settings.JIANGUAN, "GUARANTEE_AUTO_RELEASE_DAYS": 3}
    merchant, buyer, seller, _other = shop
    payment, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", mode="guaranteed")
    delay = payment.auto_release_at - payment.created_at
    assert timedelta(days=3) - timedelta(seconds=5) < delay <= timedelta(days=3)


def test_release_pays_the_payees_and_the_fee_and_tells_the_platform(shop):
    merchant, buyer, seller, other = shop
    sent = f.listening(merchant)
    payment, _ = pay(merchant, buyer, [(seller, "70.00"), (other, "20.00")], "100.00", fee="10.00",
                     mode="guaranteed")
    payment = payment_release(payment=payment, actor=f.ops())
    assert payment.status == Payment.Status.RELEASED and payment.released_at
    assert payment.release_entry.entry_type == EntryType.PAYMENT_RELEASE
    assert (available(seller), available(other)) == (D("70.00"), D("20.00"))
    balances = account_balances(merchant)
    assert (balances["escrow"], balances["fee_income"]) == (0, D("10.00"))
    assert sent() == [("payment.released", {
        "id": payment.pk, "order_no": "ORD-1", "amount": "100.00", "platform_fee": "10.00",
        "payees": [{"user_id": seller.user_id, "amount": "70.00"}, {"user_id": other.user_id, "amount": "20.00"}],
    })]
    assert prove_merchant(merchant).ok


def test_release_only_from_held(shop):
    merchant, buyer, seller, _other = shop
    held, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", mode="guaranteed", order_no="G")
    payment_release(payment=held, actor=None)
    with pytest.raises(InvalidState):  # twice
        payment_release(payment=held, actor=None)
    direct, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", order_no="D")
    with pytest.raises(InvalidState):  # a direct payment has nothing to release
        payment_release(payment=direct, actor=None)
    assert available(seller) == D("20.00")
    assert prove_merchant(merchant).ok


def test_release_is_refused_while_the_merchant_is_frozen(shop):
    merchant, buyer, seller, _other = shop
    held, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", mode="guaranteed")
    merchant_freeze(merchant=merchant, actor=f.risk(), reason="investigation")
    with pytest.raises(MerchantFrozen):
        payment_release(payment=held, actor=None)
    held.refresh_from_db()
    assert held.status == Payment.Status.HELD and available(seller) == 0


def test_auto_release_takes_only_due_payments_and_a_second_run_books_nothing(shop):
    merchant, buyer, seller, _other = shop
    due, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", mode="guaranteed", order_no="DUE")
    later, _ = pay(merchant, buyer, [(seller, "20.00")], "20.00", mode="guaranteed", order_no="LATER")
    Payment.objects.filter(pk=later.pk).update(auto_release_at=timezone.now() + timedelta(days=30))
    in_eight_days = timezone.now() + timedelta(days=8)
    assert payments_auto_release_due(now=in_eight_days) == 1
    assert payments_auto_release_due(now=in_eight_days) == 0  # a redelivered task
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (Payment.Status.RELEASED, Payment.Status.HELD)
    assert available(seller) == D("10.00")
    assert payments_auto_release_due() == 0  # nothing is due now
    assert prove_merchant(merchant).ok


def test_auto_release_skips_frozen_merchants_and_the_task_runs_the_service(shop):
    merchant, buyer, seller, _other = shop
    held, _ = pay(merchant, buyer, [(seller, "10.00")], "10.00", mode="guaranteed")
    Payment.objects.filter(pk=held.pk).update(auto_release_at=timezone.now() - timedelta(minutes=1))
    frozen = merchant_freeze(merchant=merchant, actor=f.risk(), reason="investigation")
    assert tasks.auto_release_due_payments.delay().get() == 0
    merchant_unfreeze(merchant=frozen, actor=f.risk(), reason="cleared")
    assert tasks.auto_release_due_payments.delay().get() == 1
    assert tasks.auto_release_due_payments.delay().get() == 0
    held.refresh_from_db()
    assert held.status == Payment.Status.RELEASED and held.release_entry.actor_label == "auto-release"


def test_the_roll_up_task_folds_hot_deltas_and_keeps_the_books_balanced(shop):
    merchant, buyer, seller, _other = shop
    pay(merchant, buyer, [(seller, "9.00")], "10.00", fee="1.00")
    assert HotBalanceDelta.objects.filter(merchant=merchant).exists()
    tasks.roll_up_hot_balances.delay().get()
    assert not HotBalanceDelta.objects.filter(merchant=merchant).exists()
    assert account_balances(merchant)["fee_income"] == D("1.00")
    assert prove_merchant(merchant).ok
    tasks.roll_up_hot_balances.delay().get()  # again: nothing to fold, nothing changes
    assert account_balances(merchant)["fee_income"] == D("1.00")

