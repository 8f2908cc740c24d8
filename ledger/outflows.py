"""Outflows offered to the checks registered in ledger.hooks (the risk office's outflow rules).

An `Outflow` describes one movement before its money moves: its kind (payment, withdrawal,
release), the member whose money leaves (the payer, the withdrawing member, the buyer whose
escrow is released), the amount, the payees, and the row it concerns. `check(outflow)` asks every
registered check and answers the strictest `Decision`: None or allow → book as usual; review →
the caller books the movement in review (money held) and `review(outflow, decision)` queues it;
refuse → RuleRefused is raised. `records_refusals` wraps a booking service so that a refusal's
trace (the rule hits) is written after the booking's own transaction has rolled back."""
import functools
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

from . import hooks

PAYMENT, WITHDRAWAL, RELEASE = "payment", "withdrawal", "release"
ALLOW, REVIEW, REFUSE = "allow", "review", "refuse"
_SEVERITY = {ALLOW: 0, REVIEW: 1, REFUSE: 2}


class RuleRefused(ApplicationError):
    code, status = "rule_refused", 422
    default_message = _("Refused by the bank's outflow rules.")


@dataclass
class Outflow:
    kind: str  # PAYMENT | WITHDRAWAL | RELEASE
    merchant: object
    member: object  # whose money leaves: the payer, the withdrawing member, the buyer whose escrow is released
    amount: Decimal
    payees: tuple = ()  # Member rows that receive (payments, releases)
    mode: str = ""  # a payment's mode
    payment: object = None  # the Payment (set once saved, for a payment; the released one, for a release)
    withdrawal: object = None  # set once saved
    bank_card: object = None
    order_no: str = ""
    request: dict = field(default_factory=dict)  # what a release's approval books again (JSON-ready)
    decisions: list = field(default_factory=list)  # what the checks answered (set by check)


@dataclass
class Decision:
    outcome: str  # ALLOW | REVIEW | REFUSE
    rule: str = ""  # the deciding rule's name
    detail: str = ""
    record: object = None  # fn(outflow, ticket) that writes the checker's trace (its rule hits)
    data: dict = field(default_factory=dict)  # the checker's own


@dataclass(frozen=True)
class ReviewTicket:
    id: int
    kind: str
    rule: str
    created: bool = True


def applies(merchant) -> bool:
    """Whether any registered check may apply to the merchant's movements (no query when none is
    registered; risk answers from its per-process cache of rules)."""
    return any(scope(merchant) for scope in hooks.outflow_scopes)


def check(outflow: Outflow) -> Decision | None:
    """The strictest decision of the registered checks; a refusal is raised (RuleRefused)."""
    outflow.decisions = [d for d in (fn(outflow) for fn in hooks.outflow_checks) if d is not None]
    if not outflow.decisions:
        return None
    decision = max(outflow.decisions, key=lambda d: _SEVERITY[d.outcome])
    if decision.outcome == REFUSE:
        err = RuleRefused(_("Refused by the bank's outflow rule “%(rule)s”.") % {"rule": decision.rule},
                          details={"rule": decision.rule, "detail": decision.detail})
        err.outflow = outflow
        raise err
    return decision


def booked(outflow: Outflow, ticket: ReviewTicket | None = None) -> ReviewTicket | None:
    """The movement is booked (or in review, `ticket`): the checks write their trace with it."""
    for decision in outflow.decisions:
        if decision.record is not None:
            decision.record(outflow, ticket)
    return ticket


def review(outflow: Outflow, decision: Decision) -> ReviewTicket:
    return hooks.outflow_reviews[0](outflow, decision)


_depth = threading.local()


def records_refusals(service):
    """Wrap a booking service: a rule's refusal rolls its booking back, then the outermost wrapped
    service writes the refusal's trace (in the caller's transaction if there is one — a batch's —
    else in one of its own), so a refusal is recorded even though nothing was booked."""
    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        _depth.n = getattr(_depth, "n", 0) + 1
        try:
            return service(*args, **kwargs)
        except RuleRefused as err:
            outflow = getattr(err, "outflow", None)
            if _depth.n == 1 and outflow is not None:
                if outflow.kind != RELEASE:  # the new payment's or withdrawal's row was rolled back
                    outflow.payment = outflow.withdrawal = None
                with transaction.atomic():
                    booked(outflow)
            raise
        finally:
            _depth.n -= 1
    return wrapper
