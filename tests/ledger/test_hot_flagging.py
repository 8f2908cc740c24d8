"""Members' accounts made hot when busy and ordinary again when quiet (ledger.services.hot_flagging,
the beat's ledger.tasks), and debits booked with a stale flag (ledger.posting)."""
import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app
from core.audit import timeline_for
from core.errors import InsufficientFunds, InvalidState, PermissionRefused, ValidationFailed
from ledger import tasks
from ledger.hot_activity import HotRule
from ledger.models import Account, AccountKind, EntryType, HotBalanceDelta
from ledger.posting import Leg, post_entry, roll_up_hot_balances
from ledger.selectors import prove_merchant
from ledger.services.accounts import member_accounts, platform_account
from ledger.services.hot_flagging import (FLAGGER, account_set_hot, busy_member_accounts_mark_hot,
                                          quiet_member_accounts_mark_ordinary)
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal
RULE = HotRule(credits_per_minute=1, window_minutes=1, quiet_hours=1)  # busy: more than one credit a minute
LATER = datetime.timedelta(hours=2)


def seller_credited(times: int, amount="10.00"):
    merchant = f.active_merchant()
    seller = f.member(merchant)
    for _ in range(times):
        f.funded(seller, amount)
    return member_accounts(seller)[0]


def fresh(account) -> Account:
    return Account.objects.get(pk=account.pk)


def test_the_task_marks_a_busy_seller_hot_once_and_audits_it(settings):
    # given the settings' rule, and a seller credited twice within the minute and one credited once
    settings.JIANGUAN = {**settings.JIANGUAN, "HOT_MEMBER_CREDITS_PER_MINUTE": 1, "HOT_MEMBER_WINDOW_MINUTES": 1}
    busy, once = seller_credited(2), seller_credited(1)
    # when the beat's task runs twice
    first, second = tasks.mark_busy_member_accounts_hot(), tasks.mark_busy_member_accounts_hot()
    # then the busy seller is hot, marked once by the flagging job with its reason; the other is not
    assert (first, second) == (1, 0)
    assert fresh(busy).is_hot and not fresh(once).is_hot
    event = timeline_for(busy).get(action="mark_hot")
    assert (event.actor_id, event.actor_label, event.from_state, event.to_state) == (
        None, FLAGGER.label, "ordinary", "hot")
    assert "1 credits a minute over the last 1 minutes" in event.reason


def test_a_quiet_account_the_flagging_marked_is_made_ordinary_with_its_deltas_folded():
    # given a seller made hot by the flagging, then credited through the delta path
    seller = seller_credited(2)
    busy_member_accounts_mark_hot(rule=RULE)
    f.funded(fresh(seller).member, "5.00")
    assert HotBalanceDelta.objects.filter(account=seller).exists()
    # when the quiet sweep runs two hours later (twice)
    first = quiet_member_accounts_mark_ordinary(now=timezone.now() + LATER, rule=RULE)
    second = quiet_member_accounts_mark_ordinary(now=timezone.now() + LATER, rule=RULE)
    # then it is ordinary again, its materialised balance holds every credit, and the books prove
    seller = fresh(seller)
    assert (first, second) == (1, 0)
    assert not seller.is_hot and seller.balance == D("25.00")
    assert not HotBalanceDelta.objects.filter(account=seller).exists()
    assert timeline_for(seller).filter(action="mark_ordinary", actor__isnull=True).count() == 1
    assert prove_merchant(seller.merchant).ok


def test_a_busy_account_stays_hot_and_a_person_s_flag_is_left_to_the_person():
    # given a seller still busy now, and one a risk officer marked hot ahead of a sale day
    busy = seller_credited(2)
    busy_member_accounts_mark_hot(rule=RULE)
    ahead = member_accounts(f.member(f.active_merchant()))[0]
    account_set_hot(account=ahead, hot=True, actor=f.risk(), reason="Sale day on Friday")
    # when the quiet sweep runs now (the busy one's window is this minute) and two hours later
    assert quiet_member_accounts_mark_ordinary(rule=RULE) == 0
    assert fresh(busy).is_hot and fresh(ahead).is_hot
    # then two hours later only the flagging's own mark is taken back
    assert quiet_member_accounts_mark_ordinary(now=timezone.now() + LATER, rule=RULE) == 1
    assert not fresh(busy).is_hot and fresh(ahead).is_hot


