"""History event categories (R5): the tenant's list, created with defaults on first use,
and the administrators' changes. Same shape as the task categories
(``plugins/calendar/services.py``), plus a kind and a changeable order."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from gateway.sdk import BadUserInput, CallerContext, NotFound, upsert
from plugins.calendar.history.models import HistoryCategory, HistoryKind

#: (name, colour, kind) of the categories a tenant gets on first use.
DEFAULTS = (
    ("Note", "#64748B", HistoryKind.NOTE),
    ("Call", "#2563EB", HistoryKind.CALL),
    ("Meeting", "#16A34A", HistoryKind.MEETING),
    ("Email", "#D97706", HistoryKind.EMAIL),
)
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _ordered() -> Any:
    return select(HistoryCategory).order_by(HistoryCategory.position, HistoryCategory.id)


def category_list(ctx: CallerContext) -> list[HistoryCategory]:
    return list(ctx.session.scalars(_ordered()))


def seed(session: Any, tenant_id: int) -> list[HistoryCategory]:
    """Add the default categories if the tenant has none, and answer the tenant's
    categories. Two first requests at once both add them: the second's rows give way on
    the unique names (``ON CONFLICT DO NOTHING``), never a conflict error."""
    exists = select(HistoryCategory.id).where(HistoryCategory.tenant_id == tenant_id).limit(1)
    if session.scalar(exists) is None:
        session.execute(
            upsert(session, HistoryCategory)
            .values(
                [
                    {
                        "tenant_id": tenant_id,
                        "name": name,
                        "colour": colour,
                        "kind": kind,
                        "position": i,
                    }
                    for i, (name, colour, kind) in enumerate(DEFAULTS)
                ]
            )
            .on_conflict_do_nothing()
        )
    return list(session.scalars(_ordered().where(HistoryCategory.tenant_id == tenant_id)))


def on_demand(ctx: CallerContext) -> list[HistoryCategory]:
    """The tenant's categories; one that never had any gets the defaults on first use (in a
    short transaction of its own when the request only reads)."""
    found = category_list(ctx)
    if found:
        return found
    if ctx.write:
        seed(ctx.session, ctx.tenant_id)
        return category_list(ctx)
    with ctx.gateway.db.transaction() as system:
        seeded = seed(system, ctx.tenant_id)
        for category in seeded:
            system.expunge(category)
    return seeded


def _name(name: str | None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 80:
        raise BadUserInput("a name of 1 to 80 characters", field="name")
    return clean


def _colour(colour: str | None) -> str:
    if not _COLOUR.match(colour or ""):
        raise BadUserInput("a colour as #RRGGBB", field="colour")
    return (colour or "").upper()


def get(ctx: CallerContext, category_id: int, field: str = "id") -> HistoryCategory:
    found = ctx.session.get(HistoryCategory, category_id)
    if found is None:
        raise NotFound("no such history category", field=field)
    return found


def create(ctx: CallerContext, name: str, colour: str, kind: HistoryKind) -> HistoryCategory:
    """Added last. A taken name is a unique violation: CONFLICT (the transaction turns it)."""
    clean, colour = _name(name), _colour(colour)
    on_demand(ctx)
    last = ctx.session.scalar(select(func.max(HistoryCategory.position)))
    category = HistoryCategory(
        tenant_id=ctx.tenant_id,
        name=clean,
        colour=colour,
        kind=kind,
        position=(last if last is not None else -1) + 1,
    )
    ctx.session.add(category)
    ctx.session.flush()
    return category


def change(
    ctx: CallerContext,
    category: HistoryCategory,
    values: dict[str, Any],
) -> HistoryCategory:
    """Partial changes (``name``, ``colour``, ``kind``, ``position``). A new position moves
    the category there and shifts the ones between (positions stay 0..n-1)."""
    if "name" in values:
        category.name = _name(values["name"])
    if "colour" in values:
        category.colour = _colour(values["colour"])
    if values.get("kind") is not None:
        category.kind = HistoryKind(values["kind"])
    if values.get("position") is not None:
        _move(ctx, category, values["position"])
    ctx.session.flush()
    return category


def _move(ctx: CallerContext, category: HistoryCategory, position: int) -> None:
    others = [c for c in category_list(ctx) if c.id != category.id]
    if not 0 <= position <= len(others):
        raise BadUserInput(f"a position from 0 to {len(others)}", field="position")
    others.insert(position, category)
    for i, one in enumerate(others):
        one.position = i


def delete(ctx: CallerContext, category: HistoryCategory) -> None:
    """Interactions of the category keep their place in the history, without a category."""
    ctx.session.delete(category)
    ctx.session.flush()
    for i, one in enumerate(category_list(ctx)):
        one.position = i
