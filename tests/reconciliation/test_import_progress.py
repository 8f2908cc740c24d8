"""An import is one transaction, yet the job page sees its progress while it runs: the lines
read so far reach the job row through a connection of their own (PostgreSQL, real threads)."""
import threading

import pytest
from django.db import connection

from backoffice import jobs
from backoffice.models import BackgroundJob
from reconciliation.models import StatementLine
from reconciliation.services import imports
from reconciliation.services.imports import statement_import
from tests import factories as f

from .builders import english


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_connection_sees_the_progress_of_a_running_import(monkeypatch):
    # given a job for a file of three chunks of lines
    monkeypatch.setattr(imports, "LINES_PER_CHUNK", 50)
    merchant = f.active_merchant()
    job = jobs.job_create(kind=BackgroundJob.Kind.STATEMENT_IMPORT, merchant=merchant)
    data = english([(f"R{i}", "2026-11-24", "5.00", "A", "1", "B", "x", "") for i in range(120)])
    seen = []

    def look_from_elsewhere():
        # what another process (the job page) reads while the import's transaction is open
        try:
            seen.append((BackgroundJob.objects.get(pk=job.pk).progress,
                         StatementLine.objects.filter(merchant=merchant).count()))
        finally:
            connection.close()

    def progress(lines):
        jobs.progress_set(job.pk, lines)
        reader = threading.Thread(target=look_from_elsewhere)
        reader.start()
        reader.join()

    # when the file is imported with the job's progress callback
    result = statement_import(account_number=merchant.supervision_account_number, stream=data, actor=None,
                              progress=progress)
    # then, during the import, the job row showed the lines read so far, rising, while none of
    # the import's own lines were visible yet
    assert result.imported == 120
    assert [p for p, _lines in seen] == [50, 100, 120]
    assert all(lines == 0 for _p, lines in seen)
    # and the job page's figure reads the same without the cache
    jobs.cache.clear()
    assert jobs.progress_of(BackgroundJob.objects.get(pk=job.pk)) == 120