def test_staff_without_the_freeze_permission_may_not_flip_the_flag():
    # given an operations user without the account freeze permission
    account = member_accounts(f.member(f.active_merchant()))[0]
    user = f.ops()
    if user.has_perm("ledger.freeze_account"):
        pytest.skip("operations hold the freeze permission")
    # when they try, then it is refused and the account is unchanged
    with pytest.raises(PermissionRefused):
        account_set_hot(account=account, hot=True, actor=user, reason="busy")
    assert not fresh(account).is_hot


@pytest.mark.parametrize("kind", [AccountKind.SUPERVISION, AccountKind.ESCROW, AccountKind.FEE_INCOME])
def test_only_a_member_s_available_account_may_be_flipped(kind):
    # given a risk officer and the platform's always-hot accounts and a member's frozen account
    merchant = f.active_merchant()
    officer = f.risk()
    frozen = member_accounts(f.member(merchant))[1]
    # when they try to make one ordinary, or the frozen one hot, then it is refused and nothing changes
    with pytest.raises(InvalidState):
        account_set_hot(account=platform_account(merchant, kind), hot=False, actor=officer, reason="test")
    with pytest.raises(InvalidState):
        account_set_hot(account=frozen, hot=True, actor=officer, reason="test")
    assert fresh(platform_account(merchant, kind)).is_hot and not fresh(frozen).is_hot


def test_a_person_gives_a_reason():
    # given a risk officer and a member's account, when they mark it hot without a reason, then it is refused
    account = member_accounts(f.member(f.active_merchant()))[0]
    with pytest.raises(ValidationFailed):
        account_set_hot(account=account, hot=True, actor=f.risk(), reason="  ")
    assert not fresh(account).is_hot


def test_both_tasks_are_on_the_beat_next_to_the_roll_up():
    schedule = app.conf.beat_schedule
    assert schedule["ledger-mark-busy-member-accounts-hot"]["task"] == tasks.mark_busy_member_accounts_hot.name
    assert schedule["ledger-mark-busy-member-accounts-hot"]["schedule"] == 60.0
    assert (schedule["ledger-mark-quiet-member-accounts-ordinary"]["task"]
            == tasks.mark_quiet_member_accounts_ordinary.name)


def _withdraw(account, amount, ref):
    """A debit of the member's available account against the supervision account (as a paid-out
    withdrawal books it), with the account object as the caller loaded it."""
    supervision = platform_account(account.merchant, AccountKind.SUPERVISION)
    with transaction.atomic():
        return post_entry(merchant=account.merchant, entry_type=EntryType.ADJUSTMENT, idempotency_ref=ref,
                          legs=[Leg(account, -D(amount)), Leg(supervision, -D(amount))], actor=None)


def test_a_debit_loaded_as_ordinary_before_the_flag_flipped_hot_sees_the_pending_deltas():
    # given a seller holding 100.00, loaded by a caller while ordinary, then made hot, and 100.00
    # taken by a hot debit (a pending delta of -100.00 the materialised balance does not show)
    stale = seller_credited(1, "100.00")
    account_set_hot(account=fresh(stale), hot=True, actor=FLAGGER, reason="busy")
    _withdraw(fresh(stale), "100.00", "HOT-1")
    assert stale.is_hot is False and fresh(stale).balance == D("100.00")
    # when the stale caller debits 100.00 again
    # then the debit goes the hot way and is refused: the money is spent
    with pytest.raises(InsufficientFunds):
        _withdraw(stale, "100.00", "HOT-2")
    roll_up_hot_balances()
    assert fresh(stale).balance == D("0.00") and prove_merchant(stale.merchant).ok


