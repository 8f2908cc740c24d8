"""Every decision leaves a trace (core.audit): the registry the test holds the services to.

Each public function of a service module is classified here, in one of three ways:
- a state-changing service, with one or more scenarios (`@scenario(service)`): a function that
  builds the world (the "given") and returns the keyword arguments of the call; the test makes
  the call and looks for the journal entry or audit record it must write;
- NOT_SERVICES: pure helpers and readers, with a one-line reason;
- STEPS: helpers that write only as a step of a named service, inside its transaction, whose
  scenario covers them.
The scenarios live by app (scenarios_<app>.py); importing this package imports them all."""
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max

# The modules that hold services (DESIGN.md §2): one module, or every module of a package.
SERVICE_MODULES = ("merchants.services", "ledger.services", "credit.services", "reconciliation.services",
                   "backoffice.services", "risk.services")
SERVICE_MODULES += ("payouts.services",)  # payouts: batches, the bank's answer
SERVICE_MODULES += ("receipts.services",)  # receipts: issuing a receipt stores it, audited

ENTRY, AUDIT = "journal entry", "audit record"
BOTH = (ENTRY, AUDIT)


@dataclass(frozen=True)
class Scenario:
    service: Callable
    given: Callable[[], dict]  # builds the world; returns the call's keyword arguments
    name: str
    leaves: tuple  # what the call writes: (ENTRY,), (AUDIT,) or BOTH

    @property
    def path(self) -> str:
        return qualified(self.service)

    @property
    def id(self) -> str:
        return f"{self.service.__name__}[{self.name}]"


@dataclass(frozen=True)
class Refusal:
    service: Callable
    given: Callable[[], dict]
    error: type
    name: str

    @property
    def id(self) -> str:
        return f"{self.service.__name__}[{self.name}]"


SCENARIOS: list[Scenario] = []
REFUSALS: list[Refusal] = []
NOT_SERVICES: dict[str, str] = {}  # dotted name -> why it is no service (one line)
STEPS: dict[str, str] = {}  # dotted name -> the service whose step it is (and whose scenario covers it)


def qualified(function) -> str:
    return f"{function.__module__}.{function.__name__}"


def _words(name: str) -> str:
    """a_member_s_account -> "a member's account" (the test's id)."""
    return (name + "_").replace("_s_", "'s ").replace("_t_", "'t ").replace("_", " ").strip()


def scenario(service, *, leaves):
    """Register the decorated function as a scenario of `service`; its name says the world."""
    leaves = (leaves,) if isinstance(leaves, str) else tuple(leaves)

    def register(given):
        SCENARIOS.append(Scenario(service, given, _words(given.__name__), leaves))
        return given

    return register


def refusal(service, *, error):
    """Register a call the service refuses (raises `error`): it must write nothing."""

    def register(given):
        REFUSALS.append(Refusal(service, given, error, _words(given.__name__)))
        return given

    return register


def service_module_names() -> list[str]:
    names = []
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "__path__"):  # a package: every module in it
            names += [f"{name}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
        else:
            names.append(name)
    return sorted(names)


def public_functions() -> set[str]:
    """Every public function defined (not imported) in a service module."""
    found = set()
    for name in service_module_names():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == name and not attr.startswith("_"):
                found.add(f"{name}.{attr}")
    return found


@dataclass(frozen=True)
class Mark:
    """The last journal entry and audit record before a call: what comes after is the call's."""
    entry: int
    event: int

    @classmethod
    def now(cls) -> "Mark":
        from core.models import AuditEvent
        from ledger.models import JournalEntry

        return cls(JournalEntry.objects.aggregate(m=Max("id"))["m"] or 0,
                   AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0)

    def written(self) -> dict:
        from core.models import AuditEvent
        from ledger.models import JournalEntry

        return {ENTRY: list(JournalEntry.objects.filter(id__gt=self.entry).order_by("id")
                            .values_list("entry_type", flat=True)),
                AUDIT: list(AuditEvent.objects.filter(id__gt=self.event).order_by("id")
                            .values_list("content_type__model", "action"))}


from . import (  # noqa: F401 - registers every app's scenarios
    scenarios_backoffice,
    scenarios_credit,
    scenarios_ledger,
    scenarios_merchants,
    scenarios_reconciliation,
    scenarios_risk,
)

importlib.import_module(f"{__name__}.scenarios_receipts")  # the receipts app's scenarios
from . import scenarios_payouts  # noqa: E402,F401 - the payouts app's scenarios
from . import scenarios_risk_rules  # noqa: E402,F401 - outflow rules and the risk queue
from . import scenarios_hot_flagging  # noqa: E402,F401 - members' accounts made hot or ordinary
