"""Celery entry points of payouts: thin and idempotent (a rerun finds nothing new to gather)."""
from celery import shared_task
from django.db import OperationalError


@shared_task(name="payouts.tasks.build_due_batches", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def build_due_batches() -> int:
    """Build each merchant's payout batch for the current value date (beat: at the cut-off, and
    in the morning for what came in after yesterday's). Operations submit and release them."""
    from .services.batches import payout_batches_build_due

    return len(payout_batches_build_due(actor=None))
