"""How busy members' accounts are (ledger.hot_activity): the first posting of a period by binary
search, busy accounts over the last window, and hot accounts quiet for the whole quiet period."""
import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.hot_activity import (HotRule, busiest_window, busy_member_accounts, first_posting_since,
                                 quiet_hot_member_accounts)
from ledger.models import Account, AccountKind, JournalEntry, Posting
from ledger.services.accounts import member_accounts, platform_account
from tests import factories as f

pytestmark = pytest.mark.django_db
# Busy: more than 2 credits within 2 minutes; quiet: no busy window in the last hour.
RULE = HotRule(credits_per_minute=1, window_minutes=2, quiet_hours=1)
MINUTE = datetime.timedelta(minutes=1)
_refs = itertools.count(1)


def credit(account, when, amount="1.00") -> JournalEntry:
    """A credit to a member's available account booked at `when` (a negative amount: a debit).
    The rows are written directly:
    the posting engine stamps its own time, and entries are append-only."""
    supervision = platform_account(account.merchant, AccountKind.SUPERVISION)
    entry = JournalEntry.objects.create(merchant=account.merchant, entry_type="deposit",
                                        idempotency_ref=f"HOT-{next(_refs)}", actor_kind="system",
                                        actor_label="test", business_date=when.date(), created_at=when)
    Posting.objects.bulk_create([
        Posting(merchant=account.merchant, entry=entry, account=supervision, amount=Decimal(amount)),
        Posting(merchant=account.merchant, entry=entry, account=account, amount=-Decimal(amount)),
    ])
    return entry


def available(merchant) -> Account:
    return member_accounts(f.member(merchant))[0]


def hot(account) -> Account:
    Account.objects.filter(pk=account.pk).update(is_hot=True)
    account.refresh_from_db()
    return account


def first_posting_of(entry) -> int:
    return min(entry.postings.values_list("id", flat=True))


def test_the_first_posting_of_a_period_is_found_by_its_entry_s_time():
    # given credits booked 30, 20, 10 and 5 minutes ago
    merchant, now = f.active_merchant(), timezone.now()
    account = available(merchant)
    entries = [credit(account, now - n * MINUTE) for n in (30, 20, 10, 5)]
    # when the first posting of each period is looked up
    # then it is the first posting of the first entry inside it, and none after the last entry
    assert first_posting_since(now - 15 * MINUTE) == first_posting_of(entries[2])
    assert first_posting_since(now - 10 * MINUTE) == first_posting_of(entries[2])
    assert first_posting_since(now - 6 * MINUTE) == first_posting_of(entries[3])
    assert first_posting_since(now - 60 * MINUTE) == min(Posting.objects.values_list("id", flat=True))
    assert first_posting_since(now) is None


def test_the_binary_search_probes_a_few_postings_not_the_table(django_assert_max_num_queries):
    # given 64 credits, a minute apart
    merchant, now = f.active_merchant(), timezone.now()
    account = available(merchant)
    entries = [credit(account, now - n * MINUTE) for n in range(64, 0, -1)]
    # when the posting of 20 minutes ago is looked up, then about log2(128 postings) probes find it
    with django_assert_max_num_queries(12):
        assert first_posting_since(now - 20 * MINUTE) == first_posting_of(entries[44])


def test_an_account_credited_more_than_the_rate_over_the_window_is_busy():
    # given a seller credited 3 times in the last minute, one credited twice, one credited 3 times
    # 4 minutes ago, and a hot seller credited 3 times just now
    merchant, now = f.active_merchant(), timezone.now()
    busy, twice, earlier, already_hot = (available(merchant) for _ in range(4))
    for _ in range(3):  # in time order, as ids grow
        credit(earlier, now - 4 * MINUTE)
    for _ in range(3):
        credit(busy, now - MINUTE / 2)
        credit(hot(already_hot), now - MINUTE / 2)
    for _ in range(2):
        credit(twice, now - MINUTE / 2)
    # when the busy accounts are read
    found = busy_member_accounts(now=now, rule=RULE)
    # then only the ordinary one over the threshold inside the window is (not the supervision
    # account, debited by every credit, nor one already hot)
    assert found == [busy]


def test_debits_do_not_make_an_account_busy():
    # given a member's account debited 3 times in the last minute
    merchant, now = f.active_merchant(), timezone.now()
    account = available(merchant)
    for _ in range(3):
        credit(account, now - MINUTE / 2, amount="-1.00")
    # when the busy accounts are read, then there are none
    assert busy_member_accounts(now=now, rule=RULE) == []


def test_nothing_is_busy_when_nothing_was_booked_in_the_window():
    # given credits 10 minutes ago only
    merchant, now = f.active_merchant(), timezone.now()
    account = available(merchant)
    for _ in range(5):
        credit(account, now - 10 * MINUTE)
    # when the busy accounts are read, then there are none
    assert busy_member_accounts(now=now, rule=RULE) == []


def test_a_hot_account_is_quiet_when_no_window_of_the_period_was_busy():
    # given hot accounts: one not credited for the last hour, one credited 6 times in the last
    # hour but 4 minutes apart (more than one window's threshold, never in one window), and one
    # credited 3 times within a minute 40 minutes ago
    merchant, now = f.active_merchant(), timezone.now()
    idle, spread, burst = (hot(available(merchant)) for _ in range(3))
    credit(idle, now - 2 * 60 * MINUTE)
    for n in range(6):
        credit(spread, now - (50 - 4 * n) * MINUTE)
    for _ in range(3):
        credit(burst, now - 40 * MINUTE)
    # when the quiet hot accounts are read
    quiet = quiet_hot_member_accounts(now=now, rule=RULE)
    # then the idle and the spread ones are quiet; the burst keeps the third hot for the hour
    assert sorted(a.pk for a in quiet) == sorted([idle.pk, spread.pk])
    # and an hour after the burst it is quiet too
    later = quiet_hot_member_accounts(now=now + 61 * MINUTE, rule=RULE)
    assert burst.pk in {a.pk for a in later}


def test_ordinary_accounts_are_never_read_as_quiet():
    # given an ordinary member account with no credits
    merchant = f.active_merchant()
    available(merchant)
    # when the quiet hot accounts are read, then there are none
    assert quiet_hot_member_accounts(rule=RULE) == []


@pytest.mark.parametrize(("counts", "busiest"), [
    ([(0, 1), (1, 1), (2, 1)], 2),  # a 2-minute window holds two consecutive minutes
    ([(0, 3), (5, 1), (6, 1)], 3),
    ([(0, 1), (2, 1), (4, 1)], 1),
    ([], 0),
])
def test_the_busiest_window_slides_over_consecutive_minutes(counts, busiest):
    start = timezone.now().replace(second=0, microsecond=0)
    rows = [(start + minute * MINUTE, n) for minute, n in counts]
    assert busiest_window(rows, 2 * MINUTE) == busiest
