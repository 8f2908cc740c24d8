"""Ledger screens, one module per topic. All read-only except through workflow buttons and
service-backed forms; nothing is deleted; every list is scoped to the merchants the user
may see (an RM: their own portfolio)."""
from . import accounts, movements, receipt_links, reference, withdrawals  # noqa: F401
