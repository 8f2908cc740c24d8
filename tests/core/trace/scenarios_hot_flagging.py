"""ledger.services.hot_flagging: a member's account made hot or ordinary is a decision (an audit record)."""
import datetime

from django.utils import timezone

from ledger.hot_activity import HotRule
from ledger.services import hot_flagging
from ledger.services.accounts import member_accounts
from tests import factories as f
from tests.core.trace import AUDIT, scenario

RULE = HotRule(credits_per_minute=1, window_minutes=1, quiet_hours=1)  # busy: more than one credit a minute


def _seller_credited_twice():
    merchant = f.active_merchant()
    seller = f.member(merchant)
    f.funded(seller, "10.00")
    f.funded(seller, "10.00")
    return member_accounts(seller)[0]


@scenario(hot_flagging.busy_member_accounts_mark_hot, leaves=AUDIT)
def a_seller_credited_twice_within_a_minute():
    _seller_credited_twice()
    return {"rule": RULE}


@scenario(hot_flagging.quiet_member_accounts_mark_ordinary, leaves=AUDIT)
def a_seller_made_hot_by_the_flagging_and_quiet_for_the_hour():
    _seller_credited_twice()
    hot_flagging.busy_member_accounts_mark_hot(rule=RULE)
    return {"rule": RULE, "now": timezone.now() + datetime.timedelta(hours=2)}


@scenario(hot_flagging.account_set_hot, leaves=AUDIT)
def an_ordinary_member_account_made_hot():
    return {"account": member_accounts(f.member(f.active_merchant()))[0], "hot": True,
            "actor": hot_flagging.FLAGGER, "reason": "test"}
