"""Celery entry points of the risk app: thin wrappers over services, idempotent (a rerun raises
no alert twice and keeps one more assessment, the same as the last)."""
from celery import shared_task
from django.db import OperationalError


@shared_task(name="risk.tasks.evaluate_balance_monitors", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3)
def evaluate_balance_monitors() -> int:
    """Evaluate every enabled balance monitor (beat: every minute); returns the alerts raised."""
    from core.actors import Actor

    from .services.monitors import monitors_evaluate_all

    return sum(len(e.raised) for e in monitors_evaluate_all(actor=Actor.system("risk-monitors")))


@shared_task(name="risk.tasks.assess_merchants", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3)
def assess_merchants() -> int:
    """Recompute every live merchant's required risk reserve (a percentage policy follows the last 30
    days' inflows), then its risk level from its books (beat: daily)."""
    from core.actors import Actor

    from .services.assessments import merchants_assess_all
    from .services.reserve import reserve_requirements_refresh_all

    reserve_requirements_refresh_all(actor=Actor.system("risk-reserve"))
    return len(merchants_assess_all(actor=Actor.system("risk-assessment")))
