"""core.money: the one grammar of amounts written by people and platforms."""
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidAmount
from core.money import MAX_AMOUNT, MoneyFormField, parse_amount
from tests.api.strategies import hostile_amounts

BANK_GRAMMAR = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


@given(st.text(max_size=20))
def test_only_what_a_bank_books_is_accepted(text):
    """Whatever the text, parse_amount accepts it only if it is ASCII digits with at most two decimals."""
    try:
        value = parse_amount(text)
    except InvalidAmount:
        return
    assert BANK_GRAMMAR.fullmatch(text), text
    assert value == Decimal(text) and Decimal("0.01") <= value <= MAX_AMOUNT


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_every_amount_in_range_reads_back_exactly(value):
    assert parse_amount(format(value, "f")) == value
    assert parse_amount(value) == value


@given(hostile_amounts)
def test_hostile_spellings_are_refused(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text, allow_zero=True)


@pytest.mark.parametrize("value", [Decimal("-0.00"), Decimal("-1"), Decimal("NaN"), Decimal("1.005"), 1, 1.5, None])
def test_internal_values_keep_the_grammar(value):
    with pytest.raises(InvalidAmount):
        parse_amount(value, allow_zero=True)


def test_zero_only_where_allowed():
    assert parse_amount("0.00", allow_zero=True) == Decimal("0.00")
    with pytest.raises(InvalidAmount):
        parse_amount("0.00")


@pytest.mark.parametrize("typed, ok", [("1250.00", True), ("1250", True), ("１２５０.００", False), (" 1250.00", False),
                                       ("1,250.00", False), ("+1250", False), ("-0.00", False), ("1250.001", False)])
def test_admin_form_fields_read_amounts_with_the_same_grammar(typed, ok):
    field = MoneyFormField(allow_zero=True)
    if ok:
        assert field.clean(typed) == Decimal(typed)
    else:
        with pytest.raises(Exception) as err:
            field.clean(typed)
        assert err.value.code == "invalid_amount"


def test_model_forms_of_money_fields_use_the_strict_form_field():
    from credit.models import CreditApplication

    field = CreditApplication._meta.get_field("proposed_limit").formfield()
    assert isinstance(field, MoneyFormField)
    assert field.widget.attrs["inputmode"] == "decimal"
