"""Supervision and virtual accounts, double-entry journal, deposits, payments, withdrawals, holds, calendar."""
