"""How one statement's rows become response objects, shared by the list plan
(:mod:`gateway.shaping.plan`) and the by-id lookup (:mod:`gateway.shaping.node`): which
columns the statement reads, which models it outer-joins, which to-many relations it folds
in as JSON arrays, and the getters that turn a row into the selection's dicts.

Every joined to-one target is an alias of its own (``j1``, ``j2``…), so a model may be
joined several times and to itself (a contact's company is a contact). The target's
expressions are written against the model's table: they are adapted to the alias once, when
the plan is compiled (:class:`~sqlalchemy.sql.util.ClauseAdapter`). The caller's read
criteria, which change per request, are *built* against the alias instead
(:func:`alias_criteria`): adapting them cost a third of a nested page's CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import orjson
from sqlalchemy import Select, Text, and_, cast, func, inspect
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter

from gateway.access.binds import tenant_is
from gateway.access.enforcement import AccessContext
from gateway.access.named import NamedCriteria
from gateway.access.predicates import Mode, predicate
from gateway.graphql.shaped import Selected
from gateway.shaping.declare import Embedded, Entity, Scalar, ToMany, ToOne

Row = Any
Getter = Callable[[Row], Any]


class Criteria(Protocol):
    """What a statement asks of the caller: the dialect, and the read criteria of each model
    it reads — an ``AccessContext`` (the caller's values) or a
    :class:`~gateway.access.named.NamedCriteria` (named parameters, for a cached statement)."""

    dialect: str

    def read_criteria(self, model: type[Any]) -> Any: ...


class NotShaped(Exception):
    """The selection holds something the entity's declaration does not answer."""


class Columns:
    """A statement's columns, each selected once, addressed by position."""

    def __init__(self) -> None:
        self.expressions: list[Any] = []
        self._index: dict[int, int] = {}

    def positions(self, expressions: Sequence[Any]) -> tuple[int, ...]:
        found = []
        for expression in expressions:
            key = id(expression)
            if key not in self._index:
                self._index[key] = len(self.expressions)
                self.expressions.append(expression)
            found.append(self._index[key])
        return tuple(found)


def getter(positions: tuple[int, ...], scalar: Scalar) -> Getter:
    convert = scalar.convert
    if len(positions) == 1:
        (p,) = positions
        return lambda row: convert((row[p],))
    return lambda row: convert(tuple(row[p] for p in positions))


def constant(value: str) -> Getter:
    return lambda _row: value


def shape_object(getters: list[tuple[str, Getter]]) -> Getter:
    return lambda row: {k: g(row) for k, g in getters}


class ManyColumn:
    """A to-many relation's JSON column: its elements, and how to shape each item."""

    def __init__(self, relation: ToMany, selection: Selected) -> None:
        self.relation = relation
        elements = Columns()
        order_at = elements.positions(relation.order)
        getters: list[tuple[str, Getter]] = []
        for entry in selection.children:
            if entry.name == "__typename":
                getters.append((entry.key, constant(relation.type_name)))
                continue
            scalar = relation.fields.get(entry.name)
            if scalar is None or entry.children:
                raise NotShaped(entry.name)
            getters.append((entry.key, getter(elements.positions(scalar.expressions), scalar)))
        self.elements = tuple(elements.expressions)
        item = shape_object(getters)
        if len(order_at) == 1:
            (o,) = order_at
            self.shape: Callable[[Any], list[Any]] = lambda text: [
                item(i) for i in sorted(_items(text), key=lambda i: i[o])
            ]
        else:
            self.shape = lambda text: [
                item(i) for i in sorted(_items(text), key=lambda i: tuple(i[p] for p in order_at))
            ]

    def expression(self, access: Criteria) -> Any:
        """The JSON array as text (decoded by :func:`_items`, not by the driver)."""
        if access.dialect == "postgresql":
            aggregate: Any = cast(func.json_agg(func.json_build_array(*self.elements)), Text)
        else:
            aggregate = func.json_group_array(func.json_array(*self.elements), type_=Text)
        return self.relation.source(access).with_only_columns(aggregate).scalar_subquery()


def _items(text: str | None) -> Any:
    """A to-many column's JSON array. Read as text and decoded here with orjson: psycopg's
    own JSON loader (``json.loads``) was 5% of a 50-row contacts page. The elements are the
    declared scalars — text, booleans, dates, integer ids, numbers sent as text —, which
    orjson reads as ``json`` does (it differs only on integers beyond 64 bits)."""
    return orjson.loads(text) if text is not None else ()


class Join:
    """A to-one target under an alias of its own: the ON condition (without the caller's
    criteria) and the model's expressions adapted to the alias, each adapted once."""

    def __init__(self, model: Any, alias: Any, on: Any) -> None:
        self.model = model
        self.alias = alias
        self.selectable = inspect(alias).selectable
        self.on = on
        self._adapter = ClauseAdapter(self.selectable)
        self._adapted: dict[int, Any] = {}

    def adapt(self, expression: Any) -> Any:
        key = id(expression)
        found = self._adapted.get(key)
        if found is None:
            clause = getattr(expression, "__clause_element__", lambda: expression)()
            found = self._adapted[key] = self._adapter.traverse(clause)
        return found

    def condition(self, access: Criteria) -> Any:
        """The ON clause: the relation, and the caller's read criteria on the alias."""
        return and_(self.on, alias_criteria(access, self.model, self.alias))


def alias_criteria(criteria: Criteria, model: Any, alias: Any) -> Any:
    """``criteria.read_criteria(model)``, written against ``alias``: the visibility predicate
    of an access-controlled entity (built for the alias: the predicate reads the entity's
    columns by attribute), the tenant for other tenant models; with the caller's values, or
    as named parameters when ``criteria`` is a :class:`NamedCriteria`."""
    if isinstance(criteria, NamedCriteria):
        access, named = criteria.access, True
    else:
        assert isinstance(criteria, AccessContext)
        access, named = criteria, False
    entity = access.registry.entity_of_model.get(model)
    if entity is None:
        return tenant_is(alias, access.scope, named)
    if isinstance(criteria, NamedCriteria) and entity.entity not in criteria.consulted:
        criteria.consulted.append(entity.entity)  # the cached statement's shape covers it
    on_alias = replace(entity, model=alias)
    return predicate(
        access.scope, access.registry, on_alias, Mode.READ, access.dialect, named=named
    )


class Shaper:
    """Compiles an entity's selection into columns, joins and getters (see the module
    docstring). ``full_access``: whether ``@fullAccess`` fields may be selected (by-id
    lookups, which read the caller's full access in the same statement)."""

    def __init__(self, entity: Entity, *, full_access: bool = False) -> None:
        self.entity = entity
        self.columns = Columns()
        self.joins: list[Join] = []
        self.many: list[tuple[int, ManyColumn]] = []
        self.allows_full_access = full_access
        self.reads_full_access = False

    def object_getter(self, entity: Entity, selection: Selected, frame: Join | None) -> Getter:
        """The getter of one object of ``entity``: the statement's own row (``frame`` None)
        or a joined alias."""
        getters: list[tuple[str, Getter]] = []
        for entry in selection.children:
            name = entry.name
            if name == "__typename":
                getters.append((entry.key, constant(entity.type_name)))
            elif name in entity.fields and not entry.children:
                getters.append((entry.key, self.scalar(entity.fields[name], frame)))
            elif name in entity.relations:
                getters.append((entry.key, self.relation(entity.relations[name], entry, frame)))
            elif name in entity.full_access and not entry.children:
                if not self.allows_full_access or frame is not None:
                    raise NotShaped(name)  # a per-record check: the general path
                self.reads_full_access = True
                getters.append((entry.key, self.scalar(entity.full_access[name], None)))
            else:
                raise NotShaped(name)
        return shape_object(getters)

    def scalar(self, scalar: Scalar, frame: Join | None) -> Getter:
        expressions = scalar.expressions
        if frame is not None:
            expressions = tuple(frame.adapt(e) for e in expressions)
        return getter(self.columns.positions(expressions), scalar)

    def relation(self, relation: Any, entry: Selected, frame: Join | None) -> Getter:
        if isinstance(relation, Embedded):
            getters = []
            for part in entry.children:
                if part.name == "__typename":
                    getters.append((part.key, constant(relation.type_name)))
                elif part.name in relation.fields and not part.children:
                    getters.append((part.key, self.scalar(relation.fields[part.name], frame)))
                else:
                    raise NotShaped(part.name)
            return shape_object(getters)
        if isinstance(relation, ToOne):
            return self._to_one(relation, entry, frame)
        assert isinstance(relation, ToMany)
        if frame is not None:
            raise NotShaped(entry.name)  # its source correlates with the listed model
        many = ManyColumn(relation, entry)
        at = len(self.columns.expressions)
        self.columns.expressions.append(many)  # replaced by its expression per statement
        self.many.append((at, many))
        shape_items = many.shape
        return lambda row: shape_items(row[at])

    def _to_one(self, relation: ToOne, entry: Selected, frame: Join | None) -> Getter:
        target = relation.target
        alias = aliased(target.model, name=f"j{len(self.joins) + 1}")
        source = frame.alias if frame is not None else self.entity.model
        join = Join(target.model, alias, relation.on(source, alias))
        self.joins.append(join)  # before its own joins: their ON names this alias
        present_at = self.columns.positions((join.adapt(target.model.id),))[0]
        shape = self.object_getter(target, entry, join)
        return lambda row: shape(row) if row[present_at] is not None else None

    def expressions(self, access: Criteria) -> list[Any]:
        """The columns, the JSON aggregates built with the caller's criteria."""
        expressions = list(self.columns.expressions)
        for at, many in self.many:
            expressions[at] = many.expression(access)
        return expressions

    def joined(self, stmt: Select[Any], access: Criteria) -> Select[Any]:
        """``stmt`` reading from the entity's table and its outer joins, each with the
        caller's read criteria in its ON."""
        if not self.joins:
            return stmt
        # An explicit chain from the listed model: the criteria in an ON clause may name
        # other tables, which would make an implicit left side ambiguous.
        joined: Any = self.entity.model.__table__
        for join in self.joins:
            joined = joined.outerjoin(join.selectable, join.condition(access))
        return stmt.select_from(joined)


def compiled(
    plans: dict[Any, Any], key: Any, compile: Callable[[], Shaper], most: int = 512
) -> Any:
    """``plans[key]``, else ``compile()`` kept there (``None`` when the selection is not
    shaped: the general path answers it). Selections repeat, so most requests find theirs;
    bounded, so that an unbounded variety of selections cannot grow it."""
    try:
        return plans[key]
    except KeyError:
        pass
    try:
        plan: Shaper | None = compile()
    except NotShaped:
        plan = None
    if len(plans) >= most:
        plans.clear()
    plans[key] = plan
    return plan
