"""Administering access: profiles, their permissions and field rules, users and the
hierarchy, record shares and sharing rules. No Strawberry here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.access import groups, hierarchy, roles
from gateway.access.enforcement import access_of, get_writable
from gateway.access.models import (
    FieldMode,
    ProfileFieldRule,
    ProfilePermission,
    RecordShare,
    SharingRule,
)
from gateway.access.scope import SYSTEM
from gateway.audit.admin import log_admin
from gateway.contract import AccessControlledEntity, Action, PermissionKind
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.graphql.common import global_id
from gateway.identity import services as identity
from gateway.identity.models import AssistantLink, Profile, ProfileKind, User
from gateway.notifications import notify
from gateway.plugins import PluginRegistry

_SYS = {SYSTEM: True}


def standard_grants(registry: PluginRegistry) -> list[str]:
    """What a new Standard profile holds: create, read and update on every entity."""
    return sorted(
        code
        for code, p in registry.permissions.items()
        if p.kind is PermissionKind.MODULE and p.action is not Action.DELETE
    )


# -- profiles -----------------------------------------------------------------------------


@dataclass
class ProfileChanges:
    """A partial update: ``None`` leaves a part unchanged."""

    name: str | None = None
    kind: ProfileKind | None = None
    parent_id: int | None = None
    clear_parent: bool = False
    permissions: list[str] | None = None
    field_rules: list[tuple[str, str, FieldMode]] | None = None


def _profile(session: Session, tenant_id: int, profile_id: int) -> Profile:
    profile = session.get(Profile, profile_id)
    if profile is None or profile.tenant_id != tenant_id:
        raise NotFound("no such profile", field="id")
    return profile


def get_profile(session: Session, tenant_id: int, profile_id: int) -> Profile:
    return _profile(session, tenant_id, profile_id)


def _check_permissions(registry: PluginRegistry, codes: Iterable[str]) -> list[str]:
    unknown = sorted(set(codes) - set(registry.permissions))
    if unknown:
        raise BadUserInput(f"unknown permission(s): {', '.join(unknown)}", field="permissions")
    return sorted(set(codes))


def _check_field_rules(
    known_fields: set[tuple[str, str]], rules: Iterable[tuple[str, str, FieldMode]]
) -> list[tuple[str, str, FieldMode]]:
    rules = list(rules)
    for type_name, field_name, _ in rules:
        if (type_name, field_name) not in known_fields:
            raise BadUserInput(f"unknown field {type_name}.{field_name}", field="fieldRules")
    return rules


def _set_parent(session: Session, profile: Profile, parent_id: int | None) -> None:
    if parent_id is None:
        profile.parent_id = None
        return
    parent: Profile | None = _profile(session, profile.tenant_id, parent_id)
    seen = {profile.id}
    while parent is not None:
        if parent.id in seen:
            raise BadUserInput("a profile cannot depend on itself", field="parentId")
        seen.add(parent.id)
        parent = session.get(Profile, parent.parent_id) if parent.parent_id else None
    profile.parent_id = parent_id


def _replace_grants(
    session: Session,
    profile: Profile,
    permissions: list[str] | None,
    field_rules: list[tuple[str, str, FieldMode]] | None,
) -> None:
    if permissions is not None:
        session.execute(delete(ProfilePermission).where(ProfilePermission.profile_id == profile.id))
        session.add_all(ProfilePermission(profile_id=profile.id, code=c) for c in permissions)
    if field_rules is not None:
        session.execute(delete(ProfileFieldRule).where(ProfileFieldRule.profile_id == profile.id))
        session.add_all(
            ProfileFieldRule(profile_id=profile.id, type_name=t, field_name=f, mode=m)
            for t, f, m in field_rules
        )
    session.flush()


def create_profile(
    session: Session,
    registry: PluginRegistry,
    known_fields: set[tuple[str, str]],
    tenant_id: int,
    name: str,
    kind: ProfileKind,
    changes: ProfileChanges,
) -> Profile:
    name = name.strip()
    if not name:
        raise BadUserInput("a profile needs a name", field="name")
    if session.scalar(
        select(Profile.id).where(Profile.tenant_id == tenant_id, Profile.name == name)
    ):
        raise Conflict(f"a profile named {name!r} already exists", field="name")
    permissions = _check_permissions(registry, changes.permissions or [])
    rules = _check_field_rules(known_fields, changes.field_rules or [])
    profile = Profile(tenant_id=tenant_id, name=name, kind=kind)
    session.add(profile)
    session.flush()
    _set_parent(session, profile, changes.parent_id)
    _replace_grants(session, profile, permissions, rules)
    log_admin(session, tenant_id, "access.profile_created", name, {"kind": kind})
    return profile


def _users_of(session: Session, profile: Profile) -> list[User]:
    return list(session.scalars(select(User).where(User.profile_id == profile.id)))


def update_profile(
    session: Session,
    registry: PluginRegistry,
    known_fields: set[tuple[str, str]],
    profile: Profile,
    changes: ProfileChanges,
) -> Profile:
    if changes.name is not None and changes.name.strip() != profile.name:
        if profile.builtin:
            raise BadUserInput("built-in profiles keep their names", field="name")
        taken = session.scalar(
            select(Profile.id).where(
                Profile.tenant_id == profile.tenant_id, Profile.name == changes.name.strip()
            )
        )
        if taken:
            raise Conflict(f"a profile named {changes.name!r} already exists", field="name")
        profile.name = changes.name.strip()
    if changes.kind is not None and changes.kind is not profile.kind:
        if profile.builtin:
            raise BadUserInput("the kind of a built-in profile is fixed", field="kind")
        users = _users_of(session, profile)
        if profile.kind is ProfileKind.ADMINISTRATOR:
            for user in users:
                identity.ensure_not_last_admin(session, user)
        if changes.kind is ProfileKind.ASSISTANT:
            for user in users:
                ensure_owns_nothing(session, registry, user)
        profile.kind = changes.kind
    if changes.clear_parent:
        _set_parent(session, profile, None)
    elif changes.parent_id is not None:
        _set_parent(session, profile, changes.parent_id)
    permissions = (
        _check_permissions(registry, changes.permissions)
        if changes.permissions is not None
        else None
    )
    rules = (
        _check_field_rules(known_fields, changes.field_rules)
        if changes.field_rules is not None
        else None
    )
    _replace_grants(session, profile, permissions, rules)
    log_admin(
        session,
        profile.tenant_id,
        "access.profile_updated",
        profile.name,
        {
            "kind": changes.kind,
            "permissions": sorted(permissions) if permissions is not None else None,
            "fieldRules": [f"{t}.{f}: {m}" for t, f, m in rules] if rules is not None else None,
        },
    )
    return profile


def delete_profile(session: Session, profile: Profile) -> None:
    if profile.builtin:
        raise Conflict("built-in profiles cannot be deleted")
    holders = session.scalar(select(func.count(User.id)).where(User.profile_id == profile.id))
    if holders:
        raise Conflict(f"{holders} user(s) hold this profile; give them another one first")
    for child in session.scalars(select(Profile).where(Profile.parent_id == profile.id)):
        child.parent_id = profile.parent_id
    session.delete(profile)
    log_admin(session, profile.tenant_id, "access.profile_deleted", profile.name)
    session.flush()


def profiles(session: Session, tenant_id: int) -> list[Profile]:
    return list(
        session.scalars(
            select(Profile).where(Profile.tenant_id == tenant_id).order_by(Profile.name)
        )
    )


def profile_grants(
    session: Session, profile_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[tuple[str, str, FieldMode]]]]:
    """Permissions and field rules of several profiles in two queries."""
    perms: dict[int, list[str]] = {pid: [] for pid in profile_ids}
    for pid, code in session.execute(
        select(ProfilePermission.profile_id, ProfilePermission.code)
        .where(ProfilePermission.profile_id.in_(profile_ids))
        .order_by(ProfilePermission.code)
    ):
        perms[pid].append(code)
    rules: dict[int, list[tuple[str, str, FieldMode]]] = {pid: [] for pid in profile_ids}
    for r in session.scalars(
        select(ProfileFieldRule)
        .where(ProfileFieldRule.profile_id.in_(profile_ids))
        .order_by(ProfileFieldRule.type_name, ProfileFieldRule.field_name)
    ):
        rules[r.profile_id].append((r.type_name, r.field_name, r.mode))
    return perms, rules


def grant(session: Session, profile: Profile, codes: Iterable[str]) -> None:
    """Add permissions to a profile (idempotent); used by modules' demo data."""
    held = set(
        session.scalars(
            select(ProfilePermission.code).where(ProfilePermission.profile_id == profile.id)
        )
    )
    session.add_all(
        ProfilePermission(profile_id=profile.id, code=c) for c in sorted(set(codes) - held)
    )
    session.flush()


