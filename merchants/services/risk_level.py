"""The merchant's risk level as the risk office's computation sets it (risk.services.assessments):
written only when it changes, audited with the score and the assessment behind it. Merchants
never imports the risk app; the caller passes what to record."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ValidationFailed

from ..models import Merchant, RiskLevel
from .rows import locked


@transaction.atomic
def merchant_risk_level_set(*, merchant: Merchant, level: str, actor, reason: str = "", data=None) -> Merchant:
    if level not in RiskLevel.values:
        raise ValidationFailed(_("Unknown risk level."), field="risk_level")
    merchant = locked(Merchant, merchant.pk)
    if merchant.risk_level == level:
        return merchant
    before = merchant.risk_level
    merchant.risk_level = level
    merchant.save(update_fields=["risk_level", "updated_at"])
    audit_record(actor=actor, obj=merchant, action="risk_level", from_state=before, to_state=level, reason=reason,
                 data=data or {})
    return merchant
