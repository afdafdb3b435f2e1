"""The link from a task to an opportunity of the leads module, without importing leads.

The calendar requires only contacts; opportunities belong to the leads module, which a
tenant may switch off. The link is looked up through the plugin registry's ``opportunity``
entity (as invoices do): its model for reads, so record access applies as to any other
query, and its GraphQL factory for the ``Node`` a task answers. With leads off a task's
link reads ``null``, linking is refused and filtering by it matches nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select

from gateway.sdk import (
    AccessControlledEntity,
    BadUserInput,
    CallerContext,
    NotFound,
    refers_to_visible,
)
from plugins.calendar.models import Task

ENTITY = "opportunity"
#: Request cache of linked opportunities by id (``None``: not visible).
CACHE_KEY = "calendar.opportunities"


def entity_of(ctx: CallerContext) -> AccessControlledEntity | None:
    """The opportunity entity, when the module providing it is on for the caller's tenant."""
    registry = ctx.gateway.registry
    entity = registry.entities.get(ENTITY)
    if entity is None or registry.entity_module[ENTITY] not in ctx.enabled_modules:
        return None
    return entity


def checked_link(ctx: CallerContext, opportunity_id: int | None) -> int | None:
    """The id to store: ``None``, or an opportunity the caller may see (an invisible one
    answers as one that does not exist, like a task's contact)."""
    if opportunity_id is None:
        return None
    entity = entity_of(ctx)
    if entity is None:
        raise BadUserInput("linking an opportunity needs the leads module", field="opportunityId")
    if ctx.session.get(entity.model, opportunity_id) is None:
        raise NotFound("no such opportunity", field="opportunityId")
    return opportunity_id


def matches(ctx: CallerContext, opportunity_id: int) -> ColumnElement[bool]:
    """``filter.opportunityId``: tasks linked to that opportunity when the caller may see it;
    nothing when it is invisible or the leads module is off (no confirmation of a link)."""
    entity = entity_of(ctx)
    if entity is None:
        return false()
    return refers_to_visible(ctx.access, Task.opportunity_id, entity.model, opportunity_id)


def prime(ctx: CallerContext, ids: set[int | None]) -> None:
    """Load a page's linked opportunities in one query into the request cache (the session's
    identity map alone would not keep them: it holds objects weakly)."""
    entity = entity_of(ctx)
    cache: dict[int, Any] = ctx.cache.setdefault(CACHE_KEY, {})
    wanted = sorted(i for i in ids if i is not None and i not in cache)
    if entity is None or not wanted:
        return
    cache.update(dict.fromkeys(wanted))  # invisible ones stay None: no second query for them
    for record in ctx.session.scalars(select(entity.model).where(entity.model.id.in_(wanted))):
        cache[record.id] = record


def record_of(ctx: CallerContext, opportunity_id: int | None) -> Any:
    """The linked opportunity's row when the caller may see it (module on), else ``None``."""
    if opportunity_id is None or entity_of(ctx) is None:
        return None
    prime(ctx, {opportunity_id})
    return ctx.cache[CACHE_KEY].get(opportunity_id)


def node_of(ctx: CallerContext, opportunity_id: int | None) -> Any:
    """The opportunity's GraphQL object, or ``None`` (no link, module off, or not visible)."""
    entity = entity_of(ctx)
    if opportunity_id is None or entity is None or entity.graphql_factory is None:
        return None
    prime(ctx, {opportunity_id})
    record = ctx.cache[CACHE_KEY].get(opportunity_id)
    return entity.graphql_factory(record) if record is not None else None


def visible_id(ctx: CallerContext, opportunity_id: int | None) -> int | None:
    """The linked id when the caller may see that opportunity (module on, record visible),
    else ``None``: the bare id would tell a caller that an invisible opportunity exists."""
    entity = entity_of(ctx)
    if opportunity_id is None or entity is None:
        return None
    prime(ctx, {opportunity_id})
    return opportunity_id if ctx.cache[CACHE_KEY].get(opportunity_id) is not None else None


def owners_of(ctx: CallerContext, ids: set[int | None]) -> set[int]:
    """Owner ids of the primed (visible) opportunities among ``ids``, so their
    ``responsible`` users load with the page's other users in one query."""
    entity = entity_of(ctx)
    cache: dict[int, Any] = ctx.cache.get(CACHE_KEY, {})
    if entity is None:
        return set()
    records = (cache.get(i) for i in ids if i is not None)
    return {
        owner
        for record in records
        if record is not None and (owner := getattr(record, entity.owner_attribute)) is not None
    }
