"""How apps built on reconciliation take part in a statement import without reconciliation
importing them (the arrows stay reconciliation → ledger → merchants).

money_out_settlements: functions `settle(*, merchant_id, lines, actor) -> dict[int, str]`,
called inside the import's transaction with a chunk's money-out lines (services.line_outcomes
.NewLine) before they are matched to paid withdrawals. Each may book what the lines prove (the
payouts app marks a payout batch's withdrawals paid) and returns, by index in `lines`, the lines
it has fully accounted for and a detail to show; the other lines go on to the usual matching (a
withdrawal it marked paid with the line's bank reference then matches as any paid withdrawal).

statement_import_starters: functions `start(request, *, path, ticket) -> HttpResponse` that run a
confirmed import (reconciliation.services.uploads.Ticket, the file at `path` now theirs). The
first one registered runs it (the back office: a Celery job with a progress page); with none, the
confirm view imports in the request.

eodrun_panels: functions `panel(request, run) -> SafeString` (rendered HTML; a plain str is escaped) shown at the top of an
end-of-day run's admin page (the back office: the progress of the latest run started)."""
money_out_settlements: list = []
statement_import_starters: list = []
eodrun_panels: list = []
