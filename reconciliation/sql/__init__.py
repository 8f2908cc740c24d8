"""Hand-written SQL of reconciliation: the statement-line guard (loaded by a migration) and
the set-based end-of-day matching (loaded by reconciliation.services.eod)."""
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def load(name: str) -> str:
    """The text of reconciliation/sql/<name>.sql."""
    return (_HERE / f"{name}.sql").read_text(encoding="utf-8")
