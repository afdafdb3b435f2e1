"""Admin GraphQL API of access control: profiles, users and hierarchy, shares, sharing rules,
the permission catalogue, the profiles export and ``explainAccess``."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLObjectType
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import export, hierarchy
from gateway.access import services as svc
from gateway.access.enforcement import get_visible
from gateway.access.explain import Decision, explain
from gateway.access.models import FieldMode, SharingRule
from gateway.access.predicates import Reason
from gateway.access.scope import AccessScope
from gateway.contract import Action, PermissionKind
from gateway.core.types import (
    FieldModeEnum,
    ProfileKindEnum,
    ProfileType,
    UserType,
    load_users,
    prime_users,
)
from gateway.errors import BadUserInput
from gateway.excel import XLSX_MIME
from gateway.graphql.common import UserError, attempt, global_id, mutate, page_size, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.payloads import DeletePayload, ExportFile
from gateway.identity import services as identity
from gateway.identity.models import Profile, ProfileKind, User
from gateway.plugins import PluginRegistry

Ctx = Info[RequestContext, None]
T = TypeVar("T")

MANAGE_PROFILES = "core.profiles.manage"
MANAGE_USERS = "core.users.manage"
MANAGE_SHARING = "core.sharing.manage"

PermissionKindEnum = strawberry.enum(PermissionKind, name="PermissionKind")
ActionEnum = strawberry.enum(Action, name="PermissionAction")
ReasonEnum = strawberry.enum(Reason, name="AccessReasonKind")


# -- types ---------------------------------------------------------------------------------


@strawberry.type(name="Permission")
class PermissionType:
    code: str
    description: str
    module: str
    kind: PermissionKindEnum  # type: ignore[valid-type]
    entity: str | None
    action: ActionEnum | None  # type: ignore[valid-type]


@strawberry.type
class ProfileTreeNode:
    profile: ProfileType
    children: list[ProfileTreeNode]


@strawberry.type
class HierarchyNode:
    user: UserType
    reports: list[HierarchyNode] = strawberry.field(description="Users who report to this one.")


@strawberry.type(name="SharingRule")
class SharingRuleType:
    record: strawberry.Private[SharingRule]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("SharingRule", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The entity it applies to; null for every entity.")
    def entity(self) -> str | None:
        return self.record.entity

    @strawberry.field(description="Records owned by this user or anyone below them are shared.")
    def owner_root(self, info: Ctx) -> UserType:
        return UserType(
            record=load_users(info.context, [self.record.owner_root_id])[self.record.owner_root_id]
        )

    @strawberry.field
    def grantee_profile(self, info: Ctx) -> ProfileType | None:
        pid = self.record.grantee_profile_id
        return ProfileType(record=info.context.session.get_one(Profile, pid)) if pid else None

    @strawberry.field(description="Shared with this user and everyone below them.")
    def grantee_root(self, info: Ctx) -> UserType | None:
        uid = self.record.grantee_root_id
        return UserType(record=load_users(info.context, [uid])[uid]) if uid else None

    @strawberry.field
    def can_write(self) -> bool:
        return self.record.can_write


@strawberry.type
class RecordShareType:
    user: UserType
    can_write: bool


@strawberry.type
class AccessReason:
    reason: ReasonEnum  # type: ignore[valid-type]
    granted: bool
    detail: str


@strawberry.type
class AccessDecision:
    allowed: bool
    reasons: list[AccessReason] = strawberry.field(
        description="Every check made, in order; the granted ones are why access is allowed."
    )

    @classmethod
    def of(cls, d: Decision) -> AccessDecision:
        return cls(
            allowed=d.allowed,
            reasons=[
                AccessReason(reason=f.reason, granted=f.granted, detail=f.detail)
                for f in d.findings
            ],
        )


@strawberry.type
class AccessExplanation:
    read: AccessDecision
    write: AccessDecision
    field: AccessDecision | None = None


@strawberry.input
class FieldRuleInput:
    type_name: str
    field_name: str
    mode: FieldModeEnum  # type: ignore[valid-type]


@strawberry.input
class CreateProfileInput:
    name: str
    kind: ProfileKindEnum  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = None
    permissions: list[str] = strawberry.field(default_factory=list)
    field_rules: list[FieldRuleInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Partial update: omitted fields keep their value; lists replace.")
class UpdateProfileInput:
    name: str | None = strawberry.UNSET
    kind: ProfileKindEnum | None = strawberry.UNSET  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = strawberry.UNSET
    permissions: list[str] | None = strawberry.UNSET
    field_rules: list[FieldRuleInput] | None = strawberry.UNSET


@strawberry.input
class CreateUserInput:
    email: str
    display_name: str
    password: str
    profile_id: strawberry.ID
    manager_id: strawberry.ID | None = None
    served_user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Partial update: omitted fields keep their value.")
class UpdateUserInput:
    display_name: str | None = strawberry.UNSET
    profile_id: strawberry.ID | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    served_user_ids: list[strawberry.ID] | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET


@strawberry.input
class CreateSharingRuleInput:
    name: str
    owner_root_id: strawberry.ID
    grantee_profile_id: strawberry.ID | None = None
    grantee_root_id: strawberry.ID | None = None
    entity: str | None = None
    can_write: bool = False


@strawberry.type
class ProfilePayload:
    profile: ProfileType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SharingRulePayload:
    sharing_rule: SharingRuleType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShareRecordPayload:
    shares: list[RecordShareType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- helpers --------------------------------------------------------------------------------


def _known_fields(ctx: RequestContext) -> set[tuple[str, str]]:
    schema = ctx.gateway.schemas.full()._schema
    return {
        (type_name, field_name)
        for type_name, t in schema.type_map.items()
        if not type_name.startswith("__") and isinstance(t, GraphQLObjectType)
        for field_name in t.fields
    }


def _id(value: Any, type_name: str, field: str) -> int | None:
    return (
        None
        if value is None or value is strawberry.UNSET
        else parse_global_id(value, type_name, field)
    )


def _record_ref(registry: PluginRegistry, record_id: str) -> tuple[str, int]:
    from strawberry.relay import from_base64

    try:
        type_name, raw = from_base64(record_id)
        pk = int(raw)
    except (ValueError, TypeError) as exc:
        raise BadUserInput("not a valid ID", field="recordId") from exc
    entity = registry.entity_of_type.get(type_name)
    if entity is None:
        raise BadUserInput(f"{type_name} records are not access-controlled", field="recordId")
    return entity.entity, pk


def _rules(items: list[FieldRuleInput]) -> list[tuple[str, str, FieldMode]]:
    return [(r.type_name, r.field_name, FieldMode(r.mode)) for r in items]


def _share_list(
    ctx: RequestContext, session: Session, entity: str, record_id: int
) -> list[RecordShareType]:
    shares = svc.record_shares(session, entity, [record_id])
    users = load_users(ctx, [s.user_id for s in shares])
    return [
        RecordShareType(user=UserType(record=users[s.user_id]), can_write=s.can_write)
        for s in shares
        if s.user_id in users
    ]


# -- queries --------------------------------------------------------------------------------


@strawberry.field(description="The organisation's profiles (administrators).")
def profiles(info: Ctx) -> list[ProfileType]:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)
    return [ProfileType(record=p) for p in svc.profiles(ctx.session, caller.tenant_id)]


@strawberry.field(description="The profiles as a tree of 'depends on' links.")
def profile_tree(info: Ctx) -> list[ProfileTreeNode]:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)
    all_profiles = svc.profiles(ctx.session, caller.tenant_id)
    known = {p.id for p in all_profiles}
    children: dict[int | None, list[Profile]] = {}
    for p in all_profiles:
        children.setdefault(p.parent_id if p.parent_id in known else None, []).append(p)

    def node(p: Profile) -> ProfileTreeNode:
        return ProfileTreeNode(
            profile=ProfileType(record=p), children=[node(c) for c in children.get(p.id, [])]
        )

    return [node(p) for p in children.get(None, [])]


@strawberry.field(description="Every permission the installed modules define.")
def permission_catalogue(info: Ctx) -> list[PermissionType]:
    ctx = info.context
    ctx.require(MANAGE_PROFILES)
    registry = ctx.gateway.registry
    return [
        PermissionType(
            code=code,
            description=p.description,
            module=registry.permission_owner[code].info.name,
            kind=p.kind,
            entity=p.entity,
            action=p.action,
        )
        for code, p in sorted(registry.permissions.items())
    ]


@strawberry.field(description="The profiles repository as an Excel workbook (base64).")
def export_profiles(info: Ctx) -> ExportFile:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)
    content = export.profiles_workbook(ctx.session, ctx.gateway.registry, caller.tenant_id)
    return ExportFile(
        filename=f"profiles-{caller.tenant_slug}-{date.today().isoformat()}.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(content).decode(),
    )


@strawberry.field(description="The organisation's users (the team directory).")
def users(info: Ctx, first: int | None = None) -> list[UserType]:
    ctx = info.context
    caller = ctx.require_caller()
    size = page_size(first, ctx.gateway.settings)
    found = svc.users(ctx.session, caller.tenant_id, limit=size)
    prime_users(ctx, found)
    return [UserType(record=u) for u in found]


@strawberry.field
def user(info: Ctx, id: strawberry.ID) -> UserType | None:
    ctx = info.context
    caller = ctx.require_caller()
    pk = parse_global_id(id, "User")
    found = load_users(ctx, [pk]).get(pk)
    return UserType(record=found) if found and found.tenant_id == caller.tenant_id else None


@strawberry.field(description="Everyone below a user (default: the caller) in the hierarchy.")
def subordinates(info: Ctx, user_id: strawberry.ID | None = None) -> list[UserType]:
    ctx = info.context
    caller = ctx.require_caller()
    target = caller.user_id
    if user_id is not None:
        target = parse_global_id(user_id, "User", "userId")
        if target != caller.user_id:
            ctx.require(MANAGE_USERS)
    ids = [d for d, depth in hierarchy.descendants(ctx.session, target) if depth > 0]
    found = load_users(ctx, ids)
    prime_users(ctx, list(found.values()))
    return [UserType(record=found[i]) for i in ids if i in found]


@strawberry.field(name="hierarchy", description="The reporting hierarchy, from the top.")
def hierarchy_tree(info: Ctx) -> list[HierarchyNode]:
    ctx = info.context
    caller = ctx.require_caller()
    everyone = svc.users(ctx.session, caller.tenant_id)
    prime_users(ctx, everyone)
    reports: dict[int | None, list[User]] = {}
    for u in everyone:
        reports.setdefault(u.manager_id, []).append(u)

    def node(u: User) -> HierarchyNode:
        return HierarchyNode(
            user=UserType(record=u), reports=[node(r) for r in reports.get(u.id, [])]
        )

    return [node(u) for u in reports.get(None, [])]


@strawberry.field
def sharing_rules(info: Ctx) -> list[SharingRuleType]:
    ctx = info.context
    caller = ctx.require(MANAGE_SHARING)
    return [SharingRuleType(record=r) for r in svc.sharing_rules(ctx.session, caller.tenant_id)]


@strawberry.field(description="Who a record is shared with (the record must be visible).")
def record_shares(info: Ctx, record_id: strawberry.ID) -> list[RecordShareType]:
    ctx = info.context
    ctx.require_caller()
    registry = ctx.gateway.registry
    entity, pk = _record_ref(registry, record_id)
    record = get_visible(ctx.session, registry.entities[entity].model, pk, entity)
    return _share_list(ctx, ctx.session, entity, record.id)


@strawberry.field(
    description="Why a user can or cannot read and change a record (and one of its fields), "
    "computed by the code that enforces it."
)
def explain_access(
    info: Ctx, user_id: strawberry.ID, record_id: strawberry.ID, field: str | None = None
) -> AccessExplanation:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)
    registry = ctx.gateway.registry
    target = svc.get_user(
        ctx.session, caller.tenant_id, parse_global_id(user_id, "User", "userId"), "userId"
    )
    entity_key, pk = _record_ref(registry, record_id)
    entity = registry.entities[entity_key]
    with ctx.gateway.db.reading() as system:  # the target's view, not the admin's
        scope = AccessScope(
            tenant_id=target.tenant_id,
            user_id=target.id,
            profile_id=target.profile_id,
            kind=target.profile.kind,
            all_permissions=frozenset(registry.permissions),
            session=system,
        )
        policy = None
        if field is not None:
            if entity.graphql_type is None or (entity.graphql_type, field) not in _known_fields(
                ctx
            ):
                raise BadUserInput(f"unknown field {field!r}", field="field")
            policy = ctx.gateway.schemas.full().crm_field_policies.get((entity.graphql_type, field))
        result = explain(system, registry, scope, entity, pk, field, entity.graphql_type, policy)
    return AccessExplanation(
        read=AccessDecision.of(result.read),
        write=AccessDecision.of(result.write),
        field=AccessDecision.of(result.field) if result.field else None,
    )


# -- mutations ------------------------------------------------------------------------------


@strawberry.mutation
def create_profile(info: Ctx, input: CreateProfileInput) -> ProfilePayload:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)

    def work(session: Session) -> Profile:
        return svc.create_profile(
            session,
            ctx.gateway.registry,
            _known_fields(ctx),
            caller.tenant_id,
            input.name,
            ProfileKind(input.kind),
            svc.ProfileChanges(
                parent_id=_id(input.parent_id, "Profile", "parentId"),
                permissions=input.permissions,
                field_rules=_rules(input.field_rules),
            ),
        )

    return mutate(
        ctx, ProfilePayload, work, lambda result: ProfilePayload(profile=ProfileType(record=result))
    )


@strawberry.mutation
def update_profile(info: Ctx, id: strawberry.ID, input: UpdateProfileInput) -> ProfilePayload:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)

    def work(session: Session) -> Profile:
        profile = svc.get_profile(session, caller.tenant_id, parse_global_id(id, "Profile"))
        given = lambda v: v is not strawberry.UNSET  # noqa: E731
        return svc.update_profile(
            session,
            ctx.gateway.registry,
            _known_fields(ctx),
            profile,
            svc.ProfileChanges(
                name=input.name if given(input.name) and input.name is not None else None,
                kind=ProfileKind(input.kind)
                if given(input.kind) and input.kind is not None
                else None,
                parent_id=_id(input.parent_id, "Profile", "parentId"),
                clear_parent=given(input.parent_id) and input.parent_id is None,
                permissions=input.permissions if given(input.permissions) else None,
                field_rules=_rules(input.field_rules)
                if given(input.field_rules) and input.field_rules is not None
                else None,
            ),
        )

    result = attempt(ctx, work)
    ctx.cache.pop("grants", None)
    return (
        ProfilePayload(errors=result)
        if isinstance(result, list)
        else ProfilePayload(profile=ProfileType(record=result))
    )


@strawberry.mutation(description="Delete a profile; refused while users hold it.")
def delete_profile(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require(MANAGE_PROFILES)

    def work(session: Session) -> None:
        svc.delete_profile(
            session, svc.get_profile(session, caller.tenant_id, parse_global_id(id, "Profile"))
        )

    result = attempt(ctx, work)
    return (
        DeletePayload(errors=result) if isinstance(result, list) else DeletePayload(deleted_id=id)
    )


@strawberry.mutation
def create_user(info: Ctx, input: CreateUserInput) -> UserPayload:
    ctx = info.context
    caller = ctx.require(MANAGE_USERS)

    def work(session: Session) -> User:
        profile = svc.get_profile(
            session, caller.tenant_id, parse_global_id(input.profile_id, "Profile", "profileId")
        )
        manager_id = _id(input.manager_id, "User", "managerId")
        manager = (
            svc.get_user(session, caller.tenant_id, manager_id, "managerId") if manager_id else None
        )
        created = identity.create_user(
            session,
            tenant_id=caller.tenant_id,
            email=input.email,
            password=input.password,
            display_name=input.display_name,
            profile=profile,
            manager=manager,
            hash_profile=ctx.gateway.settings.password_hash_profile,
        )
        if input.served_user_ids:
            svc.set_served_users(
                session,
                created,
                [parse_global_id(i, "User", "servedUserIds") for i in input.served_user_ids],
            )
        return created

    return mutate(ctx, UserPayload, work, lambda result: UserPayload(user=UserType(record=result)))


@strawberry.mutation
def update_user(info: Ctx, id: strawberry.ID, input: UpdateUserInput) -> UserPayload:
    ctx = info.context
    caller = ctx.require(MANAGE_USERS)

    def work(session: Session) -> User:
        target = svc.get_user(session, caller.tenant_id, parse_global_id(id, "User"))
        given = lambda v: v is not strawberry.UNSET  # noqa: E731
        served = input.served_user_ids if given(input.served_user_ids) else None
        return svc.update_user(
            session,
            ctx.gateway.registry,
            target,
            svc.UserChanges(
                display_name=input.display_name if given(input.display_name) else None,
                profile_id=_id(input.profile_id, "Profile", "profileId"),
                manager_id=_id(input.manager_id, "User", "managerId"),
                clear_manager=given(input.manager_id) and input.manager_id is None,
                served_user_ids=[parse_global_id(i, "User", "servedUserIds") for i in served]
                if served is not None
                else None,
                is_active=input.is_active if given(input.is_active) else None,
            ),
        )

    result = attempt(ctx, work)
    ctx.cache.clear()
    return (
        UserPayload(errors=result)
        if isinstance(result, list)
        else UserPayload(user=UserType(record=result))
    )


@strawberry.mutation(
    description="Deactivate a user and end their sessions (never the last administrator)."
)
def deactivate_user(info: Ctx, id: strawberry.ID) -> UserPayload:
    ctx = info.context
    caller = ctx.require(MANAGE_USERS)

    def work(session: Session) -> User:
        target = svc.get_user(session, caller.tenant_id, parse_global_id(id, "User"))
        return svc.update_user(
            session, ctx.gateway.registry, target, svc.UserChanges(is_active=False)
        )

    return mutate(ctx, UserPayload, work, lambda result: UserPayload(user=UserType(record=result)))


@strawberry.mutation(description="Share a record you may change with a user (read or write).")
def share_record(
    info: Ctx, record_id: strawberry.ID, user_id: strawberry.ID, can_write: bool = False
) -> ShareRecordPayload:
    ctx = info.context
    ctx.require_caller()
    registry = ctx.gateway.registry

    def work(session: Session) -> list[RecordShareType]:
        entity, pk = _record_ref(registry, record_id)
        svc.share_record(
            session, registry, entity, pk, parse_global_id(user_id, "User", "userId"), can_write
        )
        return _share_list(ctx, session, entity, pk)

    result = attempt(ctx, work)
    if result and isinstance(result[0], UserError):
        return ShareRecordPayload(errors=result)  # type: ignore[arg-type]
    return ShareRecordPayload(shares=result)  # type: ignore[arg-type]


@strawberry.mutation
def unshare_record(
    info: Ctx, record_id: strawberry.ID, user_id: strawberry.ID
) -> ShareRecordPayload:
    ctx = info.context
    ctx.require_caller()
    registry = ctx.gateway.registry

    def work(session: Session) -> list[RecordShareType]:
        entity, pk = _record_ref(registry, record_id)
        svc.unshare_record(
            session, registry, entity, pk, parse_global_id(user_id, "User", "userId")
        )
        return _share_list(ctx, session, entity, pk)

    result = attempt(ctx, work)
    if result and isinstance(result[0], UserError):
        return ShareRecordPayload(errors=result)  # type: ignore[arg-type]
    return ShareRecordPayload(shares=result)  # type: ignore[arg-type]


@strawberry.mutation
def create_sharing_rule(info: Ctx, input: CreateSharingRuleInput) -> SharingRulePayload:
    ctx = info.context
    caller = ctx.require(MANAGE_SHARING)

    def work(session: Session) -> SharingRule:
        return svc.create_sharing_rule(
            session,
            ctx.gateway.registry,
            caller.tenant_id,
            svc.RuleSpec(
                name=input.name,
                owner_root_id=parse_global_id(input.owner_root_id, "User", "ownerRootId"),
                grantee_profile_id=_id(input.grantee_profile_id, "Profile", "granteeProfileId"),
                grantee_root_id=_id(input.grantee_root_id, "User", "granteeRootId"),
                entity=input.entity,
                can_write=input.can_write,
            ),
        )

    return mutate(
        ctx,
        SharingRulePayload,
        work,
        lambda result: SharingRulePayload(sharing_rule=SharingRuleType(record=result)),
    )


@strawberry.mutation
def delete_sharing_rule(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require(MANAGE_SHARING)
    result = attempt(
        ctx,
        lambda s: svc.delete_sharing_rule(s, caller.tenant_id, parse_global_id(id, "SharingRule")),
    )
    return (
        DeletePayload(errors=result) if isinstance(result, list) else DeletePayload(deleted_id=id)
    )


QUERY_FIELDS = [
    profiles,
    profile_tree,
    permission_catalogue,
    export_profiles,
    users,
    user,
    subordinates,
    hierarchy_tree,
    sharing_rules,
    record_shares,
    explain_access,
]
MUTATION_FIELDS = [
    create_profile,
    update_profile,
    delete_profile,
    create_user,
    update_user,
    deactivate_user,
    share_record,
    unshare_record,
    create_sharing_rule,
    delete_sharing_rule,
]
