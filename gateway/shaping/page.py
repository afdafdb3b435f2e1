"""The fast path of a module's list: :func:`shaped_page` answers a plain forward page of a
declared entity in one statement, with the same checks as :func:`gateway.lists.list_records`
(filters and sort on hidden fields refused, narrowing from the caller's grants, keyset page,
count only when asked), or returns ``None`` so that the general path answers.

A plain page (no filter) runs a statement built once per selection and scope shape
(:mod:`gateway.shaping.statements`); a filtered one is built for the request."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Select, func, select

from gateway.access.enforcement import access_of, plain_rows
from gateway.access.fields import check_filterable_fields
from gateway.access.named import values_of
from gateway.access.narrowing import narrow_to_visible, narrows
from gateway.graphql.pagination import after_cursor, encode_cursor
from gateway.graphql.shaped import Selected, Shaped, plain_selection
from gateway.lists import Order, Window
from gateway.shaping import statements
from gateway.shaping.declare import Entity
from gateway.shaping.plan import ListPlan, plan_for
from gateway.shaping.statements import (
    count_statement,
    cursor_values,
    is_plain,
    page_statement,
    page_values,
)


def shaped_page(
    info: Any,
    entity: Entity,
    stmt: Select[Any],
    *,
    order: Order,
    window: Window,
    filter_reads: Collection[str] = (),
) -> Shaped | None:
    """The page as a pre-shaped result, or ``None`` (shaped results off, a backward page, or
    a selection the entity's declaration does not answer)."""
    ctx = info.context
    if not ctx.gateway.settings.shaped_results or window.backwards or window.before is not None:
        return None
    selection = plain_selection(info)
    if selection is None:
        return None
    plan = plan_for(entity, selection, order.column)
    if plan is None:
        return None
    check_filterable_fields(ctx.access, entity.type_name, {*order.reads, *filter_reads})
    model = entity.model

    plain = statements.ENABLED and is_plain(stmt, model)

    def count() -> int:
        access = access_of(ctx.session)
        if plain and access is not None:
            total = count_statement(plan, access, narrowed=narrows(ctx, model))
            return int(plain_rows(ctx.session, total, values_of(access)).scalar() or 0)
        narrowed = narrow_to_visible(ctx, stmt, model)
        ids = narrowed.with_only_columns(model.id).subquery()
        return int(ctx.session.scalar(select(func.count()).select_from(ids)) or 0)

    if plain:
        rows = _cached_rows(ctx, plan, order, window)
    else:
        rows = _built_rows(ctx.session, plan, narrow_to_visible(ctx, stmt, model), order, window)
    return Shaped(_page(plan, rows, window, count))


def _cached_rows(ctx: Any, plan: ListPlan, order: Order, window: Window) -> Sequence[Any]:
    """A plain page through the statement built once for the caller's shape."""
    access = access_of(ctx.session)
    assert access is not None, "shaped lists serve signed-in callers only"
    after = cursor_values(order.column, window.after) if window.after is not None else None
    stmt = page_statement(
        plan,
        access,
        order.column,
        narrowed=narrows(ctx, plan.entity.model),
        descending=order.descending,
        after=after is not None,
    )
    return plain_rows(ctx.session, stmt, page_values(access, window.size + 1, after)).all()


def _built_rows(
    session: Any, plan: ListPlan, base: Select[Any], order: Order, window: Window
) -> Sequence[Any]:
    """A page built for this request (the module's filters are in ``base``)."""
    access = access_of(session)
    assert access is not None, "shaped lists serve signed-in callers only"
    id_column, sort_column = plan.entity.model.id, order.column
    stmt = plan.statement(base, access)
    if window.after is not None:
        stmt = stmt.where(after_cursor(sort_column, id_column, window.after, order.descending))
    by = (sort_column.desc(), id_column.desc()) if order.descending else (sort_column, id_column)
    return plain_rows(session, stmt.order_by(*by).limit(window.size + 1)).all()


def _page(
    plan: ListPlan, rows: Sequence[Any], window: Window, total: Callable[[], int]
) -> dict[str, Any]:
    has_next = len(rows) > window.size
    rows = rows[: window.size]
    sort_at, id_at = plan.sort_at, plan.id_at
    # Cursors cost a JSON + base64 encoding each: only the page's ends unless the edges'
    # cursors are selected.
    ends = (
        (
            encode_cursor(rows[0][sort_at], rows[0][id_at]),
            encode_cursor(rows[-1][sort_at], rows[-1][id_at]),
        )
        if rows
        else (None, None)
    )
    cursors = [encode_cursor(r[sort_at], r[id_at]) for r in rows] if plan.edge_cursors else None
    return _shape(plan, rows, cursors, ends, has_next, window.after is not None, total)


def _shape(
    plan: ListPlan,
    rows: Sequence[Any],
    cursors: Sequence[str] | None,
    ends: tuple[str | None, str | None],
    has_next: bool,
    has_previous: bool,
    total: Callable[[], int],
) -> dict[str, Any]:
    type_name = plan.entity.type_name
    node = plan.node
    out: dict[str, Any] = {}
    for entry in plan.selection.children:
        name = entry.name
        if name == "__typename":
            out[entry.key] = f"{type_name}Connection"
        elif name == "totalCount":
            out[entry.key] = total()
        elif name == "pageInfo":
            out[entry.key] = _page_info(entry, ends, has_next, has_previous)
        elif name == "edges":
            nodes = [node(row) for row in rows] if node is not None else [None] * len(rows)
            edges = []
            for i, shaped in enumerate(nodes):
                edge: dict[str, Any] = {}
                for part in entry.children:
                    if part.name == "cursor":
                        edge[part.key] = cursors[i] if cursors is not None else None
                    elif part.name == "__typename":
                        edge[part.key] = f"{type_name}Edge"
                    else:
                        edge[part.key] = shaped
                edges.append(edge)
            out[entry.key] = edges
    return out


def _page_info(
    entry: Selected, ends: tuple[str | None, str | None], has_next: bool, has_previous: bool
) -> dict[str, Any]:
    values = {
        "hasNextPage": has_next,
        "hasPreviousPage": has_previous,
        "startCursor": ends[0],
        "endCursor": ends[1],
        "__typename": "PageInfo",
    }
    return {e.key: values[e.name] for e in entry.children}