# -- users ----------------------------------------------------------------------------------


def owned_records(session: Session, registry: PluginRegistry, user_id: int) -> int:
    total = 0
    for entity in registry.entities.values():
        owner = getattr(entity.model, entity.owner_attribute)
        total += (
            session.scalar(
                select(func.count())
                .select_from(entity.model)
                .where(owner == user_id)
                .execution_options(**_SYS)
            )
            or 0
        )
    return total


def ensure_owns_nothing(session: Session, registry: PluginRegistry, user: User) -> None:
    count = owned_records(session, registry, user.id)
    if count:
        raise Conflict(
            f"{user.email} owns {count} record(s); assistants own none, so reassign them first",
            field="profileId",
        )


def _user(session: Session, tenant_id: int, user_id: int, field: str = "id") -> User:
    user = session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound("no such user", field=field)
    return user


def get_user(session: Session, tenant_id: int, user_id: int, field: str = "id") -> User:
    return _user(session, tenant_id, user_id, field)


def set_served_users(session: Session, assistant: User, served_ids: list[int]) -> None:
    if served_ids and assistant.profile.kind is not ProfileKind.ASSISTANT:
        raise BadUserInput("only assistants serve other users", field="servedUserIds")
    served = [_user(session, assistant.tenant_id, uid, "servedUserIds") for uid in served_ids]
    if any(u.id == assistant.id for u in served):
        raise BadUserInput("an assistant cannot serve itself", field="servedUserIds")
    session.execute(delete(AssistantLink).where(AssistantLink.assistant_id == assistant.id))
    session.add_all(AssistantLink(assistant_id=assistant.id, served_user_id=u.id) for u in served)
    session.flush()


