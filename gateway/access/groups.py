"""User groups (MISSION A11): module permissions granted to chosen users beyond their
profiles. A member's permissions are their profile's plus every grant of their groups
(``AccessScope.permissions``); field rules stay per profile. Service functions taking a
Session (the what-if preview applies them in a SAVEPOINT); no Strawberry here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, union
from sqlalchemy.orm import Session

from gateway.access.enforcement import access_of
from gateway.access.models import ProfilePermission, SharingRule
from gateway.access.role_models import GroupMember, GroupPermission, UserGroup
from gateway.audit.admin import log_admin
from gateway.contract import PermissionKind
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.identity.models import User
from gateway.plugins import PluginRegistry


def _refresh(session: Session) -> None:
    access = access_of(session)
    if access is not None:
        access.invalidate()


def get_group(session: Session, tenant_id: int, group_id: int, field: str = "id") -> UserGroup:
    group = session.get(UserGroup, group_id)
    if group is None or group.tenant_id != tenant_id:
        raise NotFound("no such user group", field=field)
    return group


def _checked_name(session: Session, tenant_id: int, name: str, group_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise BadUserInput("a group needs a name", field="name")
    if len(name) > 100:
        raise BadUserInput("at most 100 characters", field="name")
    taken = session.scalar(
        select(UserGroup.id).where(UserGroup.tenant_id == tenant_id, UserGroup.name == name)
    )
    if taken is not None and taken != group_id:
        raise Conflict(f"a group named {name!r} already exists", field="name")
    return name


def _checked_permissions(registry: PluginRegistry, codes: Iterable[str]) -> list[str]:
    """Module permissions only (create, read, update, delete of an entity): content and
    administration permissions stay with profiles."""
    codes = set(codes)
    unknown = sorted(codes - set(registry.permissions))
    if unknown:
        raise BadUserInput(f"unknown permission(s): {', '.join(unknown)}", field="permissions")
    other = sorted(c for c in codes if registry.permissions[c].kind is not PermissionKind.MODULE)
    if other:
        raise BadUserInput(
            "groups grant module permissions only (create, read, update, delete of a kind "
            f"of record), not {', '.join(other)}",
            field="permissions",
        )
    return sorted(codes)


def _checked_members(session: Session, tenant_id: int, user_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(user_ids))
    found = set(
        session.scalars(select(User.id).where(User.id.in_(ids), User.tenant_id == tenant_id))
    )
    if found != set(ids):
        raise NotFound("no such user", field="memberIds")
    return ids


@dataclass
class GroupChanges:
    """A partial update: ``None`` leaves a part unchanged; lists replace."""

    name: str | None = None
    member_ids: list[int] | None = None
    permissions: list[str] | None = None


def _replace(
    session: Session, group: UserGroup, members: list[int] | None, codes: list[str] | None
) -> None:
    if members is not None:
        session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        session.add_all(GroupMember(group_id=group.id, user_id=u) for u in members)
    if codes is not None:
        session.execute(delete(GroupPermission).where(GroupPermission.group_id == group.id))
        session.add_all(GroupPermission(group_id=group.id, code=c) for c in codes)
    session.flush()
    _refresh(session)


def create_group(
    session: Session, registry: PluginRegistry, tenant_id: int, changes: GroupChanges
) -> UserGroup:
    name = _checked_name(session, tenant_id, changes.name or "", None)
    members = _checked_members(session, tenant_id, changes.member_ids or [])
    codes = _checked_permissions(registry, changes.permissions or [])
    group = UserGroup(tenant_id=tenant_id, name=name)
    session.add(group)
    session.flush()
    _replace(session, group, members, codes)
    log_admin(
        session,
        tenant_id,
        "access.group_created",
        name,
        {"members": len(members), "permissions": codes},
    )
    return group


def update_group(
    session: Session, registry: PluginRegistry, group: UserGroup, changes: GroupChanges
) -> UserGroup:
    if changes.name is not None:
        group.name = _checked_name(session, group.tenant_id, changes.name, group.id)
    members = (
        _checked_members(session, group.tenant_id, changes.member_ids)
        if changes.member_ids is not None
        else None
    )
    codes = (
        _checked_permissions(registry, changes.permissions)
        if changes.permissions is not None
        else None
    )
    _replace(session, group, members, codes)
    log_admin(
        session,
        group.tenant_id,
        "access.group_updated",
        group.name,
        {
            "name": changes.name,
            "memberIds": members,
            "permissions": codes,
        },
    )
    return group


def delete_group(session: Session, group: UserGroup) -> None:
    """Delete a group: its members lose its grants, and sharing rules naming it go too."""
    session.execute(delete(SharingRule).where(SharingRule.grantee_group_id == group.id))
    session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
    session.execute(delete(GroupPermission).where(GroupPermission.group_id == group.id))
    session.delete(group)
    log_admin(session, group.tenant_id, "access.group_deleted", group.name)
    session.flush()
    _refresh(session)


def groups(session: Session, tenant_id: int) -> list[UserGroup]:
    return list(
        session.scalars(
            select(UserGroup).where(UserGroup.tenant_id == tenant_id).order_by(UserGroup.name)
        )
    )


def effective_permissions(session: Session, user_id: int, profile_id: int) -> list[str]:
    """A (non-administrator) user's permission codes: the profile's and their groups'."""
    profile = select(ProfilePermission.code).where(ProfilePermission.profile_id == profile_id)
    granted = select(GroupPermission.code).where(
        GroupPermission.group_id == GroupMember.group_id, GroupMember.user_id == user_id
    )
    return sorted(set(session.scalars(union(profile, granted))))


def group_details(
    session: Session, group_ids: list[int]
) -> tuple[dict[int, list[int]], dict[int, list[str]]]:
    """Members and grants of several groups in two queries."""
    members: dict[int, list[int]] = {g: [] for g in group_ids}
    for g, u in session.execute(
        select(GroupMember.group_id, GroupMember.user_id)
        .where(GroupMember.group_id.in_(group_ids))
        .order_by(GroupMember.user_id)
    ):
        members[g].append(u)
    codes: dict[int, list[str]] = {g: [] for g in group_ids}
    for g, c in session.execute(
        select(GroupPermission.group_id, GroupPermission.code)
        .where(GroupPermission.group_id.in_(group_ids))
        .order_by(GroupPermission.code)
    ):
        codes[g].append(c)
    return members, codes
