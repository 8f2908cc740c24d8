"""core.names: one name comparison for card account names and statement payers."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.names import name_key, same_name

names = st.text(alphabet=st.sampled_from(list("李雷韩梅有限公司科技ABCabc() ·-&.0123")), min_size=1, max_size=20)
whitespace = st.sampled_from([" ", "\u3000", "\t", "\u00a0", "\n"])


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ("\u3000" if ch == " " else ch) for ch in text)


@given(names, names)
def test_symmetric(a, b):
    assert same_name(a, b) == same_name(b, a)


@given(names, st.lists(st.tuples(st.integers(0, 20), whitespace), max_size=4))
def test_whitespace_anywhere_does_not_matter(name, inserts):
    spaced = name
    for at, ws in inserts:
        spaced = spaced[:at] + ws + spaced[at:]
    assert name_key(spaced) == name_key(name)


@given(names)
def test_full_width_forms_and_case_do_not_matter(name):
    assert name_key(full_width(name)) == name_key(name) == name_key(name.upper())


@pytest.mark.parametrize("a, b", [("杭州云集（科技）有限公司", "杭州云集(科技)有限公司"), ("阿卜杜・艾力", "阿卜杜·艾力"),
                                  ("ＡＣＭＥ　Ｔｒａｄｉｎｇ", "acme trading"), ("Li  Lei", "li lei")])
def test_the_forms_banks_and_platforms_write_match(a, b):
    assert same_name(a, b)


@pytest.mark.parametrize("a, b", [("", ""), ("   ", "  "), (None, None), ("李雷", "李雷雷"), ("韩梅梅", "韩梅")])
def test_empty_or_different_names_never_match(a, b):
    assert not same_name(a, b)


def test_the_card_check_and_the_statement_matcher_share_it():
    import merchants.services.members
    import reconciliation.services.money_in

    assert merchants.services.members.same_name is reconciliation.services.money_in.same_name is same_name
