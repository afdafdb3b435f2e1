"""Admin GraphQL API of access control: profiles, the hierarchy, the permission catalogue,
the profiles export and ``explainAccess``. User CRUD is in :mod:`gateway.identity.users_api`;
record shares and sharing rules in :mod:`gateway.access.sharing_api`."""

from __future__ import annotations

import base64
from datetime import date
from typing import TypeAlias, TypeVar

import strawberry
from graphql import GraphQLObjectType
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import export, hierarchy
from gateway.access import services as svc
from gateway.access.explain import Decision, explain
from gateway.access.fields import guarded
from gateway.access.models import FieldMode
from gateway.access.predicates import Reason
from gateway.access.scope import AccessScope
from gateway.access.sharing_api import _record_ref
from gateway.audit.admin import log_export
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
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.payloads import DeletePayload, ExportFile
from gateway.identity.models import Profile, ProfileKind, User
from gateway.identity.users_api import MANAGE_USERS
from gateway.identity.users_api import optional_id as _id

Ctx = Info[RequestContext, None]
T = TypeVar("T")

MANAGE_PROFILES = "core.profiles.manage"

strawberry.enum(PermissionKind, name="PermissionKind")
PermissionKindEnum: TypeAlias = PermissionKind
strawberry.enum(Action, name="PermissionAction")
ActionEnum: TypeAlias = Action
strawberry.enum(Reason, name="AccessReasonKind")
ReasonEnum: TypeAlias = Reason


# -- types ---------------------------------------------------------------------------------


@strawberry.type(name="Permission")
class PermissionType:
    code: str
    description: str
    module: str
    kind: PermissionKindEnum
    entity: str | None
    action: ActionEnum | None


@strawberry.type
class ProfileTreeNode:
    profile: ProfileType
    children: list[ProfileTreeNode]


@strawberry.type
class HierarchyNode:
    user: UserType
    reports: list[HierarchyNode] = strawberry.field(description="Users who report to this one.")


@strawberry.type
class AccessReason:
    reason: ReasonEnum
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
    mode: FieldModeEnum


@strawberry.input
class CreateProfileInput:
    name: str
    kind: ProfileKindEnum
    parent_id: strawberry.ID | None = None
    permissions: list[str] = strawberry.field(default_factory=list)
    field_rules: list[FieldRuleInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Partial update: omitted fields keep their value; lists replace.")
class UpdateProfileInput:
    name: str | None = strawberry.UNSET
    kind: ProfileKindEnum | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    permissions: list[str] | None = strawberry.UNSET
    field_rules: list[FieldRuleInput] | None = strawberry.UNSET


@strawberry.type
class ProfilePayload:
    profile: ProfileType | None = None
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


def _profile_payload(profile: Profile) -> ProfilePayload:
    return ProfilePayload(profile=ProfileType(record=profile))


def _rules(items: list[FieldRuleInput]) -> list[tuple[str, str, FieldMode]]:
    return [(r.type_name, r.field_name, FieldMode(r.mode)) for r in items]


# -- queries --------------------------------------------------------------------------------


@guarded(permission=MANAGE_PROFILES, description="The organisation's profiles (administrators).")
def profiles(info: Ctx) -> list[ProfileType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [ProfileType(record=p) for p in svc.profiles(ctx.session, caller.tenant_id)]


@guarded(permission=MANAGE_PROFILES, description="The profiles as a tree of 'depends on' links.")
def profile_tree(info: Ctx) -> list[ProfileTreeNode]:
    ctx = info.context
    caller = ctx.require_caller()
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


@guarded(permission=MANAGE_PROFILES, description="Every permission the installed modules define.")
def permission_catalogue(info: Ctx) -> list[PermissionType]:
    ctx = info.context
    ctx.require_caller()
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


@guarded(
    permission=MANAGE_PROFILES, description="The profiles repository as an Excel workbook (base64)."
)
def export_profiles(info: Ctx) -> ExportFile:
    ctx = info.context
    caller = ctx.require_caller()
    content = export.profiles_workbook(ctx.session, ctx.gateway.registry, caller.tenant_id)
    log_export(ctx, "profiles.xlsx")
    return ExportFile(
        filename=f"profiles-{caller.tenant_slug}-{date.today().isoformat()}.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(content).decode(),
    )


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


@guarded(
    permission=MANAGE_PROFILES,
    description="Why a user can or cannot read and change a record (and one of its fields), "
    "computed by the code that enforces it.",
)
def explain_access(
    info: Ctx, user_id: strawberry.ID, record_id: strawberry.ID, field: str | None = None
) -> AccessExplanation:
    ctx = info.context
    caller = ctx.require_caller()
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


def apply_profile_update(
    ctx: RequestContext,
    session: Session,
    tenant_id: int,
    id: strawberry.ID,
    input: UpdateProfileInput,
) -> Profile:
    """``updateProfile``'s change, also applied (and rolled back) by its what-if preview."""
    profile = svc.get_profile(session, tenant_id, parse_global_id(id, "Profile"))
    given = lambda v: v is not strawberry.UNSET  # noqa: E731
    return svc.update_profile(
        session,
        ctx.gateway.registry,
        _known_fields(ctx),
        profile,
        svc.ProfileChanges(
            name=input.name if given(input.name) and input.name is not None else None,
            kind=ProfileKind(input.kind) if given(input.kind) and input.kind is not None else None,
            parent_id=_id(input.parent_id, "Profile", "parentId"),
            clear_parent=given(input.parent_id) and input.parent_id is None,
            permissions=input.permissions if given(input.permissions) else None,
            field_rules=_rules(input.field_rules)
            if given(input.field_rules) and input.field_rules is not None
            else None,
        ),
    )


@guarded(permission=MANAGE_PROFILES)
def create_profile(info: Ctx, input: CreateProfileInput) -> ProfilePayload:
    ctx = info.context
    caller = ctx.require_caller()

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

    return mutate(ctx, ProfilePayload, work, _profile_payload)


@guarded(permission=MANAGE_PROFILES)
def update_profile(info: Ctx, id: strawberry.ID, input: UpdateProfileInput) -> ProfilePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> Profile:
        return apply_profile_update(ctx, session, caller.tenant_id, id, input)

    payload = mutate(ctx, ProfilePayload, work, _profile_payload)
    ctx.cache.pop("grants", None)
    return payload


@guarded(permission=MANAGE_PROFILES, description="Delete a profile; refused while users hold it.")
def delete_profile(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> None:
        svc.delete_profile(
            session, svc.get_profile(session, caller.tenant_id, parse_global_id(id, "Profile"))
        )

    return mutate(ctx, DeletePayload, work, lambda _: DeletePayload(deleted_id=id))


QUERY_FIELDS = [profiles, profile_tree, permission_catalogue, export_profiles]
#: after the user directory (identity.users_api) in the published Query type
HIERARCHY_FIELDS = [subordinates, hierarchy_tree]
EXPLAIN_FIELDS = [explain_access]
MUTATION_FIELDS = [create_profile, update_profile, delete_profile]
