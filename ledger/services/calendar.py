"""Keeping the business calendar: operations mark public holidays and the make-up working
weekends (调休) the State Council announces each year. Days without a row follow the default
(Monday–Friday working). Rows are edited, never deleted: a mistaken override is set back."""
from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ValidationFailed
from core.permissions import require

from ..models import BusinessDay


@transaction.atomic
def business_day_set(*, actor, day: date, is_working_day: bool, note: str = "") -> BusinessDay:
    actor = require(actor, "ledger.change_businessday", "ledger.add_businessday", people_only=False)
    if not isinstance(day, date):
        raise ValidationFailed(_("A date is required."), field="date")
    note = (note or "").strip()[:100]
    row = BusinessDay.objects.select_for_update(no_key=True).filter(date=day).first()
    before = "" if row is None else ("working" if row.is_working_day else "holiday")
    if row is None:
        row = BusinessDay(date=day)
    row.is_working_day, row.note = bool(is_working_day), note
    row.save()
    audit_record(actor=actor, obj=row, action="set_business_day", from_state=before,
                 to_state="working" if row.is_working_day else "holiday", reason=note,
                 data={"date": day.isoformat()})
    return row
