"""GraphQL API of user groups (MISSION A11), for holders of ``core.groups.manage``: members
and the module permissions granted to them beyond their profiles."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import groups as svc
from gateway.access.fields import guarded
from gateway.access.role_models import UserGroup
from gateway.core.types import UserGroupType
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text
from gateway.graphql.payloads import DeletePayload

Ctx = Info[RequestContext, None]
MANAGE_GROUPS = "core.groups.manage"


@strawberry.input
class CreateUserGroupInput:
    name: str = text(100)
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    permissions: list[str] = strawberry.field(
        default_factory=list, description="Module permission codes (`permissionCatalogue`)."
    )


@strawberry.input(description="Partial update: omitted fields keep their value; lists replace.")
class UpdateUserGroupInput:
    name: str | None = text(100, default=strawberry.UNSET)
    member_ids: list[strawberry.ID] | None = strawberry.UNSET
    permissions: list[str] | None = strawberry.UNSET


@strawberry.type
class UserGroupPayload:
    group: UserGroupType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _payload(group: UserGroup) -> UserGroupPayload:
    return UserGroupPayload(group=UserGroupType(record=group))


def _members(ids: list[strawberry.ID] | None) -> list[int] | None:
    return None if ids is None else [parse_global_id(i, "User", "memberIds") for i in ids]


def _given(value: object) -> bool:
    return value is not strawberry.UNSET and value is not None


@guarded(permission=MANAGE_GROUPS, description="The organisation's user groups, by name.")
def user_groups(info: Ctx) -> list[UserGroupType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [UserGroupType(record=g) for g in svc.groups(ctx.session, caller.tenant_id)]


@guarded(permission=MANAGE_GROUPS, description="Create a user group with members and grants.")
def create_user_group(info: Ctx, input: CreateUserGroupInput) -> UserGroupPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> UserGroup:
        return svc.create_group(
            session,
            ctx.gateway.registry,
            caller.tenant_id,
            svc.GroupChanges(
                name=input.name,
                member_ids=_members(input.member_ids),
                permissions=input.permissions,
            ),
        )

    return mutate(ctx, UserGroupPayload, work, _payload)


@guarded(permission=MANAGE_GROUPS, description="Rename a group, or replace its members or grants.")
def update_user_group(
    info: Ctx, id: strawberry.ID, input: UpdateUserGroupInput
) -> UserGroupPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> UserGroup:
        group = svc.get_group(session, caller.tenant_id, parse_global_id(id, "UserGroup"))
        return svc.update_group(
            session,
            ctx.gateway.registry,
            group,
            svc.GroupChanges(
                name=input.name if _given(input.name) else None,
                member_ids=_members(input.member_ids) if _given(input.member_ids) else None,
                permissions=input.permissions if _given(input.permissions) else None,
            ),
        )

    payload = mutate(ctx, UserGroupPayload, work, _payload)
    ctx.cache.pop("group_details", None)
    return payload


@guarded(
    permission=MANAGE_GROUPS,
    description="Delete a group: its members lose its grants; sharing rules naming it go too.",
)
def delete_user_group(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> None:
        svc.delete_group(
            session, svc.get_group(session, caller.tenant_id, parse_global_id(id, "UserGroup"))
        )

    return mutate(ctx, DeletePayload, work, lambda _: DeletePayload(deleted_id=id))


QUERY_FIELDS = [user_groups]
MUTATION_FIELDS = [create_user_group, update_user_group, delete_user_group]
