"""credit.services: applications and lines are decisions (audit records); a drawdown moves
money when a creditor other than the payee finances it (a journal entry), and otherwise only
creates the seller's receivable (an audit record); repayments move money."""
import itertools
from datetime import timedelta

from core.errors import CreditLimitExceeded
from credit import services as s
from credit.models import CreditNotification
from ledger.services import payments
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, ENTRY, NOT_SERVICES, refusal, scenario
from tests.credit.helpers import World, open_line

_seq = itertools.count(1)

NOT_SERVICES.update({
    "credit.services.applications.validate_application": "a check: cleans an application's fields or raises "
                                                         "(the services and the admin form share it)",
    "credit.services.common.parse_days": "parses a number of days",
    "credit.services.common.parse_term": "parses a term in days",
    "credit.services.common.parse_grace": "parses grace days",
    "credit.services.common.parse_rate": "parses a daily penalty rate",
    "credit.services.common.parse_order_no": "parses an order number",
})


def _application(world=None):
    world = world or World()
    return s.credit_application_create(merchant=world.merchant, actor=world.merchant.relationship_manager,
                                       member=world.buyer, proposed_limit="5000.00", term_days=30,
                                       penalty_rate="0.0005", creditor_member=world.core)


def _submitted():
    application = _application()
    return s.credit_application_submit(application=application, actor=application.merchant.relationship_manager)


def _draw(world, *, payee=None, amount="1000.00"):
    return dict(merchant=world.merchant, actor=None, member=world.buyer, payee=payee or world.core, amount=amount,
                order_no=f"PO-{next(_seq)}")


def _bill():
    """A bill of 1,000.00 the buyer owes the core enterprise it bought from on account."""
    world = World()
    open_line(world.merchant, world.buyer, creditor=world.core)
    return world, s.credit_drawdown(**_draw(world))


def _overdue():
    world, bill = _bill()
    s.credit_sweep_overdue(as_of=bill.grace_until + timedelta(days=1))
    return world, bill


# --- applications and lines ----------------------------------------------------------------------

@scenario(s.credit_application_create, leaves=AUDIT)
def an_rm_prepares_a_new_line():
    world = World()
    return dict(merchant=world.merchant, actor=world.merchant.relationship_manager, member=world.buyer,
                proposed_limit="5000.00", term_days=30, penalty_rate="0.0005", creditor_member=world.core)


@scenario(s.credit_application_update, leaves=AUDIT)
def the_rm_changes_the_draft_s_purpose():
    application = _application()
    return dict(application=application, actor=application.merchant.relationship_manager, purpose="Grain season")


@scenario(s.credit_application_submit, leaves=AUDIT)
def the_rm_submits_the_draft():
    application = _application()
    return dict(application=application, actor=application.merchant.relationship_manager)


@scenario(s.credit_application_review, leaves=AUDIT)
def risk_reviews_a_submitted_application():
    return dict(application=_submitted(), actor=f.risk())


@scenario(s.credit_application_approve, leaves=AUDIT)
def risk_approves_a_reviewed_application():
    officer = f.risk()
    application = s.credit_application_review(application=_submitted(), actor=officer)
    return dict(application=application, actor=officer)


@scenario(s.credit_application_reject, leaves=AUDIT)
def risk_rejects_a_submitted_application():
    return dict(application=_submitted(), actor=f.risk(), reason="Too little trade history")


@scenario(s.credit_line_suspend, leaves=AUDIT)
def risk_suspends_an_active_line():
    world = World()
    return dict(line=open_line(world.merchant, world.buyer, creditor=world.core), actor=f.risk(), reason="Review")


@scenario(s.credit_line_reactivate, leaves=AUDIT)
def risk_reactivates_a_suspended_line_with_nothing_overdue():
    world = World()
    line = s.credit_line_suspend(line=open_line(world.merchant, world.buyer, creditor=world.core), actor=f.risk(),
                                 reason="Review")
    return dict(line=line, actor=f.risk(), reason="Review done")


@scenario(s.credit_line_close, leaves=AUDIT)
def risk_closes_a_line_nothing_is_owed_on():
    world = World()
    return dict(line=open_line(world.merchant, world.buyer, creditor=world.core), actor=f.risk(),
                reason="No longer needed")


# --- drawdowns, the sweep, repayments ------------------------------------------------------------

@scenario(s.credit_drawdown, leaves=AUDIT)
def the_creditor_is_the_payee_selling_on_account():
    world = World()
    open_line(world.merchant, world.buyer, creditor=world.core)
    return _draw(world)


@scenario(s.credit_drawdown, leaves=ENTRY)
def a_seller_creditor_pays_another_seller():
    world = World()
    open_line(world.merchant, world.buyer, creditor=world.core)
    f.funded(world.core, "3000.00")
    return _draw(world, payee=world.seller)


@scenario(s.credit_drawdown, leaves=ENTRY)
def the_platform_lends_from_its_fee_income():
    world = World()
    open_line(world.merchant, world.buyer, platform=True)
    f.funded(world.buyer, "100.00")
    payments.payment_create(merchant=world.merchant, actor=None, payer=world.buyer, amount="100.00", order_no="FEE-1",
                            mode="direct", splits=[(world.seller, "40.00")], platform_fee="60.00")
    return _draw(world, payee=world.seller, amount="50.00")


@scenario(s.credit_sweep_overdue, leaves=AUDIT)
def a_bill_passes_its_grace_period():
    _world, bill = _bill()
    return dict(as_of=bill.grace_until + timedelta(days=1))


@scenario(s.credit_sweep_overdue, leaves=AUDIT)
def an_overdue_bill_accrues_another_day():
    _world, bill = _overdue()
    return dict(as_of=bill.grace_until + timedelta(days=2))


@scenario(s.credit_notification_mark_read, leaves=AUDIT)
def the_rm_reads_the_overdue_notice():
    world, bill = _overdue()
    return dict(notification=CreditNotification.objects.get(bill=bill), actor=world.merchant.relationship_manager)


@scenario(s.credit_repay, leaves=BOTH)
def the_buyer_repays_part_of_a_bill():
    world, bill = _bill()
    f.funded(world.buyer, "500.00")
    return dict(bill=bill, actor=None, amount="400.00", idempotency_ref="RP-1")


@refusal(s.credit_drawdown, error=CreditLimitExceeded)
def a_drawdown_over_the_limit_on_account():
    world = World()
    open_line(world.merchant, world.buyer, creditor=world.core, limit="500.00")
    return _draw(world)
