"""The ledger's API views, one module per resource; urls.py imports from the modules."""
