"""Computing a merchant's risk level (risk.level), keeping it (RiskAssessment) and writing the
latest level to the merchant (merchants.services.risk_level, audited when it changes)."""
from datetime import date

from django.db import transaction
from django.utils import timezone

from core.actors import as_actor
from core.audit import audit_record
from ledger.calendar import business_date_for
from merchants.models import Merchant
from merchants.services.risk_level import merchant_risk_level_set

from .. import level as risk_level
from ..models import RiskAssessment

ASSESSED = (Merchant.Status.ACTIVE, Merchant.Status.FROZEN, Merchant.Status.CLOSING)


def _today() -> date:
    """The current business date: the date today's bookings carry (after the cut-off, the next working day)."""
    return business_date_for()


@transaction.atomic
def merchant_assess(*, merchant: Merchant, actor=None, as_of: date | None = None) -> RiskAssessment:
    """Compute the level from the books as of `as_of` (default: the current business date), keep the computation with
    its factors, and set the merchant's level to it."""
    as_of = as_of or _today()
    result = risk_level.assess(merchant, as_of=as_of)
    assessment = RiskAssessment.objects.create(
        merchant_id=merchant.pk, level=result.level, score=result.score, factors=list(result.factors),
        as_of=result.as_of, window_days=result.window_days, computed_at=timezone.now(),
        computed_by=as_actor(actor).label[:150])
    audit_record(actor=actor, obj=assessment, action="assess", merchant_id=merchant.pk, to_state=result.level,
                 data={"score": result.score, "as_of": as_of.isoformat(),
                       "points": {f["key"]: f["points"] for f in result.factors}})
    merchant_risk_level_set(merchant=merchant, level=result.level, actor=actor,
                            reason=f"risk assessment #{assessment.pk}",
                            data={"assessment": assessment.pk, "score": result.score})
    return assessment


def merchants_assess_all(*, actor=None, as_of: date | None = None) -> list[RiskAssessment]:
    """The daily computation: every merchant holding money, each in its own transaction."""
    as_of = as_of or _today()
    return [merchant_assess(merchant=merchant, actor=actor, as_of=as_of)
            for merchant in Merchant.objects.filter(status__in=ASSESSED).order_by("id")]
