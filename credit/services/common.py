"""Helpers the credit services share."""
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

from ..models.common import MAX_GRACE_DAYS, MAX_PENALTY_RATE, MAX_TERM_DAYS


def parse_days(value, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(_("A whole number of days is required."), field=field)
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_("A whole number of days is required."), field=field) from None
    if str(days) != str(value).strip() or not low <= days <= high:
        raise ValidationFailed(_("Between %(low)s and %(high)s days.") % {"low": low, "high": high}, field=field)
    return days


def parse_term(value) -> int:
    return parse_days(value, field="term_days", low=1, high=MAX_TERM_DAYS)


def parse_grace(value) -> int:
    return parse_days(value, field="grace_days", low=0, high=MAX_GRACE_DAYS)


def parse_rate(value) -> Decimal:
    """A daily rate as a decimal string or Decimal, 0 ≤ rate ≤ 0.01, at most 6 decimals."""
    if isinstance(value, (float, bool)) or value is None:
        raise ValidationFailed(_("The penalty rate must be a decimal such as 0.0005."), field="penalty_rate")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(_("The penalty rate must be a decimal such as 0.0005."), field="penalty_rate") from None
    if not rate.is_finite() or rate.as_tuple().exponent < -6:
        raise ValidationFailed(_("At most 6 decimal places."), field="penalty_rate")
    if not Decimal(0) <= rate <= MAX_PENALTY_RATE:
        raise ValidationFailed(_("The daily penalty rate must be between 0 and %(max)s.") % {"max": MAX_PENALTY_RATE},
                               field="penalty_rate")
    return rate.quantize(Decimal("0.000001"))


def parse_order_no(order_no) -> str:
    order_no = (order_no or "").strip() if isinstance(order_no, str) or order_no is None else None
    if not order_no or len(order_no) > 64:
        raise ValidationFailed(_("An order number of 1 to 64 characters is required."), field="order_no")
    return order_no
