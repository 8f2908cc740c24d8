"""Reconciliation screens: statement imports (upload → preview → confirm), statement lines and
the exception queue, statement layouts, order files, end-of-day runs with their differences,
discrepancy cases. Every button calls a service; nothing here writes a model."""
from . import eod, layouts, statements  # noqa: F401
