"""The daily overdue sweep (credit.tasks.sweep_overdue_bills calls it with the date).

For `as_of` (a calendar date in the bank's time zone), every bill not repaid whose due date +
grace days is before `as_of`:
- becomes `overdue` (once; overdue_since = the day after the grace period);
- accrues penalty interest for each calendar day from the day after the grace period up to and
  including `as_of` not accrued yet: one PenaltyAccrual row per bill per day, unique, with
      amount = (outstanding principal × daily rate) rounded ROUND_HALF_UP to 0.01
  computed per day (never on accrued penalty: no compounding). Days the sweep missed are
  caught up at the principal outstanding when the sweep runs. A zero amount (principal fully
  repaid, only penalty left) books no row;
- suspends its credit line (if active), as the system, with the bill as the reason;
- records each later day's accrual on a bill already overdue (audit "accrue_penalty");
- notifies the merchant's relationship manager (a CreditNotification row, shown in the admin)
  and emits the `credit.bill.overdue` webhook event — both only when the bill first becomes
  overdue.
Each bill is handled in its own transaction under the line → bill locks, so a failure on one
bill leaves the others done, and a rerun for the same date changes nothing."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor, as_actor
from core.audit import audit_record
from core.money import format_amount, quantize
from core.workflow import transition
from merchants.services import events

from ..models import CreditBill, CreditLine, CreditNotification, PenaltyAccrual

SWEEP_ACTOR = Actor.system("credit-overdue-sweep")


@dataclass
class SweepResult:
    as_of: date
    bills_seen: int = 0
    newly_overdue: int = 0
    accrual_days: int = 0
    lines_suspended: int = 0

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "bills_seen": self.bills_seen, "newly_overdue": self.newly_overdue,
                "accrual_days": self.accrual_days, "lines_suspended": self.lines_suspended}


def credit_sweep_overdue(*, as_of: date, actor=None, merchant=None) -> SweepResult:
    actor = as_actor(actor) if actor is not None else SWEEP_ACTOR
    result = SweepResult(as_of=as_of)
    candidates = CreditBill.objects.filter(status__in=CreditBill.OUTSTANDING_STATUSES, grace_until__lt=as_of)
    if merchant is not None:
        candidates = candidates.filter(merchant=merchant)
    for bill_id, line_id in candidates.order_by("id").values_list("id", "line_id"):
        result.bills_seen += 1
        _sweep_bill(bill_id, line_id, as_of, actor, result)
    return result


@transaction.atomic
def _sweep_bill(bill_id, line_id, as_of, actor, result):
    line = CreditLine.objects.select_for_update(no_key=True).get(pk=line_id)
    bill = (CreditBill.objects.select_for_update(of=("self",), no_key=True).select_related("merchant__relationship_manager", "member")
            .get(pk=bill_id))
    if bill.status == CreditBill.Status.REPAID or bill.grace_until >= as_of:
        return  # repaid (or its dates moved) since the candidates were listed
    first_day = bill.grace_until + timedelta(days=1)
    if bill.last_accrual_date is not None:
        first_day = max(first_day, bill.last_accrual_date + timedelta(days=1))
    daily = quantize(bill.principal_outstanding * bill.penalty_rate)
    days = [first_day + timedelta(days=n) for n in range((as_of - first_day).days + 1)]
    if days:
        if daily > 0:
            PenaltyAccrual.objects.bulk_create([
                PenaltyAccrual(merchant_id=bill.merchant_id, bill=bill, accrual_date=day,
                               principal_base=bill.principal_outstanding, rate=bill.penalty_rate, amount=daily)
                for day in days
            ])
            bill.penalty_accrued += daily * len(days)
            result.accrual_days += len(days)
        bill.last_accrual_date = days[-1]

    if bill.status == CreditBill.Status.OVERDUE:
        bill.save()
        if days:
            # The debt grew (or the sweep moved on) with no workflow step: an audit record is the
            # trace of this day's accrual (core.audit's rule). A rerun of the date has no days.
            accrued = daily * len(days) if daily > 0 else Decimal("0.00")
            audit_record(actor=actor, obj=bill, action="accrue_penalty", from_state=bill.status,
                         to_state=bill.status, data={"as_of": as_of, "first_day": days[0], "last_day": days[-1],
                                                     "days": len(days), "daily": daily, "amount": accrued,
                                                     "penalty_accrued": bill.penalty_accrued})
    else:
        bill.overdue_since = bill.grace_until + timedelta(days=1)
        reason = _("Not repaid by %(date)s (due date plus grace).") % {"date": bill.grace_until.isoformat()}
        transition(bill, "mark_overdue", actor=actor, reason=reason,
                   data={"as_of": as_of, "outstanding": bill.outstanding})
        result.newly_overdue += 1
        _notify(bill, line)
        events.emit(bill.merchant, "credit.bill.overdue", {
            "id": bill.pk, "user_id": bill.member.user_id, "order_no": bill.order_no,
            "amount": format_amount(bill.amount), "outstanding": format_amount(bill.outstanding),
            "due_date": bill.due_date.isoformat(), "overdue_since": bill.overdue_since.isoformat(),
        })
    if line.status == CreditLine.Status.ACTIVE:
        line.status_reason = _("Bill %(order_no)s is overdue.") % {"order_no": bill.order_no}
        transition(line, "suspend", actor=actor, reason=line.status_reason, data={"bill": bill.pk})
        result.lines_suspended += 1


def _notify(bill, line):
    message = _("Bill %(order_no)s of %(member)s (%(amount)s) is overdue since %(date)s; the credit line "
                "is suspended.") % {"order_no": bill.order_no, "member": bill.member, "amount": bill.amount,
                                    "date": bill.overdue_since.isoformat()}
    CreditNotification.objects.get_or_create(
        merchant_id=bill.merchant_id, bill=bill, kind=CreditNotification.Kind.BILL_OVERDUE,
        defaults={"line": line, "recipient": bill.merchant.relationship_manager, "message": message[:255]},
    )
