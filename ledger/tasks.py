"""Celery entry points of the ledger: thin wrappers over services. All are idempotent, so a
redelivery (acks_late, a killed worker) or a retry books nothing twice."""
from celery import shared_task
from django.db import OperationalError


@shared_task(name="ledger.tasks.auto_release_due_payments", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def auto_release_due_payments() -> int:
    """Release guaranteed payments whose auto-release time has passed (beat: every 15 minutes)."""
    from .services.payments import payments_auto_release_due

    return payments_auto_release_due()


@shared_task(name="ledger.tasks.roll_up_hot_balances", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def roll_up_hot_balances() -> int:
    """Fold hot-account deltas into the materialised balances (beat: every 10 seconds)."""
    from .posting import roll_up_hot_balances as roll_up

    return roll_up()


@shared_task(name="ledger.tasks.mark_busy_member_accounts_hot", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def mark_busy_member_accounts_hot() -> int:
    """Mark hot the members' available accounts credited faster than the setting (beat: every minute)."""
    from .services.hot_flagging import busy_member_accounts_mark_hot

    return busy_member_accounts_mark_hot()


@shared_task(name="ledger.tasks.mark_quiet_member_accounts_ordinary", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def mark_quiet_member_accounts_ordinary() -> int:
    """Mark ordinary again the hot members' accounts quiet for the setting's hours (beat: hourly)."""
    from .services.hot_flagging import quiet_member_accounts_mark_ordinary

    return quiet_member_accounts_mark_ordinary()


@shared_task(name="ledger.tasks.expire_stale_deposits", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def expire_stale_deposits() -> int:
    """Expire announced deposits never paid in time (beat: hourly)."""
    from .services.deposits import deposits_expire_due

    return deposits_expire_due()