def test_a_debit_loaded_as_hot_before_the_flag_flipped_ordinary_takes_the_ordinary_update():
    # given a hot seller holding 100.00 with a pending delta, loaded by a caller while hot, then
    # made ordinary (its delta folded)
    seller = seller_credited(1, "60.00")
    account_set_hot(account=fresh(seller), hot=True, actor=FLAGGER, reason="busy")
    f.funded(fresh(seller).member, "40.00")
    stale = fresh(seller)
    account_set_hot(account=fresh(seller), hot=False, actor=FLAGGER, reason="quiet")
    # when the stale caller debits 70.00
    booked = _withdraw(stale, "70.00", "HOT-3")
    # then the balance moved by the ordinary UPDATE (a balance after, no delta), and the books prove
    assert booked.balances[seller.pk] == D("30.00") and fresh(seller).balance == D("30.00")
    assert not HotBalanceDelta.objects.filter(account=seller).exists()
    assert booked.entry.postings.get(account=seller).balance_after == D("30.00")
    assert prove_merchant(seller.merchant).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_flipping_the_flag_while_payments_and_debits_run_loses_nothing_and_never_overdraws():
    from ledger.services.payments import payment_create
    from tests.ledger.test_payment_concurrency import run_together

    # given a seller holding 50.00 and four buyers holding 100.00 each
    merchant = f.active_merchant()
    seller = f.member(merchant)
    f.funded(seller, "50.00")
    buyers = [f.member(merchant) for _ in range(4)]
    for buyer in buyers:
        f.funded(buyer, "100.00")
    account = member_accounts(seller)[0]

    def work(i):
        if i < 4:  # 10 payments of 1.00 each to the seller
            for n in range(10):
                payment_create(merchant=merchant, actor=None, payer=buyers[i], amount="1.00",
                               order_no=f"FLIP-{i}-{n}", mode="direct", splits=[(seller, "1.00")])
            return 0
        if i < 7:  # debits of 5.00, with the account as loaded before each (possibly stale) flag
            spent = 0
            for n in range(10):
                loaded = fresh(account)
                try:
                    _withdraw(loaded, "5.00", f"FLIP-W-{i}-{n}")
                    spent += 5
                except InsufficientFunds:
                    pass
            return spent
        for n in range(10):  # the flag flipped back and forth, deltas folded each time it goes ordinary
            account_set_hot(account=fresh(account), hot=n % 2 == 0, actor=FLAGGER, reason="test")
        return 0

    # when all of it runs at once
    results = run_together(8, work)
    # then nothing failed, and after the roll-up the seller holds every credit less every debit
    assert [error for _result, error in results if error] == []
    spent = sum(result for result, _error in results)
    roll_up_hot_balances()
    assert fresh(account).balance == D("50.00") + D("40.00") - spent >= 0
    assert not Account.objects.filter(merchant=merchant, balance__lt=0).exists()
    assert prove_merchant(merchant).ok


@pytest.mark.postgres
def test_a_batch_checks_a_hot_payer_with_its_pending_deltas_and_each_earlier_item():
    from ledger.services.payment_batch import BatchItem, payment_create_batch

    # given a seller made hot holding 100.00 of which a hot debit took 80.00 (a pending delta),
    # loaded before it was made hot
    payer = seller_credited(1, "100.00")
    stale_member = payer.member
    account_set_hot(account=fresh(payer), hot=True, actor=FLAGGER, reason="busy")
    _withdraw(fresh(payer), "80.00", "HOT-B")
    payee = f.member(payer.merchant)
    # when a batch (set-based) pays 15.00 twice from it
    items = [BatchItem(payer_user_id=stale_member.user_id, amount=D("15.00"), order_no=f"HB-{n}", mode="direct",
                       payee_user_id=payee.user_id) for n in range(2)]
    first, second = payment_create_batch(merchant=payer.merchant, actor=None, items=items)
    # then the first is booked (20.00 were left) and the second refused: nothing overdraws
    assert first.error is None and isinstance(second.error, InsufficientFunds)
    roll_up_hot_balances()
    assert fresh(payer).balance == D("5.00") and prove_merchant(payer.merchant).ok
