"""Default record access per entity (MISSION A9/issue 17 item 6): the access level new
records of an entity get in an organisation, unless their creator gives one.

An entity declares its built-in default (``AccessControlledEntity.default_access``: cases
are open to all, the rest private); an administrator may choose another per organisation.
Every module's creation path asks :func:`initial_access`, read once per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.access.scope import SYSTEM
from gateway.audit.admin import log_admin
from gateway.contract import AccessLevel
from gateway.db import Base
from gateway.errors import BadUserInput
from gateway.plugins import PluginRegistry

_CACHE = "record_access_defaults"


class RecordAccessDefault(Base):
    """An organisation's chosen access level for new records of one entity."""

    __tablename__ = "record_access_defaults"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(60), primary_key=True)
    access: Mapped[str] = mapped_column(String(20))


@dataclass(frozen=True)
class EntityDefault:
    entity: str
    access: AccessLevel
    #: True while the organisation has not chosen (the entity's built-in default applies).
    builtin: bool


def _chosen(session: Session, tenant_id: int) -> dict[str, AccessLevel]:
    rows = session.execute(
        select(RecordAccessDefault.entity, RecordAccessDefault.access)
        .where(RecordAccessDefault.tenant_id == tenant_id)
        .execution_options(**{SYSTEM: True})
    )
    return {entity: AccessLevel(access) for entity, access in rows}


def initial_access(ctx: Any, entity: str) -> str:
    """The access level (its stored value) a new ``entity`` record gets in the caller's
    organisation; the organisation's choices are read once per operation."""
    chosen = ctx.cache.get(_CACHE)
    if chosen is None:
        chosen = ctx.cache[_CACHE] = _chosen(ctx.session, ctx.tenant_id)
    level = chosen.get(entity) or ctx.gateway.registry.entities[entity].default_access
    return str(level.value)


def defaults(session: Session, registry: PluginRegistry, tenant_id: int) -> list[EntityDefault]:
    chosen = _chosen(session, tenant_id)
    return [
        EntityDefault(key, chosen.get(key, entity.default_access), key not in chosen)
        for key, entity in sorted(registry.entities.items())
    ]


def set_default(
    session: Session,
    registry: PluginRegistry,
    tenant_id: int,
    entity: str,
    access: AccessLevel | None,
) -> EntityDefault:
    """Choose ``entity``'s default in the organisation; ``None`` returns to the built-in."""
    if entity not in registry.entities:
        raise BadUserInput(f"unknown entity {entity!r}", field="entity")
    row = session.get(RecordAccessDefault, (tenant_id, entity))
    if access is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(RecordAccessDefault(tenant_id=tenant_id, entity=entity, access=access.value))
    else:
        row.access = access.value
    log_admin(
        session,
        tenant_id,
        "access.default_access_set",
        entity,
        {"access": access.value if access else "built-in"},
    )
    session.flush()
    builtin = registry.entities[entity].default_access
    return EntityDefault(entity, access or builtin, access is None)
