"""Celery tasks of merchants: webhook delivery (the task names stay as first registered, so
messages already queued and the beat schedule keep working)."""
from celery import shared_task

from .services.webhooks import attempt, deliver_due_now


@shared_task(name="merchants.webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    attempt(delivery_id)


@shared_task(name="merchants.webhooks.deliver_due", ignore_result=True)
def deliver_due() -> int:
    """Beat: every minute."""
    return deliver_due_now()
