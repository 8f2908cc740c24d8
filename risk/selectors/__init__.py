"""Reads of the risk office, by topic: monitors, alerts and the risk level (monitors); the risk
reserve (reserve); outflow rules (rules)."""
from .monitors import (  # noqa: F401
    LIVE_MERCHANTS,
    AccountState,
    factor_rows,
    latest_assessment,
    merchant_risk_panels,
    open_alerts,
)
