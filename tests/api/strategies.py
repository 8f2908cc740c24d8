"""Hypothesis strategies for hostile API input (tests/api/test_hostile_input.py and the
schemathesis run): amounts outside the money grammar, nesting beyond the parser's bound, lone
surrogates; `books()`, the row counts a refused request must leave as they were; and `put_at`,
which spoils one field of a body."""
import unicodedata
from decimal import Decimal

from django.apps import apps
from hypothesis import strategies as st

BOOK_APPS = ("core", "merchants", "ledger", "credit", "reconciliation")


def _script_zeros() -> list[str]:
    """The zero of every non-ASCII run of decimal digits 0-9 (Arabic-Indic, full-width, ...)."""
    zeros = []
    for code in range(0x80, 0x110000):
        ch = chr(code)
        if unicodedata.category(ch) == "Nd" and unicodedata.digit(ch, None) == 0 and all(
                unicodedata.digit(chr(code + d), None) == d for d in range(10)):
            zeros.append(ch)
    return zeros


SCRIPT_ZEROS = _script_zeros()
WHITESPACE = [" ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u2003", "\u3000", "\ufeff"]

valid_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9.99"), places=2).map(
    lambda d: format(d, "f"))


@st.composite
def foreign_digits(draw):
    """The same amount with one or all of its digits in another script."""
    text = draw(valid_amounts)
    zero = ord(draw(st.sampled_from(SCRIPT_ZEROS)))
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    chosen = set(positions) if draw(st.booleans()) else {draw(st.sampled_from(positions))}
    return "".join(chr(zero + int(ch)) if i in chosen else ch for i, ch in enumerate(text))


@st.composite
def padded(draw):
    text = draw(valid_amounts)
    before, after = draw(st.sampled_from(WHITESPACE + [""])), draw(st.sampled_from(WHITESPACE + [""]))
    if not before and not after:
        after = draw(st.sampled_from(WHITESPACE))
    return before + text + after


signed = st.tuples(st.sampled_from(["+", "-", "\u2212", "\uff0b"]), valid_amounts).map("".join)
hostile_amounts = foreign_digits() | padded() | signed | st.sampled_from(
    ["-0.00", "+0.00", "-0", "１００.００", "١٠٠", "10\uff0e00", "1_000.00", "0x10", "1e2"])


def deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


deep_values = st.tuples(st.integers(min_value=17, max_value=20_000), st.sampled_from(["list", "dict"]))
surrogates = st.integers(min_value=0xD800, max_value=0xDFFF).map(lambda c: f"\\u{c:04x}")


def books() -> dict[str, int]:
    """Row counts of every table of the books (and of the audit trail, idempotency keys, …), but
    the nonces of signed requests: a refused request's nonce is used up too (no replay)."""
    return {model._meta.label: model._default_manager.count()
            for label in BOOK_APPS for model in apps.get_app_config(label).get_models()
            if model._meta.label != "core.UsedNonce"}


def put_at(body, dotted: str, value) -> None:
    """Set the field at a dotted path of a JSON body ("splits.0.amount")."""
    *parents, last = dotted.split(".")
    for part in parents:
        body = body[int(part)] if isinstance(body, list) else body[part]
    body[int(last) if isinstance(body, list) else last] = value
