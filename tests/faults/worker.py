"""A worker process for the fault tests: `python -m tests.faults.worker JOB '{"arg": ...}'`.

It sets Django up against DATABASE_URL (the test database), prints `BACKEND <pid>` (its
PostgreSQL backend, so the test can watch it in pg_stat_activity), runs the job exactly as a
Celery worker or the API would, and prints the job's result as JSON on the last line."""
import json
import os
import sys


def main(job: str, args: dict) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.db import connection

    connection.ensure_connection()
    print(f"BACKEND {connection.connection.info.backend_pid}", flush=True)
    return JOBS[job](**args)


def payment(*, merchant_id, payer_id, payee_id, amount, order_no):
    from ledger.services.payments import payment_create
    from merchants.models import Member, Merchant

    merchant = Merchant.objects.get(pk=merchant_id)
    payment, created = payment_create(
        merchant=merchant, actor=None, payer=Member.objects.get(pk=payer_id), amount=amount, order_no=order_no,
        mode="direct", splits=[(Member.objects.get(pk=payee_id), amount)])
    return {"payment": payment.pk, "created": created}


def statement_import_job(*, job_id):
    from backoffice.tasks import statement_import_job as task

    return task(job_id)


def end_of_day(*, merchant_id, business_date):
    from reconciliation.tasks import run_end_of_day

    return run_end_of_day(merchant_id, business_date)


def api_post(*, app_id, secret, path, body, key):
    """One signed API request, as a gunicorn worker would serve it."""
    from tests.faults.api import signed_post

    response = signed_post(app_id=app_id, secret=secret, path=path, body=body, key=key)
    return {"status": response.status_code, "body": response.json()}


def webhook_deliver(*, delivery_id):
    from merchants.tasks import deliver

    deliver(delivery_id)
    return {"delivery": delivery_id}


def deposit_credit_then_die(*, deposit_id):
    """Credit a deposit and die right after COMMIT, before any on-commit callback (the outbox's
    nudge among them) can run: the first callback registered SIGKILLs the process."""
    import signal

    from django.db import transaction

    from ledger.models import Deposit
    from ledger.services.deposits import deposit_credit

    with transaction.atomic():
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        deposit = Deposit.objects.get(pk=deposit_id)
        deposit_credit(deposit=deposit, actor=None, amount=str(deposit.amount), proof_kind="statement_line",
                       proof_reference=f"SL-{deposit_id}")
    return {"survived": True}  # never reached


JOBS = {"webhook_deliver": webhook_deliver, "deposit_credit_then_die": deposit_credit_then_die, "api_post": api_post, "payment": payment,
        "statement_import_job": statement_import_job, "end_of_day": end_of_day}

if __name__ == "__main__":
    result = main(sys.argv[1], json.loads(sys.argv[2]))
    print(json.dumps(result, default=str), flush=True)
