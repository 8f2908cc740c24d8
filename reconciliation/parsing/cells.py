"""One cell at a time: what a bank wrote (text from a CSV, or a number, date or text from Excel)
into an exact value, or ValueError. No database, no guessing: a cell that is not exactly an
amount, a date or a flag raises, and the row reader turns that into a RowError.

Money never passes through float arithmetic: an Excel number is turned into the shortest text
that reads back as the same float (repr), then into Decimal, and refused unless it lies within
a millionth of a whole fen (1234.5 → 1234.50; 1234.567 is a bad amount)."""

from __future__ import annotations

import datetime
import math
import re
from decimal import ROUND_HALF_UP, Decimal

CENT, ZERO = Decimal("0.01"), Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
_FLOAT_SLACK = Decimal("0.000001")
# Excel keeps 15 significant digits: a longer reference stored as a number has already lost some.
_EXACT_INTEGER = 10**15
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
_SERIAL_RANGE = (32874, 73415)  # 1990-01-01 .. 2100-12-31: a serial outside is not a statement date

# Full-width forms (U+FF01–U+FF5E) and the ideographic space (U+3000) are the bank's own export of
# the ASCII characters ('１２３．４５', '，', '－'): they are mapped back before anything is read.
# Digits of any OTHER script (Arabic-Indic, Devanagari, …) are never money: see has_foreign_digits.
FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

AMOUNT = re.compile(r"(?i)(?P<s1>[-+]?)\s*(?:¥|￥|CNY|RMB)?\s*(?P<s2>[-+]?)\s*"
                    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?\s*元?")
# 2026-11-24, 2026/1/5, 2026.11.24, 20261124; a time after the date is allowed and dropped.
DATE = re.compile(r"(?:([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})|([0-9]{4})([0-9]{2})([0-9]{2}))"
                  r"(?:(?:\s+|T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?")
_EMPTY_SIDE = frozenset(("", "-", "—", "--", "/"))  # "no amount on this side"
_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="20251203": a CSV cell forced to text for Excel


def ascii_text(text: str) -> str:
    """Full-width forms → ASCII, then the cell's padding (spaces, tabs, U+3000) stripped."""
    if not text.isascii():
        text = text.translate(FULL_WIDTH)
    text = text.strip()
    if text.startswith('="'):
        text = _EXCEL_TEXT.sub(r"\1", text).strip()
    return text


def has_foreign_digits(text: str) -> bool:
    """True for a digit of another script, after the full-width mapping ('١٢٣', '१२३', '²')."""
    return not text.isascii() and any(ch.isdigit() and not ch.isascii() for ch in text)


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and ascii_text(value) in _EMPTY_SIDE)


def shown(value) -> str:
    """A cell as staff should see it in an error or the preview (at most 100 characters)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()[:100]


def text_cell(value) -> str:
    """Names, remarks, accounts: the text as written. An Excel number in such a column (an
    account number stored as a number) is written back without '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 10**18 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def reference_cell(value) -> str:
    """A bank reference; one stored by Excel as a number longer than 15 digits is refused
    (Excel already changed its last digits: export that column as text)."""
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= _EXACT_INTEGER:
            raise ValueError(f"reference stored as an inexact number: {value!r}")
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= _EXACT_INTEGER:
            raise ValueError(f"reference stored as an inexact number: {value!r}")
        return str(value)
    return ascii_text(text_cell(value))


def parse_amount_text(text: str) -> Decimal:
    """'1,234.50', '¥1,234.50', 'CNY -500', ' 12 ', '１２３．４５' -> Decimal with 2 places;
    ValueError otherwise (also for digits of another script: see has_foreign_digits)."""
    text = ascii_text(text)
    match = AMOUNT.fullmatch(text) if len(text) <= 40 else None
    if match is None or (match["s1"] and match["s2"]):
        raise ValueError(f"not an amount: {text!r}")
    digits = match["int"].replace(",", "") + "." + (match["frac"] or "0")
    amount = Decimal(digits).quantize(CENT, rounding=ROUND_HALF_UP)  # exact: at most 2 places
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount too large: {text!r}")
    return -amount if "-" in (match["s1"] + match["s2"]) and amount else amount


def amount_from_number(value: float | int) -> Decimal:
    """An Excel number → Decimal with 2 places, exactly (see the module docstring)."""
    if isinstance(value, bool):
        raise ValueError("a true/false cell is not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    else:
        if not math.isfinite(value):
            raise ValueError(f"not an amount: {value!r}")
        amount = Decimal(repr(value))
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(amount - cents) > _FLOAT_SLACK:
        raise ValueError(f"more than 2 decimals: {value!r}")
    if abs(cents) > MAX_AMOUNT:
        raise ValueError(f"amount too large: {value!r}")
    return cents + ZERO  # -0.00 -> 0.00


def amount_cell(value) -> Decimal | None:
    """None for an empty side ('', '-', nothing); Decimal for an amount; ValueError otherwise."""
    if is_empty(value):
        return None
    if isinstance(value, (int, float)):
        return amount_from_number(value)
    if not isinstance(value, str):
        raise ValueError(f"not an amount: {value!r}")
    return parse_amount_text(value)


def parse_date_text(text: str, formats: tuple[str, ...] = ()) -> datetime.date:
    """'2026-11-24', '2026/1/5', '2026.11.24', '20261124', '2025/12/03  14:06:51' -> date, or
    one of a layout's extra strptime formats; ValueError otherwise."""
    text = ascii_text(text)
    if has_foreign_digits(text):  # strptime's \d would take them
        raise ValueError(f"not ASCII digits: {text!r}")
    match = DATE.fullmatch(text)
    if match is None:
        collapsed = " ".join(text.split())
        for fmt in formats:
            try:
                return datetime.datetime.strptime(collapsed, fmt).date()
            except ValueError:
                continue
        raise ValueError(f"not a date: {text!r}")
    year, _sep, month, day, *compact = match.groups()
    if year is None:
        year, month, day = compact
    return datetime.date(int(year), int(month), int(day))


def date_cell(value, formats: tuple[str, ...] = ()) -> datetime.date:
    """A date from text, an Excel date/datetime, an Excel serial number or a number 20261124."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"not a date: {value!r}")
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            return parse_date_text(str(int(value)))
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise ValueError(f"not a date: {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return parse_date_text(value, formats)


def flag_key(value) -> str:
    """A direction cell as the tables key it: ASCII, lower case, no spaces ('贷 Cr' -> '贷cr')."""
    text = text_cell(value) if not isinstance(value, str) else value
    return re.sub(r"\s+", "", ascii_text(text).casefold())


def direction_of(key: str, values: dict[str, int]) -> int | None:
    """+1, -1 or None. '贷cr' / 'dr借' count when both halves are known and agree."""
    if key in values:
        return values[key]
    halves = re.fullmatch(r"([^\x00-\x7f]+)([a-z]+)|([a-z]+)([^\x00-\x7f]+)", key)
    if halves is None:
        return None
    signs = {values.get(part) for part in halves.groups() if part}
    return signs.pop() if len(signs) == 1 and None not in signs else None
