"""Every decision leaves a trace (the rule is core.audit's docstring): money
movements are audited by their journal entry, decisions by an audit record. Every public
function of a service module is either run here in a real scenario (tests/core/trace/) and must
write one or the other, or is named as a pure helper or reader, or as a step of a service that
is run here. A new service that is not added to the registry fails the first test."""
import pytest

from core.audit import timeline_for
from credit.services import credit_drawdown
from ledger.models import JournalEntry
from tests.core import trace
from tests.core.trace.scenarios_credit import the_creditor_is_the_payee_selling_on_account

pytestmark = pytest.mark.django_db


def test_every_public_function_of_the_service_modules_is_classified():
    # given every public function defined in a service module
    found = trace.public_functions()
    # when it is looked up in the registry
    run = {s.path for s in trace.SCENARIOS}
    classified = run | set(trace.NOT_SERVICES) | set(trace.STEPS)
    # then each is a service with a scenario, a helper or reader with a reason, or a service's step
    unclassified = sorted(found - classified)
    assert not unclassified, (
        "Functions of a service module that the trace test does not know: give each a scenario "
        "(tests/core/trace/scenarios_<app>.py) or, if it changes nothing, a line in NOT_SERVICES: "
        + ", ".join(unclassified))
    # and the registry names nothing that is gone, nor a service both ways
    assert not sorted(classified - found), "classified but not a public function of a service module"
    assert not run & set(trace.NOT_SERVICES), "a function with a scenario is listed as no service"
    assert set(trace.STEPS) <= set(trace.NOT_SERVICES)


def test_each_not_service_has_a_one_line_reason_and_each_step_a_service_that_is_run():
    for name, reason in trace.NOT_SERVICES.items():
        assert reason.strip() and "\n" not in reason and len(reason) <= 120, name
    run = {s.path for s in trace.SCENARIOS}
    for step, owner in trace.STEPS.items():
        assert owner in run, f"{step} is a step of {owner}, which has no scenario"


@pytest.mark.parametrize("scenario", trace.SCENARIOS, ids=lambda s: s.id)
def test_every_state_changing_service_leaves_a_trace(scenario):
    # given the scenario's world
    kwargs = scenario.given()
    mark = trace.Mark.now()
    # when the service runs
    scenario.service(**kwargs)
    # then it wrote what it must: a journal entry for money that moved, an audit record for a decision
    written = mark.written()
    assert written[trace.ENTRY] or written[trace.AUDIT], f"{scenario.path} left no trace"
    for kind in scenario.leaves:
        assert written[kind], f"{scenario.path} wrote no {kind}; it wrote {written}"


@pytest.mark.parametrize("refused", trace.REFUSALS, ids=lambda r: r.id)
def test_a_refused_call_writes_nothing(refused):
    # given a call the service must refuse
    kwargs = refused.given()
    mark = trace.Mark.now()
    # when it is made
    with pytest.raises(refused.error):
        refused.service(**kwargs)
    # then neither a journal entry nor an audit record was written
    assert mark.written() == {trace.ENTRY: [], trace.AUDIT: []}


def test_a_drawdown_on_account_is_audited_with_its_bill_amount_order_and_creditor():
    # given a line whose creditor is the seller the buyer pays (赊销: no money moves)
    kwargs = the_creditor_is_the_payee_selling_on_account()
    entries = JournalEntry.objects.count()
    # when the buyer draws on it
    bill = credit_drawdown(**kwargs)
    # then no journal entry exists, and the bill's timeline starts with the drawdown
    assert JournalEntry.objects.count() == entries and bill.entry is None
    event = timeline_for(bill).get()
    assert (event.action, event.to_state, event.merchant_id) == ("drawdown", "open", kwargs["merchant"].pk)
    assert (event.data["bill"], event.data["order_no"], event.data["amount"], event.data["creditor"]) == (
        bill.pk, kwargs["order_no"], "1000.00", kwargs["payee"].user_id)
