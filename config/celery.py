"""The Celery app. Redis is the broker in production; the quick start and tests run tasks eagerly."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

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
# Payouts: each merchant's payout batch for the value date, built five minutes before the daily
# cut-off (16:30, JIANGUAN_DAILY_CUTOFF: what was approved today is paid today) and at 09:25 for
# what came in after yesterday's; operations submit, a second person approves and releases.
app.conf.beat_schedule["payouts-build-due-batches"] = {
    "task": "payouts.tasks.build_due_batches",
    "schedule": crontab(hour="9,16", minute=25, day_of_week="mon-fri"),
}
