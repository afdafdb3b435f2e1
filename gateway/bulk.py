"""Writing many new rows at once: objects built by a module's own create rules (transient
ORM instances, never added to the session), inserted with one executemany per table instead
of the unit of work — an import writes thousands of records a second this way.

What the unit of work would have done is done here too: every column gets its value or
its default (set on the object as well, so what the object holds is what was written — an
import fingerprints it without reading it back), decimals are rounded to their column's
scale as PostgreSQL stores them, and the access checks of a flush run first
(:func:`gateway.access.enforcement.check_new_rows`, in SQL). Record events are the
caller's business (:func:`gateway.events.fire`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Numeric, inspect
from sqlalchemy.orm import Session

from gateway.access.enforcement import check_new_rows, created_in_transaction

_MISSING = object()


@lru_cache(maxsize=None)
def _columns(model: type[Any]) -> tuple[tuple[str, Any, Decimal | None], ...]:
    """(attribute, column, decimal quantum) of every column a row of ``model`` carries."""
    return tuple(
        (prop.key, prop.columns[0], _quantum(prop.columns[0]))
        for prop in inspect(model).column_attrs
        if prop.columns[0].table is model.__table__
    )


def _quantum(column: Any) -> Decimal | None:
    kind = column.type
    if isinstance(kind, Numeric) and kind.asdecimal and kind.scale is not None:
        return Decimal(1).scaleb(-kind.scale)
    return None


def row_values(obj: Any, *, skip_key: bool) -> dict[str, Any]:
    """``obj``'s row as the database will hold it: set values, else the column defaults
    (also set on ``obj``); ``skip_key``: leave out an unset autoincrement primary key."""
    state = obj.__dict__
    values: dict[str, Any] = {}
    for attr, column, quantum in _columns(type(obj)):
        value = state.get(attr, _MISSING)
        if value is _MISSING:
            if skip_key and column.primary_key and column.autoincrement in (True, "auto"):
                continue
            default = column.default
            if default is None:
                value = None
            elif default.is_callable:
                value = default.arg(None)
            else:
                value = default.arg
            setattr(obj, attr, value)
        elif quantum is not None and isinstance(value, Decimal) and value.is_finite():
            rounded = value.quantize(quantum, ROUND_HALF_UP)
            if rounded != value or rounded.as_tuple() != value.as_tuple():
                value = rounded
                setattr(obj, attr, value)
        values[column.key] = value
    return values


def insert_records(session: Session, records: Sequence[Any]) -> list[int]:
    """Insert new records of one model (in order; ids set on them and returned), after the
    flush's access checks; they count as created in this transaction."""
    if not records:
        return []
    model = type(records[0])
    check_new_rows(session, records)
    rows = [row_values(r, skip_key=True) for r in records]
    table = model.__table__
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    connection = session.connection()
    ids: list[int] = []
    # one statement per set of columns (rows that set the key themselves go apart)
    for keys in dict.fromkeys(tuple(row) for row in rows):
        group = [row for row in rows if tuple(row) == keys]
        ids_of_group = list(connection.execute(statement, group).scalars())
        ids.extend(ids_of_group)
    if len(dict.fromkeys(tuple(row) for row in rows)) > 1:
        ids = _in_order(rows, ids)
    for record, pk in zip(records, ids, strict=True):
        record.id = pk
    created_in_transaction(session, model, ids)
    return ids


def _in_order(rows: list[dict[str, Any]], grouped: list[int]) -> list[int]:
    """The ids of rows inserted group by group, back in the rows' own order."""
    order: list[int] = []
    for keys in dict.fromkeys(tuple(row) for row in rows):
        order.extend(i for i, row in enumerate(rows) if tuple(row) == keys)
    ids = [0] * len(rows)
    for position, pk in zip(order, grouped, strict=True):
        ids[position] = pk
    return ids


def insert_rows(session: Session, rows: Sequence[Any]) -> None:
    """Insert new dependent rows (emails, links…: no id wanted back), after the flush's
    access checks, one executemany per model."""
    if not rows:
        return
    check_new_rows(session, rows)
    by_model: dict[type[Any], list[dict[str, Any]]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row_values(row, skip_key=True))
    connection = session.connection()
    for model, values in by_model.items():
        for keys in dict.fromkeys(tuple(v) for v in values):
            group = [v for v in values if tuple(v) == keys]
            connection.execute(model.__table__.insert(), group)
