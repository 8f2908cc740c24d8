"""Reads behind the back-office screens, one module per screen. Every function runs a fixed
number of queries whatever the data's size (the tests bound them), and whatever sums over
the ledger is done by the database (set-based), never row by row in Python."""
from . import balances, complaints, dashboards, merchant360, performance  # noqa: F401
