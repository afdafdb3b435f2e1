"""The one list path every module's list takes, free of GraphQL.

:func:`list_records` does, in order, what each list used to assemble by hand: refuse
filters and sort orders on fields the caller's rules hide, plan from the caller's grants
when it sees few rows, read one keyset page forwards (``first``/``after``) or backwards
(``last``/``before``, Relay's connection spec), and count only when asked. Services (and
so jobs, imports and the CLI) call it with a :class:`gateway.context.CallerContext`;
GraphQL wraps its answer in :class:`gateway.graphql.connection.Connection`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from gateway.access.fields import check_filterable_fields
from gateway.access.narrowing import narrow_to_visible
from gateway.config import Settings
from gateway.errors import BadUserInput
from gateway.graphql.common import page_size
from gateway.graphql.pagination import Keyed, after_cursor, encode_cursor

T = TypeVar("T")

M = TypeVar("M", bound=Keyed)


@dataclass(frozen=True)
class Window:
    """Which page: ``size`` rows after ``after`` (forwards) or before ``before`` (backwards)."""

    size: int
    after: str | None = None
    before: str | None = None
    backwards: bool = False

    @classmethod
    def of(
        cls,
        settings: Settings,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Window:
        """The page a list's arguments ask for: the default size when neither ``first`` nor
        ``last`` is given; refused (never truncated) above the cap; ``first`` and ``last``
        together are refused (Relay's spec discourages them; their meaning is murky)."""
        if first is not None and last is not None:
            raise BadUserInput("give first or last, not both", field="last")
        if last is not None or (before is not None and first is None):
            return cls(page_size(last, settings, "last"), after, before, backwards=True)
        return cls(page_size(first, settings, "first"), after, before)


@dataclass(frozen=True)
class Order:
    """A list's sort: the column (ties broken by id) and the GraphQL fields it reads."""

    column: Any
    descending: bool = False
    reads: Collection[str] = ()


@dataclass
class Listed(Generic[T]):
    """One page of records with their cursors, and how to count every match."""

    rows: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], int]


def list_records(
    ctx: Any,
    model: type[M],
    type_name: str,
    stmt: Select[M],
    *,
    order: Order,
    window: Window,
    filter_reads: Collection[str] = (),
    options: Sequence[Any] = (),
) -> Listed[M]:
    """A page of ``stmt`` (a SELECT of ``model`` with the list's filters) for the caller.

    :param type_name: the GraphQL type whose field rules decide what may be filtered on.
    :param filter_reads: the GraphQL fields the filters in ``stmt`` match on.
    :param options: loader options for the page's rows (relations the selection needs).
    """
    check_filterable_fields(ctx.access, type_name, {*order.reads, *filter_reads})
    stmt = narrow_to_visible(ctx, stmt, model)
    id_column = model.id
    rows, has_more = _keyset(ctx, stmt.options(*options), order, id_column, window)
    key = order.column.key
    cursors = [encode_cursor(getattr(r, key), r.id) for r in rows]

    def count() -> int:
        counted = select(func.count()).select_from(stmt.with_only_columns(id_column).subquery())
        return int(ctx.session.scalar(counted) or 0)

    if window.backwards:
        return Listed(rows, cursors, window.before is not None, has_more, count)
    return Listed(rows, cursors, has_more, window.after is not None, count)


def _keyset(
    ctx: Any, stmt: Select[Any], order: Order, id_column: Any, window: Window
) -> tuple[list[Any], bool]:
    """The window's rows in the list's order, and whether more lie beyond them."""
    # backwards: read the rows before the cursor in reverse order, then turn them around
    reverse = order.descending != window.backwards
    if window.after is not None:
        stmt = stmt.where(after_cursor(order.column, id_column, window.after, order.descending))
    if window.before is not None:
        stmt = stmt.where(_before(order.column, id_column, window.before, order.descending))
    by = (order.column.desc(), id_column.desc()) if reverse else (order.column, id_column)
    rows = list(ctx.session.scalars(stmt.order_by(*by).limit(window.size + 1)).unique())
    has_more = len(rows) > window.size
    rows = rows[: window.size]
    if window.backwards:
        rows.reverse()
    return rows, has_more


def _before(sort_column: Any, id_column: Any, cursor: str, descending: bool) -> Any:
    """ "Before this cursor" is "after it" in the reverse order."""
    try:
        return after_cursor(sort_column, id_column, cursor, not descending)
    except BadUserInput as exc:
        raise BadUserInput(exc.message, field="before") from exc
