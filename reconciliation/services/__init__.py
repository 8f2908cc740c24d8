"""Reconciliation services, one module per topic (import from the module):

- imports: statement_import — read, validate, store and match a statement file (line_store:
  the duplicate look-up and the COPY of new lines);
- uploads: a file between its preview and its confirm (the kept file, the signed token);
- batch_matcher: automatic matching of an imported batch, chunk by chunk, returning each line's
  outcome (line_outcomes) for the import to fold into its result; money_in (deposits proven by
  their payment code, channel settlements, suspense) and money_out (paid withdrawals) are its steps;
- exception_queue: the queue's manual operations (match to a deposit or member, return, ignore,
  settle a channel's settlement);
- orders: the platform's order files (API and CSV);
- eod: the end-of-day run (日末批量勾对);
- cases: the discrepancy-case workflow;
- layouts: statement layouts (how each bank writes its export), saved with an audit record."""
