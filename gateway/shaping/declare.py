"""What a module declares to put an entity's list on the fast path: each plain field as the
SQL expressions it reads and how their values become the response value (as graphql-core
would serialise them), and each relation as a join (to-one), a nested object of the same
row (embedded) or a JSON aggregate folded into the page statement (to-many).

A module derives most fields from its declared field table (:func:`table_fields`: the
attribute behind each GraphQL field, its converter chosen by the column's type) and adds
the few computed ones by hand. A field it does not declare is simply not shaped: a
selection naming it takes the general path, which stays the reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Enum as SAEnum
from sqlalchemy import Select

from gateway.contract import AccessLevel
from gateway.graphql.common import global_id

Convert = Callable[[tuple[Any, ...]], Any]


@dataclass(frozen=True, eq=False)
class Scalar:
    """A leaf field: the SQL expressions it reads, and their values → the response value."""

    expressions: tuple[Any, ...]
    convert: Convert


@dataclass(frozen=True, eq=False)
class Entity:
    """A GraphQL object type answered from one model's row (``model.id`` its key)."""

    type_name: str
    model: Any
    fields: Mapping[str, Scalar]
    relations: Mapping[str, Relation] = field(default_factory=dict)
    #: ``@fullAccess`` fields: answered only by a by-id lookup (:mod:`gateway.shaping.node`),
    #: which reads the caller's full access to the record in the same statement.
    full_access: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ToOne:
    """A nullable relation to another entity, outer-joined with the caller's read criteria
    on it (an invisible or missing target reads as ``null``, as on the general path).

    ``on(source, target)`` is the join condition, written against the two sides as given:
    the model or an alias of it (each joined target is an alias of its own, so a model may
    be joined several times, itself included: a contact's company is a contact). The
    target's fields, embedded and to-one relations are shaped, to any depth; to-many ones
    only on the listed entity."""

    target: Entity
    on: Callable[[Any, Any], Any]


@dataclass(frozen=True, eq=False)
class Embedded:
    """A non-null object made of the row's own columns (``Opportunity.budget``)."""

    type_name: str
    fields: Mapping[str, Scalar]


@dataclass(frozen=True, eq=False)
class ToMany:
    """A list of rows of other tables, folded into the page statement as one JSON array per
    row. ``source(access)`` is the correlated ``SELECT`` (no columns) with the caller's
    criteria on every table it reads; each field's expressions become JSON array elements
    (so converters see JSON values: numbers, strings, 0/1 or booleans); the items come in the
    order of ``order`` (expressions, ascending), sorted after decoding."""

    type_name: str
    fields: Mapping[str, Scalar]
    source: Callable[[Any], Select[Any]]
    order: tuple[Any, ...]


Relation = ToOne | Embedded | ToMany


def _same(v: tuple[Any, ...]) -> Any:
    return v[0]


def _name(v: tuple[Any, ...]) -> Any:
    return v[0].name if v[0] is not None else None


def _iso(v: tuple[Any, ...]) -> Any:
    return v[0].isoformat() if v[0] is not None else None


def _decimal(v: tuple[Any, ...]) -> Any:
    return format(v[0], "f") if v[0] is not None else None


def _access(v: tuple[Any, ...]) -> Any:
    return AccessLevel(v[0]).name


def column(expression: Any) -> Scalar:
    """A column as GraphQL serialises it: enums by name, dates and times in ISO 8601,
    decimals in fixed-point text (as the ``Decimal`` scalar), the rest as read."""
    sql_type = expression.type
    if isinstance(sql_type, SAEnum) and sql_type.enum_class is not None:
        return Scalar((expression,), _name)
    python: Any
    try:
        python = sql_type.python_type
    except NotImplementedError:
        python = object
    if issubclass(python, dt.date):
        return Scalar((expression,), _iso)
    if issubclass(python, Decimal):
        return Scalar((expression,), _decimal)
    if issubclass(python, Enum):
        return Scalar((expression,), _name)
    return Scalar((expression,), _same)


def access_level(expression: Any) -> Scalar:
    """An ``access`` column (stored as the level's value) as the ``AccessLevel`` enum."""
    return Scalar((expression,), _access)


def node_id(type_name: str, expression: Any) -> Scalar:
    """A Relay global ID (``None`` stays ``None``)."""
    return Scalar((expression,), lambda v: global_id(type_name, v[0]) if v[0] is not None else None)


def typed(expressions: tuple[Any, ...], convert: Convert) -> Scalar:
    return Scalar(expressions, convert)


def table_fields(
    model: Any, table: Iterable[Any], *, skip: Iterable[str] = ()
) -> dict[str, Scalar]:
    """Scalar fields derived from a declared field table (rows with ``name`` and ``attr``):
    each row whose attribute is a plain column of ``model`` (references and lists are
    relations, declared apart; rows needing full access are left out; ``skip`` names rows
    whose GraphQL field is not the column as is, e.g. address parts shown under ``address``)."""
    skipped = set(skip)
    columns = model.__table__.columns
    out: dict[str, Scalar] = {}
    for row in table:
        if row.name in skipped or not row.attr or row.attr not in columns:
            continue
        if getattr(row, "full_access", False):
            continue  # @fullAccess fields check each record: the general path
        if columns[row.attr].foreign_keys:
            continue
        expression = getattr(model, row.attr)
        out[row.name] = access_level(expression) if row.attr == "access" else column(expression)
    return out
