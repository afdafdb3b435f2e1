"""Roles (job positions, "cargos", MISSION A7): their tree, kept as a closure table, and
each user's role. Service functions taking a Session, so the what-if preview can apply them
in a SAVEPOINT; no Strawberry here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gateway.access.enforcement import access_of
from gateway.access.role_models import Role, RoleHierarchy
from gateway.access.scope import SYSTEM
from gateway.audit.admin import log_admin
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.identity.models import User

_SYS = {SYSTEM: True}

#: The roles every organisation starts with (the seed's "director ejecutivo" and "gerente"),
#: parent first.
SYSTEM_ROLES: tuple[tuple[str, str | None], ...] = (("CEO", None), ("Manager", "CEO"))


def _refresh(session: Session) -> None:
    """The caller's cached facts may name subordinates the change just moved."""
    access = access_of(session)
    if access is not None:
        access.invalidate()


def _ancestors(session: Session, role_id: int) -> list[tuple[int, int]]:
    """``(ancestor id, depth)`` for the role itself (depth 0) and every role above it."""
    rows = session.execute(
        select(RoleHierarchy.ancestor_id, RoleHierarchy.depth)
        .where(RoleHierarchy.descendant_id == role_id)
        .order_by(RoleHierarchy.depth)
        .execution_options(**_SYS)
    )
    return [(a, d) for a, d in rows]


def _descendants(session: Session, role_id: int) -> list[tuple[int, int]]:
    """``(descendant id, depth)`` for the role itself (depth 0) and every role below it."""
    rows = session.execute(
        select(RoleHierarchy.descendant_id, RoleHierarchy.depth)
        .where(RoleHierarchy.ancestor_id == role_id)
        .order_by(RoleHierarchy.depth, RoleHierarchy.descendant_id)
        .execution_options(**_SYS)
    )
    return [(d, depth) for d, depth in rows]


def _attach(session: Session, role: Role) -> None:
    """A new role (nothing below it yet) in its parent's chain."""
    session.flush()
    rows = [{"ancestor_id": role.id, "descendant_id": role.id, "depth": 0}]
    if role.parent_id is not None:
        rows += [
            {"ancestor_id": a, "descendant_id": role.id, "depth": d + 1}
            for a, d in _ancestors(session, role.parent_id)
        ]
    session.execute(insert(RoleHierarchy), rows)


def get_role(session: Session, tenant_id: int, role_id: int, field: str = "id") -> Role:
    role = session.get(Role, role_id)
    if role is None or role.tenant_id != tenant_id:
        raise NotFound("no such role", field=field)
    return role


