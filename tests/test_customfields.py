"""The kernel's custom-field values: coercion refuses what cannot be stored, and numbers
print in plain notation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from gateway.customfields import FieldType, coerce, plain_decimal
from gateway.errors import BadUserInput


@dataclass
class _Def:
    type: FieldType
    key: str = "k"
    label: str = "K"
    required: bool = False
    id: int = 1
    choices: str = "a\nb"

    @property
    def choice_list(self) -> list[str]:
        return self.choices.split("\n")


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-inf", "1e999999", "1e12", "x", ""])
def test_numbers_must_be_finite_and_fit_the_column(raw):
    with pytest.raises(BadUserInput) as err:
        coerce(_Def(FieldType.NUMBER), raw, "customFields")
    assert err.value.field == "customFields"


@pytest.mark.parametrize(
    ("kind", "raw", "typed"),
    [
        (FieldType.NUMBER, "12.50", Decimal("12.50")),
        (FieldType.BOOLEAN, "TRUE", True),
        (FieldType.CHOICE, "b", "b"),
        (FieldType.TEXT, "x" * 500, "x" * 500),
    ],
)
def test_valid_values_are_typed(kind, raw, typed):
    assert coerce(_Def(kind), raw, "customFields") == typed


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (FieldType.BOOLEAN, "yes"),
        (FieldType.CHOICE, "c"),
        (FieldType.TEXT, "x" * 501),
        (FieldType.DATE, "9999-99-99"),
    ],
)
def test_invalid_values_are_bad_user_input(kind, raw):
    with pytest.raises(BadUserInput):
        coerce(_Def(kind), raw, "customFields")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("10", "10"),
        ("10.000000", "10"),
        ("1E+1", "10"),
        ("0.50", "0.5"),
        ("0", "0"),
        ("-0.000100", "-0.0001"),
        ("123456789012.5", "123456789012.5"),
    ],
)
def test_decimals_print_in_plain_notation(value, text):
    assert plain_decimal(Decimal(value)) == text
