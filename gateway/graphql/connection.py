"""Relay connections, once: ``Connection[ContactNode]`` is published as ``ContactConnection``
with ``ContactEdge`` edges (Strawberry names a generic's specialisation after its type
argument's GraphQL name), so modules declare no Edge or Connection types of their own.

``totalCount`` is a resolver: the count statement runs only when a frontend selects it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from gateway.graphql.pagination import PageInfo
from gateway.lists import Listed

NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], int] | None] = None

    @strawberry.field(description="Every record matching the list's filters that you may see.")
    def total_count(self) -> int | None:
        return self._count() if self._count is not None else None

    @classmethod
    def of(cls, listed: Listed[Any], node: Callable[[Any], NodeT]) -> Connection[NodeT]:
        """A page from :func:`gateway.lists.list_records`, each row wrapped by ``node``."""
        return cls(
            edges=[
                Edge(cursor=c, node=node(r))
                for r, c in zip(listed.rows, listed.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=listed.has_next,
                has_previous_page=listed.has_previous,
                start_cursor=listed.cursors[0] if listed.cursors else None,
                end_cursor=listed.cursors[-1] if listed.cursors else None,
            ),
            _count=listed.count,
        )
