"""Celery entry points of payouts: thin and idempotent (a rerun finds nothing new to gather)."""
from celery import shared_task
from django.db import OperationalError


@shared_task(name="payouts.tasks.build_due_batches", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def build_due_batches() -> int:
    """Build each merchant's payout batch for the current value date (beat: before the cut-off,
    and in the morning for what came in after yesterday's), on the bank's working days only (the
    beat fires every day: a holiday builds nothing, a make-up working Saturday does).
    Operations submit and release them."""
    from ledger.calendar import is_working_day, local_now

    from .services.batches import payout_batches_build_due

    if not is_working_day(local_now().date()):
        return 0
    return len(payout_batches_build_due(actor=None))