def _checked_name(session: Session, tenant_id: int, name: str, role_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise BadUserInput("a role needs a name", field="name")
    if len(name) > 100:
        raise BadUserInput("at most 100 characters", field="name")
    taken = session.scalar(select(Role.id).where(Role.tenant_id == tenant_id, Role.name == name))
    if taken is not None and taken != role_id:
        raise Conflict(f"a role named {name!r} already exists", field="name")
    return name


def seed_system_roles(session: Session, tenant_id: int) -> dict[str, Role]:
    """The built-in roles of a new organisation (CEO, and Manager below it)."""
    made: dict[str, Role] = {}
    for name, parent in SYSTEM_ROLES:
        role = Role(
            tenant_id=tenant_id,
            name=name,
            parent_id=made[parent].id if parent else None,
            builtin=True,
        )
        session.add(role)
        _attach(session, role)
        made[name] = role
    return made


def create_role(session: Session, tenant_id: int, name: str, parent_id: int | None) -> Role:
    """A role of ``tenant_id`` below ``parent_id`` (at the top when ``None``)."""
    name = _checked_name(session, tenant_id, name, None)
    if parent_id is not None:
        get_role(session, tenant_id, parent_id, "parentId")
    role = Role(tenant_id=tenant_id, name=name, parent_id=parent_id)
    session.add(role)
    _attach(session, role)
    log_admin(session, tenant_id, "access.role_created", name, {"parentId": parent_id})
    return role


def _move(session: Session, role: Role, parent: Role | None) -> None:
    """Hang ``role`` and everything below it under ``parent``; cycles are refused."""
    if role.parent_id == (parent.id if parent else None):
        return
    sub_depths = dict(_descendants(session, role.id))
    if parent is not None and parent.id in sub_depths:
        raise BadUserInput(
            "a role cannot be placed below itself or a role below it", field="parentId"
        )
    old_above = [a for a, d in _ancestors(session, role.id) if d > 0]
    if old_above:
        session.execute(
            delete(RoleHierarchy).where(
                and_(
                    RoleHierarchy.ancestor_id.in_(old_above),
                    RoleHierarchy.descendant_id.in_(list(sub_depths)),
                )
            )
        )
    if parent is not None:
        session.execute(
            insert(RoleHierarchy),
            [
                {"ancestor_id": a, "descendant_id": d, "depth": ad + 1 + dd}
                for a, ad in _ancestors(session, parent.id)
                for d, dd in sub_depths.items()
            ],
        )
    role.parent_id = parent.id if parent else None
    session.flush()


@dataclass
class RoleChanges:
    """A partial update: ``None`` leaves a part unchanged."""

    name: str | None = None
    parent_id: int | None = None
    clear_parent: bool = False


def update_role(session: Session, role: Role, changes: RoleChanges) -> Role:
    """Rename a role or move it (with the roles below it) in the tree."""
    if changes.name is not None:
        role.name = _checked_name(session, role.tenant_id, changes.name, role.id)
    if changes.clear_parent:
        _move(session, role, None)
    elif changes.parent_id is not None:
        _move(session, role, get_role(session, role.tenant_id, changes.parent_id, "parentId"))
    log_admin(
        session,
        role.tenant_id,
        "access.role_updated",
        role.name,
        {k: v for k, v in vars(changes).items() if v not in (None, False)},
    )
    session.flush()
    _refresh(session)
    return role


def delete_role(session: Session, role: Role) -> None:
    """Delete a role no user holds; the roles below it move up to its parent."""
    if role.builtin:
        raise Conflict("built-in roles cannot be deleted")
    holders = session.scalar(select(func.count(User.id)).where(User.role_id == role.id))
    if holders:
        raise Conflict(f"{holders} user(s) hold this role; give them another one first")
    above = [a for a, d in _ancestors(session, role.id) if d > 0]
    below = [d for d, depth in _descendants(session, role.id) if depth > 0]
    if above and below:  # paths through the role get one step shorter
        session.execute(
            update(RoleHierarchy)
            .where(RoleHierarchy.ancestor_id.in_(above), RoleHierarchy.descendant_id.in_(below))
            .values(depth=RoleHierarchy.depth - 1)
        )
    session.execute(update(Role).where(Role.parent_id == role.id).values(parent_id=role.parent_id))
    session.execute(
        delete(RoleHierarchy).where(
            (RoleHierarchy.ancestor_id == role.id) | (RoleHierarchy.descendant_id == role.id)
        )
    )
    session.delete(role)
    log_admin(session, role.tenant_id, "access.role_deleted", role.name)
    session.flush()
    session.expire_all()
    _refresh(session)


def set_user_role(session: Session, user: User, role: Role | None) -> None:
    """Give ``user`` a role of its organisation, or none; apart from its profile."""
    if role is not None and role.tenant_id != user.tenant_id:
        raise NotFound("no such role", field="roleId")
    user.role_id = role.id if role else None
    session.flush()
    _refresh(session)


def roles(session: Session, tenant_id: int) -> list[Role]:
    return list(
        session.scalars(select(Role).where(Role.tenant_id == tenant_id).order_by(Role.name))
    )


def chain(session: Session, from_role_id: int, to_ancestor_id: int) -> list[Role]:
    """The roles from ``from_role_id`` up to ``to_ancestor_id`` (both included)."""
    depths = dict(_ancestors(session, from_role_id))
    if to_ancestor_id not in depths:
        return []
    ids = [a for a, d in sorted(depths.items(), key=lambda x: x[1]) if d <= depths[to_ancestor_id]]
    found = {
        r.id: r
        for r in session.scalars(select(Role).where(Role.id.in_(ids)).execution_options(**_SYS))
    }
    return [found[i] for i in ids if i in found]
