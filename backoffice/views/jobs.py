"""Progress of long work: the job page (polls), its JSON, and the statement import's confirm
step run as a Celery task."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

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


@require_POST
def statement_import_start(request):
    """The preview's "Confirm import" (the only way a previewed statement is booked): the token
    the preview issued (reconciliation.services.uploads) starts the import as a Celery task, and
    the user watches it on the job's page."""
    from reconciliation.services import uploads

    if not request.user.has_perm("reconciliation.add_statementbatch"):
        raise PermissionDenied
    try:
        ticket = uploads.open_token(request.POST.get("token", ""), user=request.user)
    except uploads.UploadExpired as err:
        messages.error(request, err.message)
        return redirect("admin:reconciliation_statementbatch_import")
    # The job owns the file from now on (a second confirm of the same token finds nothing).
    target = uploads.take(ticket)
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, user=request.user,
                          params={"path": str(target), "account": ticket.account, "file_name": ticket.file_name,
                                  "layouts": ticket.layouts_fingerprint})
    try:
        async_result = tasks.statement_import_job.delay(job.pk)
    except Exception:  # noqa: BLE001  eager mode raises here; the job page shows what went wrong
        async_result = None
        jobs.job_finished(job.pk, ok=False, message=str(_("The import stopped with an error.")))
    if async_result is not None:
        BackgroundJob.objects.filter(pk=job.pk, task_id="").update(task_id=async_result.id or "")
    return redirect("backoffice:job", job.pk)
