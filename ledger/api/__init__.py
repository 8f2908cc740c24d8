"""Platform API of the ledger: balances, statement lines, deposits, channel notifications,
payments and withdrawals (see core.api.views for the pattern)."""
