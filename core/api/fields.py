"""Serializer fields of the API contract.

MoneyField: amounts travel as JSON strings ("1250.00"); anything else — a JSON number, "1e3",
"NaN", a sign, spaces, full-width or other non-ASCII digits, zero, more than 2 decimals, more
than 999999999999.99 — is a 400 `invalid_amount` (core.money.parse_amount decides). Rendered as a string with 2 decimals."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import InvalidAmount
from core.money import AMOUNT_PATTERN, format_amount, parse_amount

SIGNED_AMOUNT_PATTERN = r"^-?[0-9]{1,12}\.[0-9]{2}$"


@extend_schema_field({
    "type": "string", "pattern": AMOUNT_PATTERN, "example": "1250.00",
    "description": "Decimal amount as a string: > 0, at most 2 decimals, at most 999999999999.99.",
})
class MoneyField(serializers.Field):
    default_error_messages = {"required": _("This field is required."), "null": _("This field may not be null.")}

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_amount(data, field=self.field_name or "amount", allow_zero=self.allow_zero)
        except InvalidAmount as err:
            raise serializers.ValidationError(str(err.message), code="invalid_amount") from None

    def to_representation(self, value):
        return format_amount(value)


@extend_schema_field({"type": "string", "pattern": SIGNED_AMOUNT_PATTERN, "example": "-12.50"})
class SignedMoneyField(serializers.Field):
    """Output only: a signed amount (statement lines)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return format_amount(value)


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,12}\.[0-9]{2}$", "example": "1250.00"})
class AmountOutField(SignedMoneyField):
    """Output only: a non-negative amount (balances, zero included)."""


class PlainCharField(serializers.CharField):
    """A CharField that takes only JSON strings (DRF would turn 12 into "12") and refuses
    control characters (NUL breaks PostgreSQL text; none belongs in an id or a name)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise serializers.ValidationError(_("Control characters are not allowed."), code="invalid")
        return value
