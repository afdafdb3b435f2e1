"""A list selection compiled against an :class:`~gateway.shaping.declare.Entity`: which
columns the page statement reads, which models it joins, which to-many relations it folds in
as JSON arrays, and how each row becomes the response's dicts.

A plan depends on the selection's shape and the sort only, never on the caller, so it is
compiled once and reused (:func:`plan_for`); the caller's criteria are written into the
statement (:meth:`ListPlan.statement`) — with their values for a filtered page, as named
parameters for a plain one, whose statement is then kept on the plan per scope shape
(:mod:`gateway.shaping.statements`). One statement reads a page: to-one
relations are outer joins, to-many relations correlated JSON aggregates (PostgreSQL
``json_agg``, SQLite ``json_group_array``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import JSON, Select, and_, func

from gateway.graphql.shaped import Selected
from gateway.shaping.declare import Embedded, Entity, Scalar, ToMany, ToOne

Row = Any
Getter = Callable[[Row], Any]

CONNECTION_FIELDS = frozenset({"edges", "pageInfo", "totalCount", "__typename"})
EDGE_FIELDS = frozenset({"cursor", "node", "__typename"})
PAGE_INFO_FIELDS = frozenset(
    {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
)


class Criteria(Protocol):
    """What a plan's statement asks of the caller: the dialect, and the read criteria of
    each model it reads — an ``AccessContext`` (the caller's values) or a
    ``gateway.access.named.NamedCriteria`` (named parameters, for a cached statement)."""

    dialect: str

    def read_criteria(self, model: type[Any]) -> Any: ...


class NotShaped(Exception):
    """The selection holds something the entity's declaration does not answer."""


class _Columns:
    """The page statement's columns, each selected once, addressed by position."""

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


def _getter(positions: tuple[int, ...], scalar: Scalar) -> Getter:
    convert = scalar.convert
    if len(positions) == 1:
        (p,) = positions
        return lambda row: convert((row[p],))
    return lambda row: convert(tuple(row[p] for p in positions))


def _constant(value: str) -> Getter:
    return lambda _row: value


def _object(getters: list[tuple[str, Getter]]) -> Getter:
    return lambda row: {k: g(row) for k, g in getters}


class _ManyColumn:
    """A to-many relation's JSON column: its elements, and how to shape each item."""

    def __init__(self, relation: ToMany, selection: Selected) -> None:
        self.relation = relation
        elements = _Columns()
        order_at = elements.positions(relation.order)
        getters: list[tuple[str, Getter]] = []
        for entry in selection.children:
            if entry.name == "__typename":
                getters.append((entry.key, _constant(relation.type_name)))
                continue
            scalar = relation.fields.get(entry.name)
            if scalar is None or entry.children:
                raise NotShaped(entry.name)
            getters.append((entry.key, _getter(elements.positions(scalar.expressions), scalar)))
        self.elements = tuple(elements.expressions)
        item = _object(getters)
        if len(order_at) == 1:
            (o,) = order_at
            self.shape: Callable[[Any], list[Any]] = lambda items: [
                item(i) for i in sorted(items or (), key=lambda i: i[o])
            ]
        else:
            self.shape = lambda items: [
                item(i) for i in sorted(items or (), key=lambda i: tuple(i[p] for p in order_at))
            ]

    def expression(self, access: Criteria) -> Any:
        if access.dialect == "postgresql":
            aggregate = func.json_agg(func.json_build_array(*self.elements), type_=JSON)
        else:
            aggregate = func.json_group_array(func.json_array(*self.elements), type_=JSON)
        return self.relation.source(access).with_only_columns(aggregate).scalar_subquery()


class ListPlan:
    """A compiled list selection (see the module docstring)."""

    def __init__(self, entity: Entity, selection: Selected, sort_column: Any) -> None:
        self.entity = entity
        self.selection = selection
        self.columns = _Columns()
        self.id_at, self.sort_at = self.columns.positions((entity.model.id, sort_column))
        self.joins: list[ToOne] = []
        self.many: list[tuple[int, _ManyColumn]] = []
        #: Page statements built once per shape (gateway.shaping.statements).
        self.statements: dict[tuple[Any, ...], Any] = {}
        self._check_connection(selection)
        nodes = [
            n
            for edges in selection.children
            if edges.name == "edges"
            for n in edges.children
            if n.name == "node"
        ]
        if len(nodes) > 1:
            raise NotShaped("node")  # differently aliased node selections: not merged here
        self.node: Getter | None = self._node(nodes[0]) if nodes else None
        self.edge_cursors = any(
            part.name == "cursor"
            for edges in selection.children
            if edges.name == "edges"
            for part in edges.children
        )

    @staticmethod
    def _check_connection(selection: Selected) -> None:
        if not selection.names() <= CONNECTION_FIELDS:
            raise NotShaped("connection")
        for entry in selection.children:
            if entry.name == "edges" and not entry.names() <= EDGE_FIELDS:
                raise NotShaped("edges")
            if entry.name == "pageInfo" and not entry.names() <= PAGE_INFO_FIELDS:
                raise NotShaped("pageInfo")

    def _node(self, node: Selected) -> Getter:
        entity = self.entity
        getters: list[tuple[str, Getter]] = []
        relations_seen: set[str] = set()
        for entry in node.children:
            name = entry.name
            if name == "__typename":
                getters.append((entry.key, _constant(entity.type_name)))
            elif name in entity.fields and not entry.children:
                getters.append((entry.key, self._scalar(entity.fields[name])))
            elif name in entity.relations:
                if name in relations_seen:
                    raise NotShaped(name)  # the same relation under two aliases
                relations_seen.add(name)
                getters.append((entry.key, self._relation(entity.relations[name], entry)))
            else:
                raise NotShaped(name)
        return _object(getters)

    def _scalar(self, scalar: Scalar) -> Getter:
        return _getter(self.columns.positions(scalar.expressions), scalar)

    def _leaves(self, type_name: str, fields: Any, selection: Selected) -> list[tuple[str, Getter]]:
        getters: list[tuple[str, Getter]] = []
        for entry in selection.children:
            if entry.name == "__typename":
                getters.append((entry.key, _constant(type_name)))
            elif entry.name in fields and not entry.children:
                getters.append((entry.key, self._scalar(fields[entry.name])))
            else:
                raise NotShaped(entry.name)
        return getters

    def _relation(self, relation: Any, entry: Selected) -> Getter:
        if isinstance(relation, Embedded):
            return _object(self._leaves(relation.type_name, relation.fields, entry))
        if isinstance(relation, ToOne):
            target = relation.target
            joined = {j.target.model for j in self.joins}
            if target.model is self.entity.model or target.model in joined:
                raise NotShaped(entry.name)  # one join per model (no aliases)
            self.joins.append(relation)
            present_at = self.columns.positions((target.model.id,))[0]
            shape = _object(self._leaves(target.type_name, target.fields, entry))
            return lambda row: shape(row) if row[present_at] is not None else None
        assert isinstance(relation, ToMany)
        many = _ManyColumn(relation, entry)
        at = len(self.columns.expressions)
        self.columns.expressions.append(many)  # replaced by its expression per statement
        self.many.append((at, many))
        shape_items = many.shape
        return lambda row: shape_items(row[at])

    def statement(self, base: Select[Any], access: Criteria) -> Select[Any]:
        """The page's columns, with the caller's criteria written in (run as plain rows):
        on the listed model, in the ON of each joined one, inside each JSON aggregate."""
        expressions = list(self.columns.expressions)
        for at, many in self.many:
            expressions[at] = many.expression(access)
        stmt = base.with_only_columns(*expressions).where(access.read_criteria(self.entity.model))
        if self.joins:
            # An explicit chain from the listed model: the criteria in an ON clause may name
            # other tables, which would make an implicit left side ambiguous.
            joined: Any = self.entity.model.__table__
            for join in self.joins:
                model = join.target.model
                joined = joined.outerjoin(
                    model.__table__, and_(join.on(), access.read_criteria(model))
                )
            stmt = stmt.select_from(joined)
        return stmt


#: Compiled plans by (entity, selection, sort column): selections repeat, so most
#: requests find theirs here. Bounded: an unbounded variety of selections cannot grow it.
_PLANS: dict[tuple[int, Selected, str], ListPlan | None] = {}
_PLANS_MAX = 512


def plan_for(entity: Entity, selection: Selected, sort_column: Any) -> ListPlan | None:
    """The plan for this selection, or ``None`` if the general path must answer it."""
    key = (id(entity), selection, sort_column.key)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    try:
        plan: ListPlan | None = ListPlan(entity, selection, sort_column)
    except NotShaped:
        plan = None
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan
