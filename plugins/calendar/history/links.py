"""An interaction's optional opportunity, a record of the leads module, reached through the
plugin registry without importing that module (as ``plugins/invoices/opportunities.py``
does): visible-only, ``null`` when the leads module is off for the tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.sdk import AccessControlledEntity, BadUserInput, CallerContext

ENTITY = "opportunity"
#: Loader name: the page's linked opportunities by id (``None``: not visible).
LOADER = "calendar.history.opportunities"


def entity_of(ctx: CallerContext) -> AccessControlledEntity | None:
    """The opportunity entity, when the module providing it is on for the caller's tenant."""
    registry = ctx.gateway.registry
    entity = registry.entities.get(ENTITY)
    if entity is None or registry.entity_module[ENTITY] not in ctx.enabled_modules:
        return None
    return entity


def checked_opportunity(ctx: CallerContext, opportunity_id: int | None) -> int | None:
    """The id to store: ``None``, or an opportunity the caller may see."""
    if opportunity_id is None:
        return None
    entity = entity_of(ctx)
    if entity is None:
        raise BadUserInput("linking an opportunity needs the leads module", field="opportunityId")
    if ctx.session.get(entity.model, opportunity_id) is None:
        raise BadUserInput("no such opportunity", field="opportunityId")
    return opportunity_id


def opportunities(ctx: CallerContext) -> Any:
    """The per-operation loader of visible opportunities (one statement per page)."""
    entity = entity_of(ctx)

    def fetch(ids: list[int]) -> dict[int, Any]:
        if entity is None:
            return {}
        model = entity.model
        return {r.id: r for r in ctx.session.scalars(select(model).where(model.id.in_(ids)))}

    return ctx.loader(LOADER, fetch)


def opportunity_node(ctx: CallerContext, opportunity_id: int | None) -> Any:
    """The opportunity's GraphQL object, or ``None`` (no link, module off, or not visible)."""
    entity = entity_of(ctx)
    if opportunity_id is None or entity is None or entity.graphql_factory is None:
        return None
    record = opportunities(ctx).get(opportunity_id)
    return entity.graphql_factory(record) if record is not None else None
