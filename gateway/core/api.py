"""Root fields of the core module: ``me``, ``modules``, ``setModuleEnabled``."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.core.types import ModuleType, SetModuleEnabledPayload, Viewer
from gateway.errors import GatewayError
from gateway.graphql.common import UserError
from gateway.graphql.context import RequestContext
from gateway.identity.api import viewer
from gateway.tenancy import services as tenancy

Ctx = Info[RequestContext, None]


@strawberry.field(description="The signed-in caller.")
def me(info: Ctx) -> Viewer:
    ctx = info.context
    caller = ctx.require_caller()
    return viewer(ctx.session, ctx, caller.user_id)


@strawberry.field(description="Installed modules and whether this organisation has them on.")
def modules(info: Ctx) -> list[ModuleType]:
    ctx = info.context
    states = tenancy.module_states(ctx.session, ctx.gateway.registry, ctx.tenant_id)
    return [ModuleType.from_state(s) for s in states]


@strawberry.mutation(
    description="Switch a module on or off for this organisation (administrators). "
    "Enabling also enables the modules it requires; disabling one that enabled modules "
    "need is refused with CONFLICT. Data is kept while a module is off."
)
def set_module_enabled(info: Ctx, name: str, enabled: bool) -> SetModuleEnabledPayload:
    ctx = info.context
    caller = ctx.require_admin()
    registry = ctx.gateway.registry
    try:
        with ctx.transaction() as session:
            changed = tenancy.set_module_enabled(session, registry, caller.tenant_id, name, enabled)
            states = tenancy.module_states(session, registry, caller.tenant_id)
    except GatewayError as exc:
        return SetModuleEnabledPayload(errors=[UserError.from_exception(exc)])
    return SetModuleEnabledPayload(
        modules=[ModuleType.from_state(s) for s in states], changed=changed
    )
