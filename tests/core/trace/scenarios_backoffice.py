"""backoffice.services: the audited complaint look-up, the RM performance snapshots and the
nightly integrity check move no money; each leaves an audit record."""
from datetime import date

from backoffice import services as s
from backoffice.selectors import performance
from tests import factories as f
from tests.core.trace import AUDIT, scenario


@scenario(s.complaint_lookup, leaves=AUDIT)
def operations_look_up_an_order_a_customer_complains_about():
    merchant = f.active_merchant()
    return dict(actor=f.ops(), query=f"{merchant.code}-NO-SUCH-ORDER")


@scenario(s.performance_snapshot_take, leaves=AUDIT)
def a_month_s_figures_are_frozen_for_the_appraisal():
    f.active_merchant()  # its RM has figures to freeze
    return dict(period=performance.parse_period("2026-11"), actor=None, as_of=date(2026, 11, 30))


@scenario(s.integrity_check_run, leaves=AUDIT)
def the_nightly_proof_of_books_that_add_up():
    f.active_merchant()
    return dict(actor=None)
