"""How apps built on reconciliation take part in a statement import without reconciliation
importing them (the arrows stay reconciliation → ledger → merchants).

money_out_settlements: functions `settle(*, merchant_id, lines, actor) -> dict[int, str]`,
called inside the import's transaction with a chunk's money-out lines (services.line_outcomes
.NewLine) before they are matched to paid withdrawals. Each may book what the lines prove (the
payouts app marks a payout batch's withdrawals paid) and returns, by index in `lines`, the lines
it has fully accounted for and a detail to show; the other lines go on to the usual matching (a
withdrawal it marked paid with the line's bank reference then matches as any paid withdrawal)."""
money_out_settlements: list = []
