"""The platform's side of the end of day: send the day's orders, read the day's result."""
import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.parsers import BaseParser, MultiPartParser

from core.api.pagination import paginate
from core.api.parsers import StrictJSONParser
from core.api.schema import endpoint
from core.api.views import PlatformAPIView
from core.errors import NotFound, ValidationFailed

from .. import selectors
from ..models import OrderFile
from ..services.orders import order_file_create, order_file_from_csv
from . import serializers as s

MAX_CSV_BYTES = 200 * 1024 * 1024


class CsvParser(BaseParser):
    """A CSV file as the raw body (Content-Type: text/csv), business date in the query string."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"_csv": stream.read(MAX_CSV_BYTES + 1) if stream is not None else b""}


class OrderFileCreate(PlatformAPIView):
    """The platform's orders of one business date, matched against the ledger at the end of day.
    JSON `{"business_date", "orders": [...]}`, or the same columns as CSV: the raw body with
    `Content-Type: text/csv` and `?business_date=YYYY-MM-DD`, or a multipart upload with the
    fields `file` and `business_date`. A later file for the same date replaces the earlier one."""

    parser_classes = [StrictJSONParser, CsvParser, MultiPartParser]
    idempotency = "optional"  # sending a day's file twice only supersedes it with itself

    @endpoint(summary="Send the day's order file", request=s.OrderFileInput, response=s.OrderFileOutput,
              status=202, tags=["reconciliation"], errors=["invalid_amount"])
    def post(self, request):
        csv_data, date = None, None
        if isinstance(request.data, dict) and "_csv" in request.data:
            csv_data, date = request.data["_csv"], request.query_params.get("business_date")
        elif request.content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed(_("Attach the CSV as the field “file”."), field="file")
            csv_data, date = upload.read(MAX_CSV_BYTES + 1), request.data.get("business_date")
        if csv_data is not None:
            if len(csv_data) > MAX_CSV_BYTES:
                raise ValidationFailed(_("The file is larger than 200 MB."), field="file")
            order_file = order_file_from_csv(merchant=self.merchant, actor=self.actor, business_date=date,
                                             data=csv_data, source=OrderFile.Source.API)
        else:
            data = self.parse(s.OrderFileInput)
            order_file = order_file_create(merchant=self.merchant, actor=self.actor,
                                           business_date=data["business_date"], orders=data["orders"],
                                           source=OrderFile.Source.API)
        return self.respond(s.OrderFileOutput, order_file, status=202)


DATE_PARAMETER = OpenApiParameter("business_date", str, OpenApiParameter.PATH, description="YYYY-MM-DD")


def _business_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("Write the business date as YYYY-MM-DD."), field="business_date") from None


class RunDetail(PlatformAPIView):
    @endpoint(summary="The end-of-day result of a business date", response=s.RunOutput, tags=["reconciliation"],
              parameters=[DATE_PARAMETER], description="`pending` until the day has been run (and while it runs).")
    def get(self, request, business_date):
        day = _business_date(business_date)
        return self.respond(s.RunOutput, selectors.run_summary(selectors.run_for(self.merchant, day)))


class RunDifferences(PlatformAPIView):
    query_serializer = s.DifferencesQuery

    @endpoint(summary="The differing orders of a business date's end of day", response=s.DifferencePage,
              tags=["reconciliation"], operation_id="reconciliation_run_differences",
              parameters=[DATE_PARAMETER, s.DifferencesQuery],
              description="Each order the end of day found differing, newest difference first: "
                          "`missing_in_ledger` (in the order file, not booked), `missing_in_orders` (booked, not "
                          "in the file), `amount_mismatch`, `party_mismatch` (same amount, but the file's payer "
                          "or payee is not the member the ledger booked; a party is compared only where both "
                          "sides name one). Differences of the whole day (no order file, the bank's balance) are "
                          "in the run, not here. 404 when the date has not been run; an unknown `category` is "
                          "400. A rerun replaces the list.")
    def get(self, request, business_date):
        day = _business_date(business_date)
        query = self.parse_query(s.DifferencesQuery)
        run = selectors.run_for(self.merchant, day)
        if run is None:
            raise NotFound(_("The end of day has not been run for this date."))
        qs = selectors.run_order_differences(run, category=query.get("category"))
        rows, next_cursor = paginate(qs, cursor=query.get("cursor"), limit=query["limit"])
        return self.respond(s.DifferencePage, {"results": [selectors.difference_view(d) for d in rows],
                                               "next": next_cursor})
