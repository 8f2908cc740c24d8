"""The automatic hot flag of members' available accounts (beat: ledger.tasks).

A big seller's available account is credited by nearly every sale on its platform; as an ordinary
account each credit takes its row lock until commit, so its sales serialise. Marked hot, it takes
credits as HotBalanceDeltas without a lock (ledger.posting), and every balance read adds the
pending deltas. This module decides the flag from the account's own postings (the counting is
ledger.hot_activity's): busy accounts — more than JIANGUAN_HOT_MEMBER_CREDITS_PER_MINUTE credits a
minute over the last JIANGUAN_HOT_MEMBER_WINDOW_MINUTES — are marked hot every minute; hot ones in
which no window was busy for JIANGUAN_HOT_MEMBER_QUIET_HOURS are marked ordinary again, hourly.
Each account is flipped in its own transaction (a rerun finds nothing left to do), audited.

Why a flip is safe while movements run. Callers load accounts before posting, so a movement may
book with a stale flag; ledger.posting settles every debit by the flag it reads under the row's
lock. Made hot: a stale ordinary debit's conditional UPDATE matches no hot row and goes the hot
way (lock, balance + pending deltas); otherwise it could spend money a hot debit had already taken
as a pending negative delta. Made ordinary: the row is locked FOR UPDATE, its pending deltas
folded into the balance and the flag cleared in one transaction; a hot debit that waited for that
lock re-reads `is_hot` and takes the ordinary conditional UPDATE instead of booking a delta the
ordinary `balance + change >= 0` check would not see. A stale hot *credit* still appends a delta
after the flip, without a lock: it is positive, so the ordinary check is only more conservative
until the roll-up folds it. A hot flag a person set (before a sale day) is theirs to take back:
the quiet sweep leaves it."""
from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.audit import audit_record, timeline_for
from core.errors import InvalidState, ValidationFailed
from core.permissions import require

from ..hot_activity import HotRule, busy_member_accounts, quiet_hot_member_accounts
from ..models import Account, AccountKind
from ..posting import roll_up_hot_balances

FLAGGER = Actor.system("hot-account-flagging")


def busy_member_accounts_mark_hot(*, now=None, rule: HotRule | None = None) -> int:
    """Mark hot the ordinary member accounts busy over the last window; returns how many.
    rule: the settings' unless given."""
    rule = rule or HotRule.from_settings()
    reason = _("More than %(n)s credits a minute over the last %(minutes)s minutes.") % {
        "n": rule.credits_per_minute, "minutes": rule.window_minutes}
    busy = busy_member_accounts(now=now, rule=rule)
    return sum(account_set_hot(account=account, hot=True, actor=FLAGGER, reason=reason) for account in busy)


def quiet_member_accounts_mark_ordinary(*, now=None, rule: HotRule | None = None) -> int:
    """Mark ordinary again the hot member accounts quiet for the whole quiet period (those the
    flagging marked hot; a person's flag stays); returns how many. rule: the settings' unless given."""
    rule = rule or HotRule.from_settings()
    reason = _("No busy window (%(n)s credits a minute over %(minutes)s minutes) in %(hours)s hours.") % {
        "n": rule.credits_per_minute, "minutes": rule.window_minutes, "hours": rule.quiet_hours}
    quiet = [account for account in quiet_hot_member_accounts(now=now, rule=rule) if not _marked_by_a_person(account)]
    return sum(account_set_hot(account=account, hot=False, actor=FLAGGER, reason=reason) for account in quiet)


@transaction.atomic
def account_set_hot(*, account, hot: bool, actor, reason: str) -> bool:
    """Make the account hot or ordinary (see the module's docstring for why this is safe while
    movements run); False if it already was, and then nothing is written. A staff user needs the
    freeze permission (risk officers); the flagging job needs none."""
    actor = require(actor, "ledger.freeze_account", people_only=False)
    if actor.user is not None and not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), field="reason")
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.kind != AccountKind.MEMBER_AVAILABLE:
        # The platform's supervision, escrow and fee income accounts are always hot; frozen and
        # reserve accounts never are.
        raise InvalidState(_("Only a member's available account can be made hot or ordinary."))
    if locked.is_hot == hot:
        return False
    if not hot:
        # Under the row lock: no hot debit adds a delta meanwhile. The periodic roll-up takes the
        # delta rows before the account's, so the two may deadlock; PostgreSQL aborts one and its
        # task retries (OperationalError), flips being a few a day.
        roll_up_hot_balances([locked.pk])
    Account.objects.filter(pk=locked.pk).update(is_hot=hot)
    account.is_hot = hot
    before, after = ("ordinary", "hot") if hot else ("hot", "ordinary")
    audit_record(actor=actor, obj=locked, action="mark_hot" if hot else "mark_ordinary", from_state=before,
                 to_state=after, reason=reason)
    return True


def _marked_by_a_person(account) -> bool:
    """The account's last hot-flag decision was a staff user's."""
    last = timeline_for(account).filter(to_state__in=("hot", "ordinary")).order_by("-id").first()
    return last is not None and last.to_state == "hot" and last.actor_id is not None
