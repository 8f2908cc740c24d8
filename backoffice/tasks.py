"""Celery entry points: thin, idempotent, retry-safe."""
import datetime
from pathlib import Path

from celery import shared_task

from core.actors import Actor
from core.locks import Lock, session_lock


@shared_task(name="backoffice.tasks.take_performance_snapshots")
def take_performance_snapshots(today: str | None = None) -> dict:
    """Nightly (config/celery.py): freeze the month, quarter and year that ended yesterday.
    A rerun creates nothing twice; a missed night is caught up the next night for the periods
    ended in the last 7 days."""
    from ledger.calendar import local_now

    from .selectors.performance import current_period
    from .services import performance_snapshot_take

    day = datetime.date.fromisoformat(today) if today else local_now().date()
    created = {}
    for back in range(1, 8):
        yesterday = day - datetime.timedelta(days=back)
        for kind in ("month", "quarter", "year"):
            period = current_period(kind, as_of=yesterday)
            if period.end == yesterday and period.key not in created:
                rows = performance_snapshot_take(period=period, actor=Actor.system("performance snapshot"),
                                                 as_of=period.end)
                created[period.key] = len(rows)
    return {"snapshots": created}


@shared_task(name="backoffice.tasks.verify_integrity_nightly")
def verify_integrity_nightly() -> str:
    """Nightly (config/celery.py, after the end of day): the full proof of the books, recorded
    for the operations dashboard (backoffice.services.integrity_check_run). It only reads the
    books, so a redelivery only proves them again. Not retried: a check that could not finish
    is recorded as such and the dashboard alerts until one passes."""
    from .services import integrity_check_run

    return integrity_check_run(actor=Actor.system("nightly integrity check")).status


@shared_task(name="backoffice.tasks.statement_import_job")
def statement_import_job(job_id: int) -> dict:
    """Run a confirmed statement import (reconciliation.services.imports.statement_import)
    and record its progress and outcome on the job. The uploaded file is removed afterwards.
    Two deliveries of the task (acks_late) run one after the other: the second finds the job
    done and skips (tests/faults/test_double_delivery.py)."""
    # A session lock for the task's whole run (the import commits its own transaction inside
    # it). Without it a second delivery that started while the first was importing ran the
    # import again: a second, all-duplicate batch, and the job's result overwritten ("0
    # imported", or "the uploaded file is gone" once the first removed it). A worker that dies
    # releases the lock with its connection, so a redelivery still runs.
    with session_lock(_JOB_LOCK, job_id):
        return _statement_import_job(job_id)


_JOB_LOCK = int(Lock.BACKGROUND_JOB)  # with the job id: one delivery of a job's task runs at a time


def _statement_import_job(job_id: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from reconciliation.services.imports import statement_import

    from . import jobs
    from .models import BackgroundJob

    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None or job.done:
        return {"job": job_id, "skipped": True}  # a redelivered task: the work was done once
    jobs.job_started(job.pk)
    path = Path(job.params["path"])
    user = get_user_model().objects.filter(pk=job.user_id).first()
    try:
        with path.open("rb") as stream:
            result = statement_import(account_number=job.params["account"], stream=stream,
                                      file_name=job.params.get("file_name", ""), actor=user or Actor.system("import"),
                                      progress=lambda lines: jobs.progress_set(job.pk, lines),
                                      layouts_fingerprint=job.params.get("layouts"))
    except FileNotFoundError:
        jobs.job_finished(job.pk, ok=False, message="The uploaded file is gone: upload it again.")
        return {"job": job_id, "ok": False}
    except Exception as err:  # noqa: BLE001  recorded on the job for the user, then re-raised for the log
        jobs.job_finished(job.pk, ok=False, message=str(err))
        raise
    finally:
        path.unlink(missing_ok=True)
    summary = result.as_json()
    summary["errors"] = summary["errors"][:50]
    if result.batch is not None:
        summary["batch"] = result.batch.pk
        summary["url"] = reverse("admin:reconciliation_statementbatch_change", args=[result.batch.pk])
    summary["refused"] = result.refused
    jobs.job_finished(job.pk, ok=not result.refused, result=summary, progress=result.rows,
                      message="" if not result.refused else "; ".join(str(e["reason"]) for e in result.errors[:3]))
    return {"job": job_id, "ok": not result.refused}
