"""Long work started from the admin shows progress: a confirmed statement import runs as a
Celery task behind a job page; end-of-day runs (reconciliation's Celery task) are recorded as
jobs through Celery's signals, for the run page's progress line."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice import jobs
from backoffice.models import BackgroundJob
from ledger.models import Deposit
from reconciliation import tasks as reconciliation_tasks
from reconciliation.models import StatementBatch
from tests import factories as f
from tests.reconciliation.builders import announce, gbk_debit_credit

pytestmark = pytest.mark.django_db
IMPORT_URL = "admin:reconciliation_statementbatch_import"


def preview(client, merchant, data):
    return client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                             "file": SimpleUploadedFile("statement.csv", data, "text/csv")})


def test_a_confirmed_import_runs_as_a_job_and_its_page_reports_the_result(client):
    # given a GBK statement whose line carries an announced deposit's payment code
    merchant = f.active_merchant()
    deposit = announce(merchant, f.member(merchant), "1234.50", "D-1")
    data = gbk_debit_credit([("SR001", "2026-11-24", "", "1,234.50", "张三", "622202",
                              f"货款 {deposit.payment_code}", "1,234.50")])
    ops = f.ops()
    client.force_login(ops)
    page = preview(client, merchant, data).content.decode()
    # then the preview's confirm button starts the background job
    assert f'action="{reverse("admin:reconciliation_statementbatch_import_confirm")}"' in page
    token = client.post(reverse(IMPORT_URL), {"account": merchant.supervision_account_number,
                                              "file": SimpleUploadedFile("s.csv", data, "text/csv")}).context["token"]
    # when it is confirmed
    response = client.post(reverse("admin:reconciliation_statementbatch_import_confirm"), {"token": token})
    # then the user lands on the job's page, and (tasks run eagerly here) the job is done
    job = BackgroundJob.objects.get(kind=BackgroundJob.Kind.STATEMENT_IMPORT)
    assert response.status_code == 302 and response.url == reverse("backoffice:job", args=[job.pk])
    batch = StatementBatch.objects.get()
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.user == ops and job.task_id
    assert job.result["matched"] == 1 and job.result["batch"] == batch.pk and job.progress == 1
    Deposit.objects.get(pk=deposit.pk, status="succeeded")
    status = client.get(reverse("backoffice:job-status", args=[job.pk])).json()
    assert status["done"] and status["url"] == reverse("admin:reconciliation_statementbatch_change", args=[batch.pk])
    html = client.get(reverse("backoffice:job", args=[job.pk])).content.decode()
    assert 'id="job-matched">1<' in html
    # and the same token can't start a second import
    client.post(reverse("admin:reconciliation_statementbatch_import_confirm"), {"token": token})
    assert BackgroundJob.objects.count() == 1 and StatementBatch.objects.count() == 1


def test_a_forged_token_or_another_users_job_is_refused(client):
    ops, other = f.ops(), f.rm()
    client.force_login(ops)
    response = client.post(reverse("admin:reconciliation_statementbatch_import_confirm"), {"token": "forged"})
    assert response.status_code == 302 and response.url == reverse(IMPORT_URL)
    assert not BackgroundJob.objects.exists()
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, user=ops, params={})
    client.force_login(other)
    assert client.get(reverse("backoffice:job-status", args=[job.pk])).status_code == 404
    assert client.post(reverse("admin:reconciliation_statementbatch_import_confirm"), {"token": "x"}).status_code == 403


def test_progress_is_read_from_the_cache_while_the_job_runs(db):
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, params={})
    jobs.job_started(job.pk)
    jobs.progress_set(job.pk, 4000)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.RUNNING and jobs.progress_of(job) == 4000


def test_an_end_of_day_run_is_recorded_as_a_job(client):
    # given operations run the end of day through reconciliation's Celery task
    merchant = f.active_merchant()
    ops = f.ops()
    day = datetime.date(2026, 11, 24)
    reconciliation_tasks.run_end_of_day.delay(merchant.pk, day.isoformat(), ops.pk)
    # then a job records it, finished, with the run's outcome
    job = BackgroundJob.objects.get(kind=BackgroundJob.Kind.END_OF_DAY)
    assert (job.merchant, job.business_date, job.user, job.status) == (merchant, day, ops, "succeeded")
    assert job.result["status"] == "discrepancies"  # no order file and no statement for the day
    # and the run page's progress line can read it
    client.force_login(ops)
    status = client.get(reverse("backoffice:eod-job-status", args=[merchant.pk, "2026-11-24"])).json()
    assert status["status"] == "succeeded" and status["url"].endswith(f"/{job.result['run']}/change/")
    run_page = client.get(status["url"]).content.decode()
    assert 'id="eod-progress"' in run_page
    # an RM of another portfolio can't read it
    client.force_login(f.rm())
    assert client.get(reverse("backoffice:eod-job-status", args=[merchant.pk, "2026-11-24"])).status_code == 404
