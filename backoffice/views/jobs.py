"""Progress of long work: the job page (polls), its JSON, the statement import's confirmed file
run as a Celery task, and the end-of-day run's progress panel."""
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.selectors import merchants_visible_to

from .. import jobs, tasks
from ..models import BackgroundJob
from .common import render_admin


def _job(request, pk):
    return get_object_or_404(jobs.jobs_visible_to(request.user), pk=pk)


def job_payload(job: BackgroundJob) -> dict:
    url = job.result.get("url", "")
    if not url and job.kind == BackgroundJob.Kind.END_OF_DAY and job.result.get("run"):
        url = reverse("admin:reconciliation_eodrun_change", args=[job.result["run"]])
    return {"id": job.pk, "kind": job.kind, "status": job.status, "status_label": str(job.get_status_display()),
            "done": job.done, "progress": jobs.progress_of(job), "result": job.result, "message": job.message,
            "url": url, "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


def job_page(request, pk: int):
    job = _job(request, pk)
    return render_admin(request, "backoffice/job.html", {"job": job, "payload": job_payload(job)},
                        title=_("%(kind)s #%(id)s") % {"kind": job.get_kind_display(), "id": job.pk})


def job_status(request, pk: int):
    return JsonResponse(job_payload(_job(request, pk)))


def eod_job_status(request, merchant_id: int, day: str):
    """The latest end-of-day job of a merchant and date (the run page's progress line)."""
    import datetime

    if not merchants_visible_to(request.user).filter(pk=merchant_id).exists():
        raise Http404
    try:
        business_date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    job = jobs.latest_job(BackgroundJob.Kind.END_OF_DAY, merchant_id, business_date)
    return JsonResponse(job_payload(job) if job else {"status": "none", "done": True})


def statement_import_start(request, *, path, ticket):
    """Runs a confirmed statement import (reconciliation.hooks.statement_import_starters; the
    preview's confirm view opened the token and handed over the file) as a Celery task, and
    sends the user to the job's page to watch it."""
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, user=request.user,
                          params={"path": str(path), "account": ticket.account, "file_name": ticket.file_name,
                                  "layouts": ticket.layouts_fingerprint})
    try:
        async_result = tasks.statement_import_job.delay(job.pk)
    except Exception:  # noqa: BLE001  eager mode raises here; the job page shows what went wrong
        async_result = None
        jobs.job_finished(job.pk, ok=False, message=str(_("The import stopped with an error.")))
    if async_result is not None:
        BackgroundJob.objects.filter(pk=job.pk, task_id="").update(task_id=async_result.id or "")
    return redirect("backoffice:job", job.pk)


def eod_progress_panel(request, run) -> str:
    """On an end-of-day run's admin page (reconciliation.hooks.eodrun_panels): the state of the
    latest run started for its merchant and date, reloading the page when it ends."""
    return render_to_string("backoffice/includes/eod_progress.html", {"original": run}, request=request)
