"""Reconciliation services, one module per topic (import from the module):

- imports: statement_import — read, validate, store and match a statement file (line_store:
  the duplicate look-up and the COPY of new lines);
- uploads: a file between its preview and its confirm (the kept file, the signed token);
- matching: automatic matching of an imported batch, and the exception queue's manual
  operations (match to a deposit or member, return, ignore);
- orders: the platform's order files (API and CSV);
- eod: the end-of-day run (日末批量勾对);
- cases: the discrepancy-case workflow;
- layouts: statement layouts (how each bank writes its export), saved with an audit record."""
