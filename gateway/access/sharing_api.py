"""GraphQL API of record sharing: who a record is shared with, sharing a record with a
user, and the organisation's sharing rules (``core.sharing.manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import services as svc
from gateway.access.enforcement import get_visible
from gateway.access.fields import guarded
from gateway.access.models import SharingRule
from gateway.access.role_models import UserGroup
from gateway.core.types import ProfileType, UserGroupType, UserType, load_users
from gateway.errors import BadUserInput
from gateway.graphql.common import UserError, global_id, mutate, parse_global_id, split_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.payloads import DeletePayload
from gateway.identity.models import Profile
from gateway.identity.users_api import optional_id as _id
from gateway.plugins import PluginRegistry

Ctx = Info[RequestContext, None]
MANAGE_SHARING = "core.sharing.manage"


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

    @strawberry.field(description="Shared with the members of this user group.")
    def grantee_group(self, info: Ctx) -> UserGroupType | None:
        gid = self.record.grantee_group_id
        return UserGroupType(record=info.context.session.get_one(UserGroup, gid)) if gid else None

    @strawberry.field
    def can_write(self) -> bool:
        return self.record.can_write


@strawberry.type
class RecordShareType:
    user: UserType
    can_write: bool


@strawberry.input
class CreateSharingRuleInput:
    name: str
    owner_root_id: strawberry.ID
    grantee_profile_id: strawberry.ID | None = None
    grantee_root_id: strawberry.ID | None = None
    grantee_group_id: strawberry.ID | None = None
    entity: str | None = None
    can_write: bool = False


@strawberry.type
class SharingRulePayload:
    sharing_rule: SharingRuleType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShareRecordPayload:
    shares: list[RecordShareType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _record_ref(registry: PluginRegistry, record_id: str) -> tuple[str, int]:
    type_name, pk = split_global_id(record_id, "recordId")
    entity = registry.entity_of_type.get(type_name)
    if entity is None:
        raise BadUserInput(f"{type_name} records are not access-controlled", field="recordId")
    return entity.entity, pk


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


def rule_spec(input: CreateSharingRuleInput) -> svc.RuleSpec:
    """The service's rule from the input (also for the what-if preview)."""
    return svc.RuleSpec(
        name=input.name,
        owner_root_id=parse_global_id(input.owner_root_id, "User", "ownerRootId"),
        grantee_profile_id=_id(input.grantee_profile_id, "Profile", "granteeProfileId"),
        grantee_root_id=_id(input.grantee_root_id, "User", "granteeRootId"),
        grantee_group_id=_id(input.grantee_group_id, "UserGroup", "granteeGroupId"),
        entity=input.entity,
        can_write=input.can_write,
    )


@guarded(permission=MANAGE_SHARING)
def sharing_rules(info: Ctx) -> list[SharingRuleType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [SharingRuleType(record=r) for r in svc.sharing_rules(ctx.session, caller.tenant_id)]


@strawberry.field(description="Who a record is shared with (the record must be visible).")
def record_shares(info: Ctx, record_id: strawberry.ID) -> list[RecordShareType]:
    ctx = info.context
    ctx.require_caller()
    registry = ctx.gateway.registry
    entity, pk = _record_ref(registry, record_id)
    record = get_visible(ctx.session, registry.entities[entity].model, pk, entity)
    return _share_list(ctx, ctx.session, entity, record.id)


@strawberry.mutation(description="Share a record you may change with a user (read or write).")
def share_record(
    info: Ctx, record_id: strawberry.ID, user_id: strawberry.ID, can_write: bool = False
) -> ShareRecordPayload:
    ctx = info.context
    caller = ctx.require_caller()
    registry = ctx.gateway.registry

    def work(session: Session) -> list[RecordShareType]:
        entity, pk = _record_ref(registry, record_id)
        svc.share_record(
            session,
            registry,
            entity,
            pk,
            parse_global_id(user_id, "User", "userId"),
            can_write,
            shared_by=caller.user_id,
        )
        return _share_list(ctx, session, entity, pk)

    return mutate(ctx, ShareRecordPayload, work, lambda shares: ShareRecordPayload(shares=shares))


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

    return mutate(ctx, ShareRecordPayload, work, lambda shares: ShareRecordPayload(shares=shares))


@guarded(permission=MANAGE_SHARING)
def create_sharing_rule(info: Ctx, input: CreateSharingRuleInput) -> SharingRulePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> SharingRule:
        return svc.create_sharing_rule(
            session, ctx.gateway.registry, caller.tenant_id, rule_spec(input)
        )

    return mutate(
        ctx,
        SharingRulePayload,
        work,
        lambda result: SharingRulePayload(sharing_rule=SharingRuleType(record=result)),
    )


@guarded(permission=MANAGE_SHARING)
def delete_sharing_rule(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require_caller()
    return mutate(
        ctx,
        DeletePayload,
        lambda s: svc.delete_sharing_rule(s, caller.tenant_id, parse_global_id(id, "SharingRule")),
        lambda _: DeletePayload(deleted_id=id),
    )


QUERY_FIELDS = [sharing_rules, record_shares]
MUTATION_FIELDS = [share_record, unshare_record, create_sharing_rule, delete_sharing_rule]
