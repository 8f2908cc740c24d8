"""人民币大写 (receipts.amount_words): the fixtures of Chinese banking practice, and every amount a
receipt can carry converts and reads back (a parser written here, independent of the code)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receipts.amount_words import DIGITS, amount_in_words

D = Decimal


@pytest.mark.parametrize("amount, words", [
    ("1005.30", "壹仟零伍元叁角整"),
    ("100000", "壹拾万元整"),
    ("0.05", "伍分"),
    ("0.01", "壹分"),
    ("0.10", "壹角整"),
    ("0.00", "零元整"),
    ("1.01", "壹元零壹分"),
    ("10.00", "壹拾元整"),
    ("10.50", "壹拾元伍角整"),
    ("101.00", "壹佰零壹元整"),
    ("1010.00", "壹仟零壹拾元整"),
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("1234.05", "壹仟贰佰叁拾肆元零伍分"),
    ("10000.00", "壹万元整"),
    ("30000.03", "叁万元零叁分"),
    ("100000.05", "壹拾万元零伍分"),
    ("100100.00", "壹拾万零壹佰元整"),
    ("10000500.00", "壹仟万零伍佰元整"),
    ("10001000.00", "壹仟万壹仟元整"),
    ("10100005.00", "壹仟零壹拾万零伍元整"),
    ("12345678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
    ("100000001.00", "壹亿零壹元整"),
    ("100001000.00", "壹亿零壹仟元整"),
    ("100010001.00", "壹亿零壹万零壹元整"),
    ("100050000.00", "壹亿零伍万元整"),
    ("110000000.00", "壹亿壹仟万元整"),
    ("200000010.00", "贰亿零壹拾元整"),
    ("1000000000000.00", "壹万亿元整"),
    ("1000500000000.00", "壹万零伍亿元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("9999999999999.99", "玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-12.30", "负壹拾贰元叁角整"),
])
def test_the_fixtures_of_banking_practice(amount, words):
    assert amount_in_words(D(amount)) == words


def test_amounts_round_half_up_to_the_fen_and_too_large_ones_are_refused():
    assert amount_in_words("0.005") == "壹分"
    with pytest.raises(ValueError):
        amount_in_words("10000000000000000.00")


# --- an independent reader of the capitals ---------------------------------------------------

_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def _read_section(text: str) -> int:
    """Up to 9999: a digit before each unit; 零 is a reading aid."""
    total, digit = 0, None
    for ch in text:
        if ch == "零":
            continue
        if ch in DIGITS:
            assert digit is None, f"two digits in a row in {text!r}"
            digit = DIGITS.index(ch)
        elif ch in _UNIT:
            assert digit is not None, f"a unit without its digit in {text!r} (拾 keeps its 壹)"
            total, digit = total + digit * _UNIT[ch], None
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    return total + (digit or 0)


def _read_integer(text: str) -> int:
    if "亿" in text:
        high, _, low = text.rpartition("亿")
        return _read_integer(high) * 10**8 + (_read_integer(low) if low else 0)
    if "万" in text:
        high, _, low = text.partition("万")
        return _read_section(high) * 10**4 + (_read_section(low) if low else 0)
    return _read_section(text)


def read_capitals(words: str) -> Decimal:
    rest = words.removesuffix("整")
    yuan = 0
    if "元" in rest:
        head, _, rest = rest.partition("元")
        yuan = _read_integer(head)
    jiao = fen = 0
    rest = rest.removeprefix("零")
    if "角" in rest:
        head, _, rest = rest.partition("角")
        jiao = DIGITS.index(head)
    if "分" in rest:
        head, _, rest = rest.partition("分")
        fen = DIGITS.index(head)
    assert rest == "", f"left over {rest!r} in {words!r}"
    return D(yuan) + D(jiao) / 10 + D(fen) / 100


AMOUNTS = st.integers(min_value=1, max_value=999_999_999_999_999).map(lambda cents: D(cents) / 100)
# Amounts with long runs of zeros are where the 零 rules bite; draw them on purpose too.
SPARSE = st.lists(st.sampled_from("0000000123456789"), min_size=1, max_size=15).map(
    lambda digits: D(int("".join(digits)) or 1) / 100).filter(lambda a: a <= D("9999999999999.99"))


@given(st.one_of(AMOUNTS, SPARSE))
def test_every_amount_converts_and_reads_back(amount):
    # given any amount from 0.01 to 9,999,999,999,999.99
    # when it is written in capitals
    words = amount_in_words(amount)
    # then it reads back to the same amount
    assert read_capitals(words) == amount, words
    # and it is written the way banks write it
    assert "零零" not in words
    assert not words.startswith("零")
    for unit in "元万亿角":
        assert f"零{unit}" not in words, words
    assert words.endswith("分") != words.endswith("整")
    assert not words.endswith("分整")
    assert set(words) <= set(DIGITS) | set("拾佰仟万亿元角分整")
