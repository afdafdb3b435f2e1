"""Root fields of the core module: ``me``, ``modules``, ``login``, ``logout``,
``setModuleEnabled``."""

from __future__ import annotations

from datetime import timedelta

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.core.types import (
    LoginPayload,
    LogoutPayload,
    ModuleType,
    ProfileType,
    SetModuleEnabledPayload,
    TenantType,
    UserType,
    Viewer,
)
from gateway.errors import GatewayError
from gateway.graphql.common import UserError
from gateway.graphql.context import RequestContext
from gateway.identity import services as identity
from gateway.identity.models import User
from gateway.tenancy import services as tenancy
from gateway.tenancy.models import Tenant

Ctx = Info[RequestContext, None]


def _viewer(session: Session, ctx: RequestContext, user_id: int) -> Viewer:
    user = session.get_one(User, user_id)
    tenant = session.get_one(Tenant, user.tenant_id)
    modules = tenancy.enabled_modules(session, ctx.gateway.registry, tenant.id)
    return Viewer(
        user=UserType.from_model(user),
        tenant=TenantType.from_model(tenant),
        profile=ProfileType.from_model(user.profile),
        enabled_modules=sorted(modules),
    )


@strawberry.field(description="The signed-in caller.")
def me(info: Ctx) -> Viewer:
    ctx = info.context
    caller = ctx.require_caller()
    return _viewer(ctx.session, ctx, caller.user_id)


@strawberry.field(description="Installed modules and whether this organisation has them on.")
def modules(info: Ctx) -> list[ModuleType]:
    ctx = info.context
    states = tenancy.module_states(ctx.session, ctx.gateway.registry, ctx.tenant_id)
    return [ModuleType.from_state(s) for s in states]


@strawberry.mutation(description="Sign in with email and password; returns a bearer token.")
def login(info: Ctx, email: str, password: str) -> LoginPayload:
    ctx = info.context
    settings = ctx.gateway.settings
    try:
        with ctx.transaction() as session:
            issued = identity.login(
                session,
                email,
                password,
                ttl=timedelta(seconds=settings.token_ttl_seconds),
                client=ctx.client,
                hash_profile=settings.password_hash_profile,
            )
            viewer = _viewer(session, ctx, issued.user.id)
    except GatewayError as exc:
        return LoginPayload(errors=[UserError.from_exception(exc)])
    return LoginPayload(token=issued.token, expires_at=issued.session.expires_at, viewer=viewer)


@strawberry.mutation(description="End the current session; its token stops working at once.")
def logout(info: Ctx) -> LogoutPayload:
    ctx = info.context
    caller = ctx.require_caller()
    with ctx.transaction() as session:
        identity.revoke_session(session, caller.session_id)
    return LogoutPayload(ok=True)


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
