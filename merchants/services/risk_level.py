"""The merchant's risk level as the risk office's computation sets it (risk.services.assessments),
and its required risk reserve as the risk office's approved policy sets it (risk.services.reserve):
written only when they change, audited with the computation behind them. Merchants
never imports the risk app; the caller passes what to record."""
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ValidationFailed
from core.money import parse_amount, quantize

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


@transaction.atomic
def merchant_reserve_required_set(*, merchant: Merchant, amount, actor, reason: str = "", data=None) -> Merchant:
    """The required risk reserve in force, as the risk office's approved policy makes it (an amount, or
    a percentage of recent inflows recomputed daily): written only when it changes, audited."""
    amount = parse_amount(quantize(Decimal(amount)), allow_zero=True)
    merchant = locked(Merchant, merchant.pk)
    if merchant.risk_reserve_required == amount:
        return merchant
    before = merchant.risk_reserve_required
    merchant.risk_reserve_required = amount
    merchant.save(update_fields=["risk_reserve_required", "updated_at"])
    audit_record(actor=actor, obj=merchant, action="reserve_required", from_state=str(before), to_state=str(amount),
                 reason=reason, data=data or {})
    return merchant
