"""Reconciliation: what the bank says (statements), what the platform says (order files) and
what the ledger says, matched against each other.

- A StatementLayout says how one bank writes its export (header words, date formats, direction
  values, footers, reference columns), on top of the standard table; operations keep them.
- A StatementBatch is one imported statement/receipt file of a merchant's supervision account;
  its StatementLines are the bank's evidence, stored once per bank reference (re-imports skip
  them). On PostgreSQL a trigger keeps a line's evidence columns (reference, dates, amount,
  counterparty, remark, balance) immutable and refuses DELETE; only the workflow columns
  (status, what it was matched to, who resolved it and why) change, through the services.
- Money-in lines are booked at import: a deposit's payment code and amount match → the deposit
  is credited; otherwise the money is parked in the merchant's suspense account and the line
  waits in the exception queue. Money-out lines are never booked from the statement: they are
  matched to paid withdrawals, or wait in the queue (the end of day shows the difference).
- End of day (日末批量勾对) per merchant and business date: an EodRun matches the platform's
  OrderFile against the ledger's journal entries in SQL, proves 总分平衡 and compares the book
  supervision balance with the bank's closing balance. Each difference (EodDifference) opens a
  DiscrepancyCase, keyed so that a rerun updates or closes cases and never duplicates them.
"""
from .eod import DiscrepancyCase, EodDifference, EodRun, OrderFile, OrderFileLine, OrderType  # noqa: F401
from .layouts import StatementLayout  # noqa: F401
from .statements import ExceptionQueueItem, StatementBatch, StatementLine  # noqa: F401
