"""Writing many new rows at once: rows built by a module's own create rules, inserted with
one executemany per table instead of the unit of work — an import writes thousands of
records a second this way.

What a flush would have done is done here too: the access checks of new rows run first
(:func:`gateway.access.enforcement.check_new_rows`, in SQL), every column gets its value
or its default, and decimals are rounded to their column's scale as PostgreSQL stores them
(:func:`as_stored`: a caller keeping the values it wrote — an import fingerprints them
for undo — keeps what a read would give). Record events are the caller's business
(:func:`gateway.events.record_changed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Numeric, func, inspect, select, text
from sqlalchemy.orm import Session

from gateway.access.enforcement import check_new_rows, created_in_transaction
from gateway.audit import trail as audit_trail

_MISSING = object()


_COLUMNS: dict[type[Any], tuple[tuple[str, Any, Decimal | None], ...]] = {}


def _columns(model: type[Any]) -> tuple[tuple[str, Any, Decimal | None], ...]:
    """(attribute, column, decimal quantum) of every column of ``model``'s own table."""
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = tuple(
            (prop.key, prop.columns[0], _quantum(prop.columns[0]))
            for prop in inspect(model).column_attrs
            if prop.columns[0].table is model.__table__
        )
    return found


def _quantum(column: Any) -> Decimal | None:
    kind = column.type
    if isinstance(kind, Numeric) and kind.asdecimal and kind.scale is not None:
        return Decimal(1).scaleb(-kind.scale)
    return None


def as_stored(model: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A new row of ``model`` as the database will hold it, by attribute: the values given,
    the column defaults for the others (an unset autoincrement key left out), decimals
    rounded half away from zero to the column's scale."""
    row: dict[str, Any] = {}
    for attr, column, quantum in _columns(model):
        value = values.get(attr, _MISSING)
        if value is _MISSING:
            if column.primary_key and column.autoincrement in (True, "auto"):
                continue
            default = column.default
            if default is None:
                value = None
            elif default.is_callable:
                value = default.arg(None)
            else:
                value = default.arg
        elif quantum is not None and isinstance(value, Decimal) and value.is_finite():
            value = value.quantize(quantum, ROUND_HALF_UP)
        row[attr] = value
    return row


def values_of(record: Any) -> dict[str, Any]:
    """The column values set on a new ORM instance (not in a session), by attribute."""
    state = record.__dict__
    return {attr: state[attr] for attr, _, _ in _columns(type(record)) if attr in state}


def _by_columns(model: type[Any], rows: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """Positions of ``rows`` grouped by the columns they set (one statement per group)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for position, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(position)
    return list(groups.values())


def _params(model: type[Any], row: Mapping[str, Any]) -> dict[str, Any]:
    names = {attr: column.key for attr, column, _ in _columns(model)}
    return {names[attr]: value for attr, value in row.items()}


def insert_records(
    session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert new records of ``model`` (rows from :func:`as_stored`) after the flush's access
    checks; their ids, in order. They count as created in this transaction."""
    if not rows:
        return []
    check_new_rows(session, model, rows)
    table = model.__table__
    connection = session.connection()
    ids = _new_ids(connection, table, len(rows))
    if ids is None:  # another database: RETURNING, in the rows' order
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        ids = [0] * len(rows)
        for positions in _by_columns(model, rows):
            params = [_params(model, rows[p]) for p in positions]
            returned = connection.execute(statement, params).scalars()
            for position, pk in zip(positions, returned, strict=True):
                ids[position] = pk
    else:
        key = table.c.id.key
        params = [{**_params(model, row), key: pk} for row, pk in zip(rows, ids, strict=True)]
        for positions in _by_columns(model, rows):
            connection.execute(table.insert(), [params[p] for p in positions])
    created_in_transaction(session, model, ids)
    registry = session.info.get("crm_registry")
    entity = registry.entity_of_model.get(model) if registry is not None else None
    if entity is not None:  # the flush's audit trail does not see these rows
        audit_trail.record_created(
            session, entity.entity, [{**row, "id": pk} for row, pk in zip(rows, ids, strict=True)]
        )
    return ids


def _new_ids(connection: Connection, table: Any, count: int) -> list[int] | None:
    """``count`` ids for new rows of ``table``, taken before the INSERT, which then needs no
    RETURNING: a plain executemany, far cheaper than an ordered many-row INSERT … RETURNING
    (SQLite sends that one row at a time; psycopg re-parses its huge text per batch).

    PostgreSQL: from the key's own sequence (concurrent writers get other numbers). SQLite:
    the ids SQLite itself would give — after the table's largest id and, for an AUTOINCREMENT
    table (:mod:`gateway.sqlite_ids`), after every id it ever gave (``sqlite_sequence``; an
    explicit id moves that counter on). SQLite has one writer at a time, and should another
    one insert meanwhile, the key makes this INSERT fail (rolled back), never mixes rows up.
    ``None`` elsewhere."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        found = connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.fullname, "column": table.c.id.name, "count": count},
        ).scalars()
        return sorted(found)
    if dialect == "sqlite":
        largest = connection.scalar(select(func.max(table.c.id))) or 0
        given = connection.scalar(
            text("SELECT max(seq) FROM sqlite_sequence WHERE name = :table"),
            {"table": table.name},
        )
        first = max(largest, given or 0) + 1
        return list(range(first, first + count))
    return None


def insert_rows(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert new dependent rows of ``model`` (emails, links…: no id wanted back) after the
    flush's access checks."""
    if not rows:
        return
    check_new_rows(session, model, rows)
    connection = session.connection()
    for positions in _by_columns(model, rows):
        connection.execute(model.__table__.insert(), [_params(model, rows[p]) for p in positions])
