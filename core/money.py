"""Money: CNY amounts as Decimal with 2 places, never float."""
import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
MONEY_DIGITS = 18


def quantize(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# The one grammar of money everywhere a person or a platform writes an amount (API bodies,
# admin forms, channel notices, order files): ASCII digits, optionally a point and one or two
# more ASCII digits. No sign, no spaces, no exponent, no grouping, no other script's digits
# (Python's Decimal() and str.isdigit() take '１００' and '١٠٠'; a bank books neither).
AMOUNT_GRAMMAR = re.compile(r"(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"  # the same, as the OpenAPI schema and HTML inputs write it
_MAX_TEXT = 40  # longer than any amount up to MAX_AMOUNT with leading zeros a person would type


def parse_amount(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """Parse an amount as the API contract defines it: a string matching AMOUNT_GRAMMAR, > 0 (or
    = 0 with allow_zero) and <= 999999999999.99. Decimals from internal callers are held to the
    same grammar (format(d, "f"): a negative or -0 has a sign and is refused). Anything else —
    numbers (float/int), exponents, NaN, signs, whitespace, non-ASCII digits — raises
    InvalidAmount with a message that says what is wrong."""
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else "NaN"
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidAmount(_("Amounts must be strings such as \"1250.00\"."), field=field)
    match = AMOUNT_GRAMMAR.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if match is None:
        raise InvalidAmount(_("Not a decimal amount: write ASCII digits with at most 2 decimals, such as "
                              "\"1250.00\" (no sign, spaces, separators or other digits)."), field=field)
    if match["frac"] is not None and len(match["frac"]) > 2:
        raise InvalidAmount(_("At most 2 decimal places."), field=field)
    amount = Decimal(text)
    if amount == 0 and not allow_zero:
        raise InvalidAmount(_("The amount must be greater than zero."), field=field)
    if amount > MAX_AMOUNT:
        raise InvalidAmount(_("The amount is too large."), field=field)
    return quantize(amount)


def format_amount(value: Decimal | None) -> str:
    """API form: plain string with exactly 2 decimals."""
    if value is None:
        return None
    return format(quantize(value), "f")


class MoneyField(models.DecimalField):
    """numeric(18, 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "core.money.MoneyField", args, kwargs

    def formfield(self, **kwargs):
        # Every ModelForm (admin included) reads amounts with the strict grammar, not with
        # forms.DecimalField (which strips spaces and takes any script's digits).
        return super(models.DecimalField, self).formfield(**{"form_class": MoneyFormField, **kwargs})


class MoneyFormField(forms.CharField):
    """A form field for an amount typed by staff: AMOUNT_GRAMMAR, cleaned to a Decimal."""

    def __init__(self, *, allow_zero: bool = True, max_digits=None, decimal_places=None, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("strip", False)
        kwargs.pop("max_length", None)  # parse_amount bounds the length; validators see a Decimal
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"maxlength": str(_MAX_TEXT), "inputmode": "decimal", "pattern": AMOUNT_PATTERN.strip("^$"), "placeholder": "1250.00"})
        return attrs

    def to_python(self, value):
        if isinstance(value, Decimal):
            value = format(value, "f")
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_amount(value, field=self.label or "amount", allow_zero=self.allow_zero)
        except InvalidAmount as err:
            raise forms.ValidationError(err.message, code="invalid_amount") from None

    def prepare_value(self, value):
        return format_amount(value) if isinstance(value, Decimal) else value
