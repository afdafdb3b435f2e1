"""GraphQL API of the organisation's default record access per entity
(:mod:`gateway.access.defaults`), for profiles with ``core.sharing.manage``."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import defaults
from gateway.access.fields import guarded
from gateway.access.sharing_api import MANAGE_SHARING
from gateway.contract import AccessLevel
from gateway.graphql.common import AccessLevelEnum, UserError, mutate
from gateway.graphql.context import RequestContext

Ctx = Info[RequestContext, None]


@strawberry.type(description="The access level new records of an entity get.")
class RecordAccessDefault:
    entity: str
    access: AccessLevelEnum
    builtin: bool = strawberry.field(
        description="True while the organisation has not chosen: the module's own default."
    )

    @classmethod
    def of(cls, d: defaults.EntityDefault) -> RecordAccessDefault:
        return cls(entity=d.entity, access=d.access, builtin=d.builtin)


@strawberry.type
class RecordAccessDefaultPayload:
    default: RecordAccessDefault | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@guarded(
    permission=MANAGE_SHARING,
    description="The access level new records of each entity get in the organisation.",
)
def record_access_defaults(info: Ctx) -> list[RecordAccessDefault]:
    ctx = info.context
    caller = ctx.require_caller()
    rows = defaults.defaults(ctx.session, ctx.gateway.registry, caller.tenant_id)
    return [RecordAccessDefault.of(d) for d in rows]


@guarded(
    permission=MANAGE_SHARING,
    description="Choose the access level new records of an entity get (null: the module's "
    "own default). Creators may still give another where the API lets them.",
)
def set_record_access_default(
    info: Ctx, entity: str, access: AccessLevelEnum | None = None
) -> RecordAccessDefaultPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> defaults.EntityDefault:
        level = AccessLevel(access) if access is not None else None
        registry = ctx.gateway.registry
        return defaults.set_default(session, registry, caller.tenant_id, entity, level)

    return mutate(
        ctx,
        RecordAccessDefaultPayload,
        work,
        lambda d: RecordAccessDefaultPayload(default=RecordAccessDefault.of(d)),
    )


QUERY_FIELDS = [record_access_defaults]
MUTATION_FIELDS = [set_record_access_default]
