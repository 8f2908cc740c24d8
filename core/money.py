"""Money: CNY amounts as Decimal with 2 places, never float."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
MONEY_DIGITS = 18


def quantize(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """Parse an amount as the API contract defines it: a string of a decimal number with at
    most 2 fractional digits, > 0 and <= 999999999999.99. Decimals pass too (internal callers).
    Numbers (float/int), exponents, NaN, negatives and zero raise InvalidAmount."""
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else "NaN"
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidAmount(_("Amounts must be strings such as \"1250.00\"."), field=field)
    if not text or not all(ch.isdigit() or ch in ".-+" for ch in text) or text.count(".") > 1:
        raise InvalidAmount(_("Not a decimal amount."), field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount(_("Not a decimal amount."), field=field) from None
    if not amount.is_finite():
        raise InvalidAmount(_("Not a decimal amount."), field=field)
    if amount.as_tuple().exponent < -2:
        raise InvalidAmount(_("At most 2 decimal places."), field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
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


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def amount_in_chinese_capitals(value: Decimal) -> str:
    """人民币大写, as printed on bank receipts: 1234.50 -> 壹仟贰佰叁拾肆元伍角整."""
    value = quantize(value)
    if value < 0:
        return "负" + amount_in_chinese_capitals(-value)
    yuan = int(value)
    cents = int((value - yuan) * 100)
    jiao, fen = divmod(cents, 10)
    out = _yuan_to_capitals(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (out or "零元") + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif yuan:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    else:
        out += "整"
    return out


def _yuan_to_capitals(n: int) -> str:
    units = ["", "拾", "佰", "仟"]
    groups = ["", "万", "亿", "万亿"]
    parts = []
    group_index = 0
    need_zero = False
    while n > 0:
        n, group = divmod(n, 10000)
        if group:
            text = ""
            zero = False
            for i in range(3, -1, -1):
                digit = (group // 10**i) % 10
                if digit:
                    if zero:
                        text += "零"
                        zero = False
                    text += _DIGITS[digit] + units[i]
                elif text:
                    zero = True
            # The 零 between this group and a lower one that starts below its thousands
            # (or after an all-zero group) follows this group's unit: 壹亿零壹万零壹.
            parts.append(text + groups[group_index] + ("零" if need_zero else ""))
            need_zero = group < 1000
        elif parts:
            need_zero = True
        group_index += 1
    result = "".join(reversed(parts))
    return result.lstrip("零")