@dataclass
class UserChanges:
    display_name: str | None = None
    profile_id: int | None = None
    manager_id: int | None = None
    clear_manager: bool = False
    served_user_ids: list[int] | None = None
    is_active: bool | None = None
    role_id: int | None = None
    clear_role: bool = False


def update_user(
    session: Session, registry: PluginRegistry, user: User, changes: UserChanges
) -> User:
    if changes.display_name is not None:
        if not changes.display_name.strip():
            raise BadUserInput("a name is needed", field="displayName")
        user.display_name = changes.display_name.strip()
    if changes.profile_id is not None and changes.profile_id != user.profile_id:
        profile = _profile(session, user.tenant_id, changes.profile_id)
        if profile.kind is ProfileKind.ASSISTANT:
            ensure_owns_nothing(session, registry, user)
        identity.set_user_profile(session, user, profile)
    if changes.clear_manager:
        hierarchy.set_manager(session, user, None)
    elif changes.manager_id is not None:
        manager = _user(session, user.tenant_id, changes.manager_id, "managerId")
        hierarchy.set_manager(session, user, manager)
    if changes.served_user_ids is not None:
        set_served_users(session, user, changes.served_user_ids)
    if changes.clear_role:
        roles.set_user_role(session, user, None)
    elif changes.role_id is not None:
        roles.set_user_role(
            session, user, roles.get_role(session, user.tenant_id, changes.role_id, "roleId")
        )
    if changes.is_active is False and user.is_active:
        identity.deactivate_user(session, user)
    elif changes.is_active is True:
        user.is_active = True
    given = {k: v for k, v in vars(changes).items() if v not in (None, False)}
    log_admin(session, user.tenant_id, "users.updated", user.email, given)
    session.flush()
    return user


def users(session: Session, tenant_id: int, limit: int | None = None) -> list[User]:
    """The tenant's users by email; the first ``limit`` of them, counted in SQL."""
    stmt = select(User).where(User.tenant_id == tenant_id).order_by(User.email).limit(limit)
    return list(session.scalars(stmt))


