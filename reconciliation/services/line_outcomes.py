"""What automatic matching decides for each imported line: the line being imported (NewLine),
the outcome kinds and their labels, and one line's outcome (LineOutcome). services.batch_matcher
returns the outcomes; services.imports folds them into the import's result."""
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ..models import StatementLine

OUTCOME_DEPOSIT, OUTCOME_SUSPENSE = "deposit", "suspense"
OUTCOME_WITHDRAWAL, OUTCOME_OUT_QUEUE = "withdrawal", "queue_out"
OUTCOME_CHANNEL, OUTCOME_CHANNEL_QUEUE = "channel_settlement", "queue_channel"
OUTCOME_SETTLED_BY_HOOK = "settled_by_hook"  # accounted for by a hooks.money_out_settlements function
MATCHED_OUTCOMES = (OUTCOME_DEPOSIT, OUTCOME_WITHDRAWAL, OUTCOME_CHANNEL, OUTCOME_SETTLED_BY_HOOK)
UNMATCHED_OUTCOMES = (OUTCOME_SUSPENSE, OUTCOME_OUT_QUEUE, OUTCOME_CHANNEL_QUEUE)
OUTCOME_LABELS = {
    OUTCOME_DEPOSIT: _("Deposit credited"),
    OUTCOME_WITHDRAWAL: _("Paid withdrawal"),
    OUTCOME_CHANNEL: _("Channel settlement"),
    OUTCOME_SETTLED_BY_HOOK: _("Payout settled"),
    OUTCOME_SUSPENSE: _("Suspense: exception queue"),
    OUTCOME_OUT_QUEUE: _("Exception queue (not booked)"),
    OUTCOME_CHANNEL_QUEUE: _("Channel settlement that does not add up: exception queue (not booked)"),
    "duplicate": _("Duplicate: skipped"),
    "error": _("Error"),
    "skipped": _("Zero amount: skipped"),
}


@dataclass(slots=True)
class NewLine:
    """A line being imported, with the outcome decided for it before it is stored (so each line
    is written once, with its outcome: no second pass, no UPDATE of 100,000 rows)."""

    line_no: int
    bank_reference: str
    value_date: object
    business_date: object
    amount: Decimal
    counterparty_name: str
    counterparty_account: str
    counterparty_bank: str
    remark: str
    balance: Decimal | None
    status: str = StatementLine.Status.UNMATCHED.value
    note: str = ""
    candidate_deposit_id: int | None = None
    deposit_id: int | None = None
    withdrawal_id: int | None = None
    member_id: int | None = None
    entry_id: int | None = None
    suspense_entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What the matcher decided for one line: an OUTCOME_* and the detail shown beside it."""

    line: NewLine
    outcome: str
    detail: str = ""
