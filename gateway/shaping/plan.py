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

from typing import Any

from sqlalchemy import Select

from gateway.graphql.shaped import Selected
from gateway.shaping.declare import Entity
from gateway.shaping.shape import Criteria, Getter, NotShaped, Shaper, compiled

__all__ = ["Criteria", "ListPlan", "NotShaped", "plan_for"]

CONNECTION_FIELDS = frozenset({"edges", "pageInfo", "totalCount", "__typename"})
EDGE_FIELDS = frozenset({"cursor", "node", "__typename"})
PAGE_INFO_FIELDS = frozenset(
    {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
)


class ListPlan(Shaper):
    """A compiled list selection (see the module docstring)."""

    def __init__(self, entity: Entity, selection: Selected, sort_column: Any) -> None:
        super().__init__(entity)
        self.selection = selection
        #: Page statements built once per shape (gateway.shaping.statements).
        self.statements: dict[tuple[Any, ...], Any] = {}
        self.id_at, self.sort_at = self.columns.positions((entity.model.id, sort_column))
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
        self.node: Getter | None = self.object_getter(entity, nodes[0], None) if nodes else None
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

    def statement(self, base: Select[Any], access: Criteria) -> Select[Any]:
        """The page's columns, with the caller's criteria written in (run as plain rows):
        on the listed model, in the ON of each joined one, inside each JSON aggregate."""
        expressions = self.expressions(access)
        stmt = base.with_only_columns(*expressions).where(access.read_criteria(self.entity.model))
        return self.joined(stmt, access)


#: Compiled plans by (entity, selection, sort column) (see :func:`compiled`).
_PLANS: dict[tuple[int, Selected, str], ListPlan | None] = {}


def plan_for(entity: Entity, selection: Selected, sort_column: Any) -> ListPlan | None:
    """The plan for this selection, or ``None`` if the general path must answer it."""
    key = (id(entity), selection, sort_column.key)
    found: ListPlan | None = compiled(_PLANS, key, lambda: ListPlan(entity, selection, sort_column))
    return found
