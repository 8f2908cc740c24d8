"""Credit test helpers: lines opened through the real approval path, money through the
ledger's own services, and a settable business date (the "fixed clock")."""
import itertools
from datetime import date

from credit import services
from ledger.services import deposits
from tests import factories as f

_seq = itertools.count(1)


class Clock:
    """The business date every ledger entry and drawdown takes while a test runs."""

    def __init__(self, day: date):
        self.day = day

    def __call__(self, now=None):
        return self.day


def fund(member, amount, *, business_date=None):
    """Money in through the front door: an announced deposit credited on a statement line."""
    n = next(_seq)
    deposit = deposits.deposit_announce(merchant=member.merchant, actor=None, member=member, amount=str(amount),
                                        order_no=f"DEP-{n}", method="offline_transfer")
    deposits.deposit_credit(deposit=deposit, actor=None, amount=str(amount), proof_kind="statement_line",
                            proof_reference=f"SL-{n}", business_date=business_date)
    return deposit


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
