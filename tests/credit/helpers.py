"""Credit test helpers: lines opened through the real approval path and a settable business
date (the "fixed clock"). Money in is tests.factories.funded."""
from datetime import date

from credit import services
from tests import factories as f


class Clock:
    """The business date every ledger entry and drawdown takes while a test runs."""

    def __init__(self, day: date):
        self.day = day

    def __call__(self, now=None):
        return self.day


def open_line(merchant, buyer, *, limit="10000.00", creditor=None, platform=False, term_days=30, grace_days=3,
              penalty_rate="0.0005", approvers=None):
    """An approved line through the real path: RM drafts and submits, risk reviews and approves."""
    rm = merchant.relationship_manager
    application = services.credit_application_create(
        merchant=merchant, actor=rm, member=buyer, proposed_limit=limit, term_days=term_days, grace_days=grace_days,
        penalty_rate=penalty_rate, creditor_member=None if platform else creditor, creditor_is_platform=platform)
    services.credit_application_submit(application=application, actor=rm)
    reviewer = f.risk()
    services.credit_application_review(application=application, actor=reviewer)
    for officer in approvers or [reviewer]:
        services.credit_application_approve(application=application, actor=officer)
    application.refresh_from_db()
    return application.line


class World:
    """A platform with a buyer, a core-enterprise seller (the creditor) and another seller."""

    def __init__(self):
        self.merchant = f.active_merchant()
        self.buyer = f.member(self.merchant, roles=("buyer",), name="Buyer Co")
        self.core = f.member(self.merchant, roles=("seller",), name="Core Enterprise")
        self.seller = f.member(self.merchant, roles=("seller",), name="Other Seller")
