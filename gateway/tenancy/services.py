"""Which modules a tenant has on, and switching them (dependencies honoured)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.admin import log_admin
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.plugins import PluginRegistry
from gateway.tenancy.models import Tenant, TenantModule


@dataclass(frozen=True)
class ModuleState:
    name: str
    title: str
    version: str
    description: str
    enabled: bool
    optional: bool
    requires: tuple[str, ...]


def effective_modules(registry: PluginRegistry, overrides: dict[str, bool]) -> frozenset[str]:
    """Defaults overridden by explicit switches; kernel modules always on.

    A module whose requirement is off is treated as off too, so a database edited by hand
    can never produce a schema with a module missing what it needs.
    """
    on = {
        name
        for name, p in registry.plugins.items()
        if not p.info.optional or overrides.get(name, p.info.default_enabled)
    }
    return frozenset(
        name for name in on if all(r in on for r in registry.requirement_closure(name))
    )


def load_overrides(session: Session, tenant_id: int) -> dict[str, bool]:
    rows = session.execute(
        select(TenantModule.module, TenantModule.enabled).where(TenantModule.tenant_id == tenant_id)
    )
    return {module: enabled for module, enabled in rows}


def enabled_modules(session: Session, registry: PluginRegistry, tenant_id: int) -> frozenset[str]:
    return effective_modules(registry, load_overrides(session, tenant_id))


def module_states(session: Session, registry: PluginRegistry, tenant_id: int) -> list[ModuleState]:
    on = enabled_modules(session, registry, tenant_id)
    return [
        ModuleState(
            name=name,
            title=p.info.title,
            version=p.info.version,
            description=p.info.description,
            enabled=name in on,
            optional=p.info.optional,
            requires=p.info.requires,
        )
        for name, p in registry.plugins.items()
    ]


def set_module_enabled(
    session: Session, registry: PluginRegistry, tenant_id: int, name: str, enabled: bool
) -> list[str]:
    """Switch ``name`` on or off for a tenant; returns every module whose state changed.

    Enabling also enables the modules it requires (the admin asked for a working module).
    Disabling is refused with CONFLICT while an enabled module needs it: silently switching
    off a module the tenant uses would hide its data without the admin deciding so.
    """
    if name not in registry.plugins:
        raise NotFound(f"no module named {name!r} is installed", field="name")
    if not registry.plugins[name].info.optional:
        raise BadUserInput(f"module {name!r} is part of the kernel and is always on", field="name")
    # Serialise concurrent switches of one tenant (PostgreSQL; SQLite writes are serial).
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    overrides = load_overrides(session, tenant_id)
    before = effective_modules(registry, overrides)
    if enabled:
        targets = [*registry.requirement_closure(name), name]
    else:
        needed_by = registry.dependents(name, sorted(before))
        if needed_by:
            raise Conflict(
                f"module {name!r} is required by enabled module(s) {', '.join(needed_by)}; "
                "disable those first",
                field="name",
                dependents=needed_by,
            )
        targets = [name]
    for module in targets:
        if registry.plugins[module].info.optional:
            overrides[module] = enabled
            session.merge(TenantModule(tenant_id=tenant_id, module=module, enabled=enabled))
    session.flush()
    after = effective_modules(registry, overrides)
    changed = sorted(before ^ after)
    if changed:
        action = "modules.enabled" if enabled else "modules.disabled"
        log_admin(session, tenant_id, action, ", ".join(changed))
    return changed


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}", field="tenant")
    return tenant
