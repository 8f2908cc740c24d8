"""How busy members' available accounts are: the reads behind the automatic hot flag
(ledger.services.hot_flagging). A member account is busy when it took more than
JIANGUAN_HOT_MEMBER_CREDITS_PER_MINUTE credits a minute over the last
JIANGUAN_HOT_MEMBER_WINDOW_MINUTES; it is quiet when no such window was busy in the last
JIANGUAN_HOT_MEMBER_QUIET_HOURS.

Counting never scans the posting table. Postings carry no time of their own, but ids grow with
time: the first posting of a period is found by a binary search on the id (about 30 primary-key
probes joined to their entry's `created_at`, however large the table). Busy accounts are then
one pass over the window's postings (an id range of the primary key); a hot account's quietness
is read through posting_account_recent_idx (account, -id) from the period's first posting on,
first as a count that stops at the threshold, and only when the day holds more credits than one
busy window would as a per-minute histogram of that account's credits (the hot member accounts
themselves are a filter of ledger_account on kind and flag, read hourly). Entries committed out of
order (a transaction that started earlier commits later) shift a boundary by a few seconds: the
flag is a throughput decision, not a money one, and every balance read adds pending deltas either
way."""
import datetime
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncMinute
from django.utils import timezone

from .models import Account, AccountKind, Posting


@dataclass(frozen=True)
class HotRule:
    credits_per_minute: int
    window_minutes: int
    quiet_hours: int

    @classmethod
    def from_settings(cls) -> "HotRule":
        jianguan = settings.JIANGUAN
        return cls(int(jianguan["HOT_MEMBER_CREDITS_PER_MINUTE"]), int(jianguan["HOT_MEMBER_WINDOW_MINUTES"]),
                   int(jianguan["HOT_MEMBER_QUIET_HOURS"]))

    @property
    def threshold(self) -> int:
        """More credits than this in one window make an account busy."""
        return self.credits_per_minute * self.window_minutes

    @property
    def window(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.window_minutes)

    @property
    def quiet(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.quiet_hours)


def first_posting_since(moment: datetime.datetime) -> int | None:
    """The id of the first posting whose entry was created at or after `moment`, or None if
    there is none: a binary search over the id range, one indexed probe per step."""
    bounds = Posting.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    if high is None or _created_at_from(high) < moment:
        return None
    while low < high:  # the answer lies in [low, high]; the posting from `high` on is recent enough
        middle = (low + high) // 2
        if _created_at_from(middle) >= moment:
            high = middle
        else:
            low = middle + 1
    return Posting.objects.filter(id__gte=low).order_by("id").values_list("id", flat=True).first()


def _created_at_from(posting_id: int) -> datetime.datetime:
    """When the entry of the first posting with an id of at least `posting_id` was created."""
    return (Posting.objects.filter(id__gte=posting_id).order_by("id")
            .values_list("entry__created_at", flat=True).first())


def busy_member_accounts(*, now=None, rule: HotRule | None = None) -> list[Account]:
    """Ordinary member available accounts credited more than the rule's threshold in its last window."""
    rule = rule or HotRule.from_settings()
    start = first_posting_since((now or timezone.now()) - rule.window)
    if start is None:
        return []
    # Credits to a liability are negative amounts. Grouped without a join, so the pass reads only
    # the window's postings; the few accounts over the threshold are then looked up by key.
    over = list(Posting.objects.filter(id__gte=start, amount__lt=0).order_by().values("account_id")
                .annotate(n=Count("id")).filter(n__gt=rule.threshold).values_list("account_id", flat=True))
    if not over:
        return []
    return list(Account.objects.filter(pk__in=over, kind=AccountKind.MEMBER_AVAILABLE, is_hot=False)
                .select_related("merchant", "member"))


def quiet_hot_member_accounts(*, now=None, rule: HotRule | None = None) -> list[Account]:
    """Hot member available accounts none of whose windows in the rule's quiet period was busy."""
    rule = rule or HotRule.from_settings()
    now = now or timezone.now()
    hot = list(Account.objects.filter(kind=AccountKind.MEMBER_AVAILABLE, is_hot=True)
               .select_related("merchant", "member"))
    if not hot:
        return []
    start = first_posting_since(now - rule.quiet)
    if start is None:
        return hot
    return [account for account in hot if not _busy_since(account.pk, start, rule)]


def _busy_since(account_id: int, start_id: int, rule: HotRule) -> bool:
    credits = Posting.objects.filter(account_id=account_id, id__gte=start_id, amount__lt=0).order_by()
    if len(credits.order_by("-id").values_list("id", flat=True)[:rule.threshold + 1]) <= rule.threshold:
        return False  # the whole period holds fewer credits than one busy window
    per_minute = (credits.annotate(minute=TruncMinute("entry__created_at")).values("minute")
                  .annotate(n=Count("id")).values_list("minute", "n"))
    return busiest_window(sorted(per_minute), rule.window) > rule.threshold


def busiest_window(per_minute: list[tuple[datetime.datetime, int]], window: datetime.timedelta) -> int:
    """The most credits in any `window` of consecutive minutes, from (minute, count) rows in time order."""
    inside: deque = deque()
    total = busiest = 0
    for minute, n in per_minute:
        inside.append((minute, n))
        total += n
        while inside[0][0] <= minute - window:
            total -= inside.popleft()[1]
        busiest = max(busiest, total)
    return busiest
