"""Celery entry points: thin, idempotent (a rerun replaces the day's result), retry-safe."""
import datetime

from celery import shared_task
from django.db import OperationalError

from ledger.calendar import is_working_day, local_now
from merchants.models import Merchant


def previous_business_date(today: datetime.date | None = None) -> datetime.date | None:
    """The beat runs after midnight for the day that just ended, if it was a working day
    (weekend and holiday money belongs to the next working day's books)."""
    yesterday = (today or local_now().date()) - datetime.timedelta(days=1)
    return yesterday if is_working_day(yesterday) else None


# A lost database connection (failover, restart) rolls the whole run back; the rerun replaces
# the day's result, so Celery retries it (tests/faults/test_connection_drop.py).
@shared_task(name="reconciliation.tasks.run_end_of_day", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def run_end_of_day(merchant_id: int, business_date: str, user_id: int | None = None) -> dict:
    from django.contrib.auth import get_user_model

    from core.actors import Actor

    from .services.eod import eod_run

    merchant = Merchant.objects.get(pk=merchant_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    actor = Actor.staff(user) if user else Actor.system("end-of-day")
    run = eod_run(merchant=merchant, business_date=datetime.date.fromisoformat(business_date), actor=actor)
    return {"run": run.pk, "status": run.status, "differences": run.differences}


@shared_task(name="reconciliation.tasks.run_end_of_day_for_all")
def run_end_of_day_for_all(business_date: str | None = None) -> dict:
    """Beat (config/celery.py): yesterday's business date for every active or frozen merchant,
    one task per merchant so one merchant's trouble never stops the others."""
    day = datetime.date.fromisoformat(business_date) if business_date else previous_business_date()
    if day is None:
        return {"business_date": None, "merchants": 0}
    ids = list(Merchant.objects.filter(status__in=(Merchant.Status.ACTIVE, Merchant.Status.FROZEN))
               .order_by("pk").values_list("pk", flat=True))
    for merchant_id in ids:
        run_end_of_day.delay(merchant_id, day.isoformat())
    return {"business_date": day.isoformat(), "merchants": len(ids)}
