"""The built-in scalars, validated at the edge: a value that could crash a resolver or the
database never reaches one.

Strawberry's own ``Date``, ``DateTime`` and ``Decimal`` accept naive date-times, year 9999,
``NaN``, ``Infinity`` and ``1e999999999``; these replace them under the same names (the
published SDL does not change) and refuse such values with ``BAD_USER_INPUT``:

- ``DateTime`` needs a timezone (``Z`` or an offset): a naive value would be read in
  whichever zone the server happens to run, so it is refused, never guessed. Years 1900 to
  2999 only (date arithmetic on year 9999 overflows).
- ``Date``: ISO ``YYYY-MM-DD``, years 1900 to 2999.
- ``Decimal``: plain or exponent notation of a finite number below 10^30 with at most 30
  decimals (no ``NaN``, no ``Infinity``, no absurd exponents).

Integers are GraphQL's 32-bit ``Int``; IDs are checked as text (see ``input_checks``) and
their integers by :func:`gateway.graphql.common.parse_global_id`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import dateutil.parser
from graphql import FloatValueNode, GraphQLError, IntValueNode, StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition, scalar

from gateway.errors import ErrorCode
from gateway.graphql.common import shown

#: Dates (and date-times) outside these years are typing mistakes, and beyond them date
#: arithmetic (a due date 30 days after 9999-12-31) overflows.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
#: A decimal's magnitude is below 10^MAX_DECIMAL_DIGITS and it has at most that many decimals.
MAX_DECIMAL_DIGITS = 30
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_SCALAR_TEXT = 64


class InvalidValue(GraphQLError):
    """A value its scalar refuses: ``BAD_USER_INPUT`` (the input check adds the field)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": ErrorCode.BAD_USER_INPUT.value})


def _text_of(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"a {what} is written as text such as {_EXAMPLES[what]}")
    if len(value) > _MAX_SCALAR_TEXT:
        raise InvalidValue(f"{shown(value)} is not a {what} such as {_EXAMPLES[what]}")
    return value


def _in_range(day: dt.date, what: str, value: object) -> None:
    if not MIN_DATE <= day <= MAX_DATE:
        raise InvalidValue(
            f"{shown(value)} is out of range: a {what} from {MIN_DATE.year} to {MAX_DATE.year}"
        )


def parse_date(value: object) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) within :data:`MIN_DATE` and :data:`MAX_DATE`."""
    text = _text_of(value, "Date")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{shown(value)} is not a date such as 2026-01-31") from None
    _in_range(day, "date", value)
    return day


def parse_datetime(value: object) -> dt.datetime:
    """An ISO 8601 date-time *with* a timezone, within the years of :data:`MIN_DATE` and
    :data:`MAX_DATE`; naive values are refused, never read in the server's zone."""
    text = _text_of(value, "DateTime")
    try:
        moment = dateutil.parser.isoparse(text)
    except (ValueError, OverflowError):
        raise InvalidValue(
            f"{shown(value)} is not a date-time such as 2026-01-31T09:30:00Z"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue(
            f"{shown(value)} has no timezone: add Z (UTC) or an offset such as +01:00"
        )
    _in_range(moment.date(), "date-time", value)
    return moment


def parse_decimal(value: object) -> Decimal:
    """A finite decimal in plain or exponent notation, below 10^30 with at most 30 decimals.

    JSON numbers are accepted too (a float through its shortest text), never booleans.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValue(f"a Decimal is written as text such as {_EXAMPLES['Decimal']}")
    text = value if isinstance(value, str) else str(value)
    if len(text) > 2 * MAX_DECIMAL_DIGITS + 10 or not _DECIMAL.fullmatch(text):
        raise InvalidValue(f"{shown(value)} is not a decimal number such as 12.50")
    try:
        number = Decimal(text)
        exponent = int(number.as_tuple().exponent)  # finite: the pattern admits no NaN
        too_big = bool(number) and number.adjusted() >= MAX_DECIMAL_DIGITS
    except (InvalidOperation, ValueError):
        too_big, exponent = True, 0
    if too_big or not -MAX_DECIMAL_DIGITS <= exponent <= MAX_DECIMAL_DIGITS:
        raise InvalidValue(
            f"{shown(value)} is out of range: below 10^{MAX_DECIMAL_DIGITS} "
            f"with at most {MAX_DECIMAL_DIGITS} decimals"
        )
    return number


def finite_decimal(text: str) -> Decimal:
    """:func:`parse_decimal` for numbers held in text (custom fields): ``ValueError`` with
    the reason when refused."""
    try:
        return parse_decimal(text)
    except InvalidValue as exc:
        raise ValueError(exc.message) from None


def _literal(parse: Any, *kinds: type[StringValueNode | IntValueNode | FloatValueNode]) -> Any:
    """A ``parse_literal`` reading the literal's own text (no float rounding on the way)."""

    def parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Any:
        if not isinstance(node, kinds):
            raise InvalidValue(f"expected a {kinds[0].__name__.removesuffix('ValueNode')}")
        return parse(node.value)

    return parse_literal


_EXAMPLES = {"Date": '"2026-01-31"', "DateTime": '"2026-01-31T09:30:00Z"', "Decimal": '"12.50"'}


def _iso(value: Any) -> str:
    return value.isoformat()


def _plain(value: Decimal) -> str:
    """Fixed-point text, never exponent form: ``Decimal("1E+1")`` (what ``normalize()``
    makes of 10) is "10", not "1E+1"; trailing zeros a value carries stay ("12.50")."""
    return format(value, "f")


#: ``StrawberryConfig(scalar_map=SCALARS)``: the same names and descriptions as Strawberry's.
SCALARS: dict[object, ScalarDefinition] = {
    dt.date: scalar(
        name="Date",
        description="Date (isoformat)",
        serialize=_iso,
        parse_value=parse_date,
        parse_literal=_literal(parse_date, StringValueNode),
    ),
    dt.datetime: scalar(
        name="DateTime",
        description="Date with time (isoformat)",
        serialize=_iso,
        parse_value=parse_datetime,
        parse_literal=_literal(parse_datetime, StringValueNode),
    ),
    Decimal: scalar(
        name="Decimal",
        description="Decimal (fixed-point)",
        serialize=_plain,
        parse_value=parse_decimal,
        parse_literal=_literal(parse_decimal, StringValueNode, IntValueNode, FloatValueNode),
    ),
}
