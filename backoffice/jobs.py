"""Long work started from the admin, with progress a person can watch.

- Statement imports: the upload's confirm step starts `backoffice.tasks.statement_import_job`
  (a Celery task) and sends the user to the job's page, which polls a small JSON endpoint and
  opens the import batch when it is done. Lines read so far are kept in the cache while it runs
  (the import's own transaction hides its rows until commit).
- End-of-day runs: reconciliation's admin already runs them as the Celery task
  `reconciliation.tasks.run_end_of_day`; Celery's task signals record a job for each run here,
  so the run's page can show "queued / running / finished" and reload itself when it is done.
The job row is written in its own short transactions, so other requests see its state."""
import datetime

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from .models import BackgroundJob

EOD_TASK = "reconciliation.tasks.run_end_of_day"
_PROGRESS_KEY = "backoffice:job:{}:progress"


def progress_set(job_id: int, lines: int):
    cache.set(_PROGRESS_KEY.format(job_id), int(lines), timeout=24 * 3600)
    _progress_write(job_id, lines)


def _progress_write(job_id: int, lines: int):
    """The import runs in one long transaction, and the default cache is per process: the lines
    read so far also go to the job row through a short connection of their own (autocommit), so
    the job page sees them from any process while the import's own rows stay invisible."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        return  # SQLite: a second writer would wait for the import's lock; the cache serves
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            cursor.execute("UPDATE backoffice_backgroundjob SET progress = %s WHERE id = %s AND progress < %s",
                           [int(lines), job_id, int(lines)])
    finally:
        side.close()


def progress_of(job: BackgroundJob) -> int:
    if job.done:
        return job.progress
    return int(cache.get(_PROGRESS_KEY.format(job.pk)) or job.progress or 0)


def job_create(*, kind, user=None, merchant=None, business_date=None, params=None, task_id="") -> BackgroundJob:
    with transaction.atomic():
        return BackgroundJob.objects.create(kind=kind, user=user if getattr(user, "pk", None) else None,
                                            merchant=merchant, business_date=business_date, params=params or {},
                                            task_id=task_id or "")


def job_started(job_id: int):
    with transaction.atomic():
        BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.QUEUED).update(
            status=BackgroundJob.Status.RUNNING, started_at=timezone.now())


def job_finished(job_id: int, *, ok: bool, result=None, message="", progress=None):
    fields = {"status": BackgroundJob.Status.SUCCEEDED if ok else BackgroundJob.Status.FAILED,
              "finished_at": timezone.now(), "result": result or {}, "message": str(message)[:2000]}
    if progress is not None:
        fields["progress"] = progress
    with transaction.atomic():
        BackgroundJob.objects.filter(pk=job_id).update(**fields)


def latest_job(kind: str, merchant_id: int, business_date) -> BackgroundJob | None:
    return (BackgroundJob.objects.filter(kind=kind, merchant_id=merchant_id, business_date=business_date)
            .order_by("-id").first())


def jobs_visible_to(user):
    """A user sees their own jobs; staff who may see every merchant see all of them."""
    from merchants.selectors import can_see_all_merchants

    qs = BackgroundJob.objects.select_related("merchant", "user")
    return qs if can_see_all_merchants(user) else qs.filter(user=user)


# --- end of day: recorded through Celery's signals (reconciliation's task is unchanged) ---------

def _eod_args(args, kwargs):
    args = list(args or ()) + [None] * 3
    merchant_id = kwargs.get("merchant_id", args[0])
    business_date = kwargs.get("business_date", args[1])
    user_id = kwargs.get("user_id", args[2])
    return merchant_id, business_date, user_id


def _eod_job_for(task_id: str, args, kwargs) -> BackgroundJob | None:
    if not task_id:
        return None
    job = BackgroundJob.objects.filter(task_id=task_id).first()
    if job is not None:
        return job
    merchant_id, business_date, user_id = _eod_args(args, kwargs)
    try:
        day = datetime.date.fromisoformat(str(business_date))
    except ValueError:
        return None
    from django.contrib.auth import get_user_model
    from merchants.models import Merchant

    merchant = Merchant.objects.filter(pk=merchant_id).first()
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return job_create(kind=BackgroundJob.Kind.END_OF_DAY, user=user, merchant=merchant, business_date=day,
                      task_id=task_id, params={"merchant_id": merchant_id, "business_date": str(business_date)})


def _on_publish(sender=None, headers=None, body=None, **kwargs):
    if sender != EOD_TASK or not headers:
        return
    args, task_kwargs = (body[0], body[1]) if isinstance(body, (list, tuple)) and len(body) >= 2 else ((), {})
    _eod_job_for(headers.get("id", ""), args, task_kwargs)


def _on_prerun(sender=None, task_id=None, args=None, kwargs=None, **extra):
    if getattr(sender, "name", None) != EOD_TASK:
        return
    job = _eod_job_for(task_id, args, kwargs or {})
    if job is not None:
        job_started(job.pk)


def _on_postrun(sender=None, task_id=None, retval=None, state=None, **extra):
    if getattr(sender, "name", None) != EOD_TASK:
        return
    job = BackgroundJob.objects.filter(task_id=task_id or "").first()
    if job is None:
        return
    ok = state == "SUCCESS"
    job_finished(job.pk, ok=ok, result=retval if ok and isinstance(retval, dict) else {},
                 message="" if ok else str(retval))


def connect_signals():
    from celery import signals

    signals.before_task_publish.connect(_on_publish, dispatch_uid="backoffice.jobs.publish")
    signals.task_prerun.connect(_on_prerun, dispatch_uid="backoffice.jobs.prerun")
    signals.task_postrun.connect(_on_postrun, dispatch_uid="backoffice.jobs.postrun")
