"""Credit lines: active ⇄ suspended → closed, by risk officers (credit.manage_creditline),
always with a reason. The overdue sweep suspends a line itself (as the system). A line is
reactivated only once none of its bills is overdue, and closed only once nothing is owed."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidState
from core.workflow import transition

from ..models import CreditBill, CreditLine


def _locked(line) -> CreditLine:
    return CreditLine.objects.select_for_update(of=("self",), no_key=True).select_related("merchant", "member").get(pk=line.pk)


@transaction.atomic
def credit_line_suspend(*, line, actor, reason: str) -> CreditLine:
    line = _locked(line)
    line.status_reason = (reason or "").strip()
    return transition(line, "suspend", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def credit_line_reactivate(*, line, actor, reason: str) -> CreditLine:
    line = _locked(line)
    if line.bills.filter(status=CreditBill.Status.OVERDUE).exists():
        raise InvalidState(_("The line has overdue bills: they must be repaid before it is reactivated."))
    line.status_reason = (reason or "").strip()
    return transition(line, "reactivate", actor=actor, reason=reason, reason_required=True)


@transaction.atomic
def credit_line_close(*, line, actor, reason: str) -> CreditLine:
    line = _locked(line)
    if line.used or line.bills.filter(status__in=CreditBill.OUTSTANDING_STATUSES).exists():
        raise InvalidState(_("The line still has bills to repay."))
    line.status_reason = (reason or "").strip()
    return transition(line, "close", actor=actor, reason=reason, reason_required=True)
