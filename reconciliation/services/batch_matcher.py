"""Matching an imported batch's lines automatically, chunk by chunk, inside the import's
transaction (services.imports calls it; each chunk's lines are then written with their outcome).

Set-based: one query per kind of lookup and one bulk booking per kind of outcome, never a
statement per line. Which line is what:
- money in from a payment channel's settlement account: the channel paying out deposits its
  notifications already credited (services.money_in, books nothing);
- other money in: a deposit proven by its payment code, or parked in suspense (services.money_in);
- money out: a paid withdrawal, or waiting in the exception queue unbooked (services.money_out).

The matcher decides and books; it returns what it decided for each line (LineOutcome), and the
caller folds the outcomes into its own result (counts, preview)."""
from ..models import StatementBatch
from . import money_in, money_out
from .line_outcomes import LineOutcome, NewLine


class BatchMatcher:
    """Matches and books an import's lines chunk by chunk; remembers across chunks which deposits
    and withdrawals this file has already used."""

    def __init__(self, batch: StatementBatch, *, actor):
        self.batch, self.actor = batch, actor
        self.credited: set[int] = set()  # deposits credited by this file
        self.paid_out: set[int] = set()  # withdrawals matched by this file
        # The channels' settlement accounts (a handful, bank-wide): looked up once per import.
        self.channels = money_in.settling_channels()

    def match(self, lines: list[NewLine]) -> list[LineOutcome]:
        """Decide and book every line of a chunk; the lines carry their outcome for storing."""
        outcomes: list[LineOutcome] = []
        parked: list[NewLine] = []
        incoming = [x for x in lines if x.amount > 0]
        if self.channels:
            settlements = [x for x in incoming if money_in.account_key(x.counterparty_account) in self.channels]
            if settlements:
                outcomes += money_in.match_channel_settlements(self.batch, settlements, self.channels, self.actor)
                incoming = [x for x in incoming if money_in.account_key(x.counterparty_account) not in self.channels]
        outcomes += money_in.match_money_in(self.batch, incoming, self.actor, self.credited, parked)
        settled, outgoing = money_out.settle_by_hooks(self.batch, [x for x in lines if x.amount < 0], self.actor)
        outcomes += settled + money_out.match_money_out(self.batch, outgoing, self.paid_out)
        money_in.park_in_suspense(self.batch, parked, self.actor)
        return outcomes
