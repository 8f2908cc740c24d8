"""Risk: what the bank's risk office watches without being asked.

- Balance monitors (risk.models.BalanceMonitor): a condition on a balance (a member's
  available or frozen money, a platform's escrow or suspense, its reserve shortfall) over one
  member or every account of the field's kind, for one merchant or all. The beat task evaluates
  each monitor with one query over every account it targets; a MonitorAlert opens when the
  condition becomes true (once per crossing: a partial unique index on open alerts) and closes
  when it becomes false. Each new alert is a `balance.alert` webhook and a dashboard row.
- The platform risk level (risk.level): a pure function of the books over 30 days, with its
  factors and weights as data; every computation is kept (RiskAssessment) and the latest level
  is written to the merchant (merchants.services.risk_level).

Risk builds on every product app (ledger, merchants, credit, reconciliation, core); none of them
imports risk."""