def served_user_ids(session: Session, assistant_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {a: [] for a in assistant_ids}
    for a, s in session.execute(
        select(AssistantLink.assistant_id, AssistantLink.served_user_id).where(
            AssistantLink.assistant_id.in_(assistant_ids)
        )
    ):
        result[a].append(s)
    return result


# -- shares and sharing rules -------------------------------------------------------------


def share_record(
    session: Session,
    registry: PluginRegistry,
    entity_key: str,
    record_id: int,
    user_id: int,
    can_write: bool,
    shared_by: int | None = None,
) -> None:
    """Share a record the caller may change with another user of the organisation, who is
    notified (MISSION A9) when the share is new or now lets them change the record."""
    entity = registry.entities[entity_key]
    record = get_writable(session, entity.model, record_id, entity_key)
    target = _user(session, record.tenant_id, user_id, "userId")
    if not target.is_active:
        raise BadUserInput("that user is deactivated", field="userId")
    share = session.get(RecordShare, (target.id, entity_key, record.id))
    opened = share is None or (can_write and not share.can_write)
    if share is None:
        session.add(
            RecordShare(
                user_id=target.id,
                entity=entity_key,
                record_id=record.id,
                tenant_id=record.tenant_id,
                can_write=can_write,
            )
        )
    else:
        share.can_write = can_write
    if opened and target.id != shared_by:
        _notify_shared(session, entity, record, target, can_write, shared_by)
    session.flush()
    _refresh(session)


def _notify_shared(
    session: Session,
    entity: AccessControlledEntity,
    record: Any,
    target: User,
    can_write: bool,
    shared_by: int | None,
) -> None:
    by = session.get(User, shared_by) if shared_by is not None else None
    name = next((str(v) for a in _LABELS if (v := getattr(record, a, None))), f"#{record.id}")
    what = entity.graphql_type or entity.entity
    verb = "to read and change" if can_write else "to read"
    who = by.display_name if by is not None else "Someone"
    notify(
        session,
        tenant_id=record.tenant_id,
        user_id=target.id,
        kind="access.shared",
        title=f"{who} shared the {what.lower()} {name[:120]} with you {verb}",
        subject_id=global_id(what, record.id) if entity.graphql_type else None,
    )


#: Attributes that name a record in a notification, in order of preference.
_LABELS = ("display_name", "title", "name", "number")


def unshare_record(
    session: Session, registry: PluginRegistry, entity_key: str, record_id: int, user_id: int
) -> None:
    entity = registry.entities[entity_key]
    record = get_writable(session, entity.model, record_id, entity_key)
    session.execute(
        delete(RecordShare).where(
            RecordShare.entity == entity_key,
            RecordShare.record_id == record.id,
            RecordShare.user_id == user_id,
        )
    )
    _refresh(session)


def record_shares(session: Session, entity_key: str, record_ids: list[int]) -> list[RecordShare]:
    return list(
        session.scalars(
            select(RecordShare)
            .where(RecordShare.entity == entity_key, RecordShare.record_id.in_(record_ids))
            .order_by(RecordShare.user_id)
        )
    )


@dataclass
class RuleSpec:
    name: str
    owner_root_id: int
    can_write: bool = False
    entity: str | None = None
    grantee_profile_id: int | None = None
    grantee_root_id: int | None = None
    grantee_group_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def create_sharing_rule(
    session: Session, registry: PluginRegistry, tenant_id: int, spec: RuleSpec
) -> SharingRule:
    grantees = (spec.grantee_profile_id, spec.grantee_root_id, spec.grantee_group_id)
    if sum(g is not None for g in grantees) != 1:
        raise BadUserInput(
            "give exactly one grantee: a profile, a user's subtree or a user group",
            field="grantee",
        )
    if spec.entity is not None and spec.entity not in registry.entities:
        raise BadUserInput(f"unknown entity {spec.entity!r}", field="entity")
    _user(session, tenant_id, spec.owner_root_id, "ownerRootId")
    if spec.grantee_profile_id is not None:
        _profile(session, tenant_id, spec.grantee_profile_id)
    if spec.grantee_root_id is not None:
        _user(session, tenant_id, spec.grantee_root_id, "granteeRootId")
    if spec.grantee_group_id is not None:
        groups.get_group(session, tenant_id, spec.grantee_group_id, "granteeGroupId")
    rule = SharingRule(
        tenant_id=tenant_id,
        name=spec.name.strip() or "sharing rule",
        entity=spec.entity,
        owner_root_id=spec.owner_root_id,
        grantee_profile_id=spec.grantee_profile_id,
        grantee_root_id=spec.grantee_root_id,
        grantee_group_id=spec.grantee_group_id,
        can_write=spec.can_write,
    )
    session.add(rule)
    session.flush()
    log_admin(
        session,
        tenant_id,
        "access.sharing_rule_created",
        rule.name,
        {"entity": spec.entity or "every kind", "canWrite": spec.can_write},
    )
    _refresh(session)
    return rule


def delete_sharing_rule(session: Session, tenant_id: int, rule_id: int) -> None:
    rule = session.get(SharingRule, rule_id)
    if rule is None or rule.tenant_id != tenant_id:
        raise NotFound("no such sharing rule", field="id")
    session.delete(rule)
    log_admin(session, tenant_id, "access.sharing_rule_deleted", rule.name)
    session.flush()
    _refresh(session)


def sharing_rules(session: Session, tenant_id: int) -> list[SharingRule]:
    return list(
        session.scalars(
            select(SharingRule).where(SharingRule.tenant_id == tenant_id).order_by(SharingRule.id)
        )
    )


def _refresh(session: Session) -> None:
    access = access_of(session)
    if access is not None:
        access.invalidate()
