"""Extension points for the apps built on the ledger (dependencies point one way: risk registers
here in its AppConfig.ready; the ledger never imports it).

Outflow checks (the risk office's outflow rules). Every payment, withdrawal and
release of escrow is described as a `ledger.outflows.Outflow` and offered, inside its booking
transaction and before any money moves, to:

- `outflow_checks`: fn(outflow) -> Decision | None. The strictest decision wins (refuse, then
  review, then allow). A refusal is raised as RuleRefused (nothing is booked; its trace is
  written by `Decision.record` once the booking has rolled back); a review books the movement
  "in review" with its money held and calls the first of
- `outflow_reviews`: fn(outflow, decision) -> ReviewTicket: puts the movement in the risk queue.
- `outflow_scopes`: fn(merchant) -> bool: whether any check may apply to the merchant's
  movements at all (the set-based payment batch books without asking when none does).

With nothing registered every movement books as before."""
outflow_checks: list = []
outflow_reviews: list = []
outflow_scopes: list = []
