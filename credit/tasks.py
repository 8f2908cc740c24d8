"""Celery entry points of credit: thin, idempotent wrappers over services."""
from datetime import date

from celery import shared_task
from django.db import OperationalError


@shared_task(name="credit.tasks.sweep_overdue_bills", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def sweep_overdue_bills(as_of: str | None = None) -> dict:
    """Daily (beat, 01:00 Asia/Shanghai): overdue bills, penalty interest, suspended lines.
    `as_of` (YYYY-MM-DD) defaults to today's date in the bank's time zone; a rerun for the
    same date books nothing twice."""
    from ledger.calendar import local_now

    from .services.overdue import credit_sweep_overdue

    day = date.fromisoformat(as_of) if as_of else local_now().date()
    return credit_sweep_overdue(as_of=day).as_dict()
