"""Links to records of an entity another module owns (a task's or an invoice's opportunity),
without importing that module: the entity is found in the plugin registry — its model for
reads, so record access applies as to any query, and its GraphQL factory for the ``Node``.
A link reads ``null`` when the owning module is off for the tenant or the caller may not
see the record; storing one checks the same; a page's links load in one statement."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, select

from gateway.access.reads import refers_to_visible
from gateway.context import CallerContext, Loader
from gateway.contract import AccessControlledEntity
from gateway.errors import BadUserInput, GatewayError, NotFound


class EntityLink:
    """``EntityLink("opportunity", field="opportunityId", needs="the leads module")``.

    :param entity: the registry's entity key.
    :param field: the input field a refusal names.
    :param needs: how the refusal names the module that provides the entity.
    :param missing: the error for an id the caller may not see (``NOT_FOUND`` by default:
        an invisible record answers as one that does not exist).
    """

    def __init__(
        self,
        entity: str,
        *,
        field: str,
        needs: str,
        missing: type[GatewayError] = NotFound,
    ) -> None:
        self.entity = entity
        self.field = field
        self.needs = needs
        self.missing = missing

    def entity_of(self, ctx: CallerContext) -> AccessControlledEntity | None:
        """The entity, when the module providing it is on for the caller's tenant."""
        registry = ctx.gateway.registry
        found = registry.entities.get(self.entity)
        if found is None or registry.entity_module[self.entity] not in ctx.enabled_modules:
            return None
        return found

    def checked(self, ctx: CallerContext, pk: int | None) -> int | None:
        """The id to store: ``None``, or a record the caller may see."""
        if pk is None:
            return None
        entity = self.entity_of(ctx)
        if entity is None:
            raise BadUserInput(f"linking a {self.entity} needs {self.needs}", field=self.field)
        if ctx.session.get(entity.model, pk) is None:
            raise self.missing(f"no such {self.entity}", field=self.field)
        return pk

    def loader(self, ctx: CallerContext) -> Loader[int, Any]:
        """The operation's visible records of the entity by id (``None``: not visible);
        shared by every module linking to it, since visibility is the caller's."""
        entity = self.entity_of(ctx)

        def fetch(ids: list[int]) -> dict[int, Any]:
            if entity is None:
                return {}
            model = entity.model
            return {r.id: r for r in ctx.session.scalars(select(model).where(model.id.in_(ids)))}

        return ctx.loader(f"links.{self.entity}", fetch)

    def prime(self, ctx: CallerContext, ids: Iterable[int | None]) -> None:
        """Load a page's linked records in one statement."""
        self.loader(ctx).prime(ids)

    def record_of(self, ctx: CallerContext, pk: int | None) -> Any:
        """The linked row when the caller may see it (module on), else ``None``."""
        if pk is None or self.entity_of(ctx) is None:
            return None
        return self.loader(ctx).get(pk)

    def node_of(self, ctx: CallerContext, pk: int | None) -> Any:
        """The linked record's GraphQL object, or ``None``."""
        entity = self.entity_of(ctx)
        record = self.record_of(ctx, pk)
        if record is None or entity is None or entity.graphql_factory is None:
            return None
        return entity.graphql_factory(record)

    def visible_id(self, ctx: CallerContext, pk: int | None) -> int | None:
        """The linked id when the caller may see the record, else ``None``: a bare id would
        tell a caller that an invisible record exists."""
        return pk if self.record_of(ctx, pk) is not None else None

    def owners_of(self, ctx: CallerContext, ids: Iterable[int | None]) -> set[int]:
        """Owner ids of the visible linked records among ``ids`` (primed first), so their
        users load with the page's other users in one statement."""
        entity = self.entity_of(ctx)
        if entity is None:
            return set()
        loader = self.loader(ctx)
        found = loader.prime(ids)
        return {
            owner
            for record in found.values()
            if record is not None and (owner := getattr(record, entity.owner_attribute)) is not None
        }

    def matches(self, ctx: CallerContext, column: Any, pk: int) -> ColumnElement[bool]:
        """A filter on the link: rows linked to that record when the caller may see it;
        nothing when it is invisible or the module is off (no confirmation of a link)."""
        entity = self.entity_of(ctx)
        if entity is None:
            return false()
        return refers_to_visible(ctx.access, column, entity.model, pk)
