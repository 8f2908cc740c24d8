"""The payout batch screens: operations build, submit; a second operations user approves and
releases; downloads once released; the result file uploaded; an auditor reads only. Account
numbers are masked on the screen."""
import pytest
from django.urls import reverse

from payouts.models import PayoutBatch
from tests import factories as f

from .helpers import world

pytestmark = pytest.mark.django_db


def _post(client, url, data=None, **extra):
    return client.post(url, data or {}, follow=True, **extra)


def test_operations_build_submit_and_a_second_user_releases_and_downloads(client):
    # given payments due and two operations users
    merchant, withdrawals, _card = world(("100.00",))
    maker, checker = f.ops(), f.ops()
    client.force_login(maker)
    # when the maker builds the batch from the add page
    page = _post(client, reverse("admin:payouts_payoutbatch_add"),
                 {"merchant": merchant.pk, "value_date": withdrawals[0].value_date.isoformat()})
    batch = PayoutBatch.objects.get(merchant=merchant)
    assert batch.status == "draft" and batch.created_by == maker
    detail = page.content.decode()
    # then the detail shows the lines with masked account numbers only
    card = withdrawals[0].bank_card
    assert card.masked_number in detail and card.account_number not in detail
    # when the maker submits, they are offered no release and a forced release is refused
    transition = lambda name: reverse("admin:payouts_payoutbatch_transition", args=[batch.pk, name])  # noqa: E731
    _post(client, transition("submit"))
    batch.refresh_from_db()
    assert batch.status == "submitted"
    page = client.get(reverse("admin:payouts_payoutbatch_change", args=[batch.pk])).content.decode()
    assert 'data-transition="release"' not in page
    _post(client, transition("release"))
    batch.refresh_from_db()
    assert batch.status == "submitted"
    # when the checker approves and releases, then the file downloads in both formats
    client.force_login(checker)
    _post(client, transition("release"))
    batch.refresh_from_db()
    assert batch.status == "released" and batch.approved_by == checker
    csv_file = client.get(reverse("admin:payouts_payoutbatch_csv", args=[batch.pk]))
    assert csv_file.status_code == 200 and batch.reference in csv_file.content.decode("utf-8-sig")
    xml = client.get(reverse("admin:payouts_payoutbatch_xml", args=[batch.pk]))
    assert xml.status_code == 200 and b"pain.001.001.03" in xml.content
    # when the checker uploads the bank's answer, then it is booked
    from django.core.files.uploadedfile import SimpleUploadedFile

    line = batch.lines.get(kind="withdrawal")
    rows = [f"{x.end_to_end_id},paid,,B{x.pk}" for x in batch.lines.all()]
    upload = SimpleUploadedFile("result.csv", ("end_to_end_id,status,reason,bank_reference\n" + "\n".join(rows))
                                .encode())
    _post(client, reverse("admin:payouts_payoutbatch_result", args=[batch.pk]), {"result_file": upload})
    batch.refresh_from_db()
    line.refresh_from_db()
    assert batch.status == "settled" and line.withdrawal.status == "paid"


def test_an_auditor_reads_but_may_not_build_release_or_upload(client):
    merchant, _w, _c = world(("100.00",))
    from payouts.services.batches import payout_batch_build, payout_batch_submit

    maker = f.ops()
    batch = payout_batch_submit(batch=payout_batch_build(merchant=merchant, actor=maker), actor=maker)
    client.force_login(f.auditor())
    assert client.get(reverse("admin:payouts_payoutbatch_change", args=[batch.pk])).status_code == 200
    assert client.get(reverse("admin:payouts_payoutbatch_add")).status_code == 403
    _post(client, reverse("admin:payouts_payoutbatch_transition", args=[batch.pk, "release"]))
    batch.refresh_from_db()
    assert batch.status == "submitted"
    page = _post(client, reverse("admin:payouts_payoutbatch_result", args=[batch.pk])).content.decode()
    assert "Refused" in page or "拒绝" in page


def test_the_file_is_not_downloadable_before_release(client):
    merchant, _w, _c = world(("100.00",))
    from payouts.services.batches import payout_batch_build

    batch = payout_batch_build(merchant=merchant, actor=f.ops())
    client.force_login(f.ops())
    response = client.get(reverse("admin:payouts_payoutbatch_csv", args=[batch.pk]))
    assert response.status_code == 302
