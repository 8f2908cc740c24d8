"""The Celery app. Redis is the broker in production; the quick start and tests run tasks eagerly."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")



def payout_build_times() -> dict[str, tuple[int, int]]:
    """(hour, minute) of the payout builds: before the cut-off, and in the morning (settings)."""
    from datetime import datetime, timedelta

    from django.conf import settings

    cutoff = datetime.strptime(settings.JIANGUAN["DAILY_CUTOFF"], "%H:%M")
    before = cutoff - timedelta(minutes=settings.JIANGUAN["PAYOUT_BUILD_LEAD_MINUTES"])
    morning = datetime.strptime(settings.JIANGUAN["PAYOUT_MORNING_BUILD"], "%H:%M")
    return {"morning": (morning.hour, morning.minute), "cutoff": (before.hour, before.minute)}


app = Celery("jianguan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are in the bank's zone (Asia/Shanghai, CELERY_TIMEZONE). django-celery-beat copies
# this schedule into its tables, where operations can change it in the admin.
app.conf.beat_schedule = {
    "ledger-auto-release-guaranteed-payments": {
        "task": "ledger.tasks.auto_release_due_payments",
        "schedule": crontab(minute="*/15"),
    },
    "ledger-roll-up-hot-balances": {
        "task": "ledger.tasks.roll_up_hot_balances",
        "schedule": 10.0,
    },
    # Members' available accounts busy enough to take credits without a row lock
    # (JIANGUAN_HOT_MEMBER_*): marked hot within a minute, ordinary again after a quiet day.
    "ledger-mark-busy-member-accounts-hot": {
        "task": "ledger.tasks.mark_busy_member_accounts_hot",
        "schedule": 60.0,
    },
    "ledger-mark-quiet-member-accounts-ordinary": {
        "task": "ledger.tasks.mark_quiet_member_accounts_ordinary",
        "schedule": crontab(minute=20),
    },
    "reconciliation-end-of-day": {
        "task": "reconciliation.tasks.run_end_of_day_for_all",
        "schedule": crontab(hour=0, minute=30),
    },
    "credit-overdue-sweep": {
        "task": "credit.tasks.sweep_overdue_bills",
        "schedule": crontab(hour=1, minute=0),
    },
    # Announced deposits never paid within JIANGUAN_DEPOSIT_EXPIRY_DAYS expire (deposit.expired).
    "ledger-expire-stale-deposits": {
        "task": "ledger.tasks.expire_stale_deposits",
        "schedule": crontab(minute=5),
    },
}
# Platform API webhooks: attempts that are due (first tries go straight to the worker).
app.conf.beat_schedule["merchants-webhooks-deliver-due"] = {
    "task": "merchants.webhooks.deliver_due",
    "schedule": 60.0,
}
# Back office: freeze last period's RM performance the night after it ends (01:30, after the
# end of day and the overdue sweep).
app.conf.beat_schedule["backoffice-performance-snapshots"] = {
    "task": "backoffice.tasks.take_performance_snapshots",
    "schedule": crontab(hour=1, minute=30),
}
# The full proof of the books (what `manage.py verify_integrity` runs) every night at 02:00, after
# the end of day and the other night jobs; the operations dashboard alerts when it did not pass.
app.conf.beat_schedule["backoffice-verify-integrity-nightly"] = {
    "task": "backoffice.tasks.verify_integrity_nightly",
    "schedule": crontab(hour=2, minute=0),
}
# Risk: balance monitors every minute (an alert and a webhook once per crossing); each live
# merchant's risk level from its books at 03:00, after the night's end of day and checks.
app.conf.beat_schedule["risk-evaluate-balance-monitors"] = {
    "task": "risk.tasks.evaluate_balance_monitors",
    "schedule": 60.0,
}
app.conf.beat_schedule["risk-assess-merchants-daily"] = {
    "task": "risk.tasks.assess_merchants",
    "schedule": crontab(hour=3, minute=0),
}
# Payouts: each merchant's payout batch for the value date, built shortly before the daily cut-off
# (JIANGUAN_DAILY_CUTOFF less JIANGUAN_PAYOUT_BUILD_LEAD_MINUTES: what was approved today is paid
# today) and in the morning (JIANGUAN_PAYOUT_MORNING_BUILD) for what came in after yesterday's.
# The beat runs every day; the task builds only on the bank's working days (ledger.calendar:
# holidays and make-up working weekends). Operations submit, a second person approves and releases.
for _name, (_hour, _minute) in payout_build_times().items():
    app.conf.beat_schedule[f"payouts-build-due-batches-{_name}"] = {
        "task": "payouts.tasks.build_due_batches",
        "schedule": crontab(hour=_hour, minute=_minute),
    }
