"""Custom fields, for any module's entity: admin-defined extra fields with typed values.

A module gets custom fields on an entity with two small models — a definition table
(:class:`CustomFieldColumns`) and a value table (:class:`CustomValueColumns`, plus the
foreign keys to its record and definition) — and the functions below, which validate,
store, filter and print the values the same way for every entity. Values are stored in a
typed column (text, number, date, boolean) so filters and sorts run in SQL.

The API takes and gives values as text: numbers in plain notation, dates ``YYYY-MM-DD``,
``true``/``false``, a CHOICE's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ForeignKey, Numeric, String, Text, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.db import str_enum
from gateway.errors import BadUserInput

#: The longest TEXT value (the value table's text column).
MAX_TEXT = 500
#: NUMBER values are stored as NUMERIC(18, 6).
MAX_NUMBER = Decimal("1e12")


class FieldType(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"


class CustomFieldColumns:
    """Columns of a custom field definition table (mix into a model with a ``__tablename__``
    and a unique constraint on ``(tenant_id, key)``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType))
    #: Allowed values of a CHOICE field, separated by newlines.
    choices: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    @property
    def choice_list(self) -> list[str]:
        return [c for c in self.choices.split("\n") if c]


class CustomValueColumns:
    """Typed value columns of a custom value table (mix into a model that adds the record's
    and the definition's foreign keys as its primary key, and a ``field`` relationship)."""

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    value_text: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    value_date: Mapped[date | None]
    value_bool: Mapped[bool | None]


class Definition(Protocol):
    id: int
    key: str
    label: str
    type: FieldType
    required: bool

    @property
    def choice_list(self) -> list[str]: ...


class Value(Protocol):
    field: Any
    field_id: int
    value_text: str | None
    value_number: Decimal | None
    value_date: date | None
    value_bool: bool | None


def definitions(session: Session, model: type[Any]) -> dict[str, Any]:
    """The tenant's definitions of ``model`` by key, in display order (the session's tenant
    filter applies)."""
    return {f.key: f for f in session.scalars(select(model).order_by(model.position))}


def coerce(definition: Definition, raw: str, where: str) -> Any:
    """The typed value of ``raw`` for ``definition``; BAD_USER_INPUT naming ``where``."""
    try:
        match definition.type:
            case FieldType.NUMBER:
                number = Decimal(raw.strip())
                if not number.is_finite() or abs(number) >= MAX_NUMBER:
                    raise ValueError("not a finite number in range")
                return number
            case FieldType.DATE:
                return date.fromisoformat(raw)
            case FieldType.BOOLEAN:
                if raw.lower() not in ("true", "false"):
                    raise ValueError(raw)
                return raw.lower() == "true"
            case FieldType.CHOICE:
                if raw not in definition.choice_list:
                    raise ValueError(raw)
                return raw
            case _:
                if len(raw) > MAX_TEXT:
                    raise ValueError("too long")
                return raw
    except (ValueError, InvalidOperation, ArithmeticError) as exc:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise BadUserInput(
            f"{shown!r} is not a valid {definition.type.value.lower()} for {definition.key!r}",
            field=where,
        ) from exc


def value_column(value_model: type[Any], definition: Definition) -> Any:
    """The typed column holding ``definition``'s values in ``value_model``."""
    return {
        FieldType.TEXT: value_model.value_text,
        FieldType.CHOICE: value_model.value_text,
        FieldType.NUMBER: value_model.value_number,
        FieldType.DATE: value_model.value_date,
        FieldType.BOOLEAN: value_model.value_bool,
    }[definition.type]


def apply(
    values: list[Any],
    given: Mapping[str, str | None],
    known: Mapping[str, Any],
    new_value: Callable[[Any], Any],
    where: str = "customFields",
) -> None:
    """Set the custom values ``given`` (key → text; null or empty clears) on a record's
    ``values`` collection; ``new_value(definition)`` makes a value row for a new key."""
    current = {cv.field.key: cv for cv in values}
    for key, raw in given.items():
        definition = known.get(key)
        if definition is None:
            raise BadUserInput(f"no custom field {key!r}", field=where)
        if raw is None or raw == "":
            if definition.required:
                raise BadUserInput(f"{definition.label} is required", field=where)
            if key in current:
                values.remove(current[key])
            continue
        typed = coerce(definition, raw, where)
        row = current.get(key)
        if row is None:
            row = new_value(definition)
            values.append(row)
        row.value_text = typed if definition.type in (FieldType.TEXT, FieldType.CHOICE) else None
        row.value_number = typed if definition.type is FieldType.NUMBER else None
        row.value_date = typed if definition.type is FieldType.DATE else None
        row.value_bool = typed if definition.type is FieldType.BOOLEAN else None


def check_required(
    values: list[Any], known: Mapping[str, Any], where: str = "customFields"
) -> None:
    """BAD_USER_INPUT when a required field has no value (creating a record)."""
    present = {cv.field_id for cv in values}
    for definition in known.values():
        if definition.required and definition.id not in present:
            raise BadUserInput(f"{definition.label} is required", field=where)


def matches(
    value_model: type[Any],
    record_fk: Any,
    record_id: Any,
    definition: Definition,
    *,
    equals: str | None = None,
    low: str | None = None,
    high: str | None = None,
    where: str = "filter.customFields",
) -> Any:
    """SQL: the record has a value of ``definition`` equal to / within the bounds given."""
    column = value_column(value_model, definition)
    parts = [record_fk == record_id, value_model.field_id == definition.id]
    if equals is not None:
        parts.append(column == coerce(definition, equals, where))
    if low is not None:
        parts.append(column >= coerce(definition, low, where))
    if high is not None:
        parts.append(column <= coerce(definition, high, where))
    return exists().where(*parts)


def as_text(cv: Value) -> str | None:
    """A stored value as the text the API takes and gives (numbers never in exponent form)."""
    for value in (cv.value_text, cv.value_number, cv.value_date, cv.value_bool):
        if value is None:
            continue
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return plain_decimal(value)
        return value.isoformat() if isinstance(value, date) else str(value)
    return None


def plain_decimal(value: Decimal) -> str:
    """``Decimal`` in plain notation without trailing zeros: 10.000000 → "10", 0.50 → "0.5"
    (``normalize()`` alone prints 10 as "1E+1")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
