"""GraphQL API of the users of an organisation: the team directory and user CRUD
(administrators with ``core.users.manage``). Sign-in, sessions and invitations are in
:mod:`gateway.identity.api`; profiles and the hierarchy in :mod:`gateway.access.api`;
sharing in :mod:`gateway.access.sharing_api`."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway import events
from gateway.access import roles
from gateway.access import services as svc
from gateway.access.fields import guarded
from gateway.contract import ChangeKind
from gateway.core.types import UserType, load_users, prime_users
from gateway.graphql.common import UserError, mutate, page_size, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.identity import services as identity
from gateway.identity.models import User

Ctx = Info[RequestContext, None]
MANAGE_USERS = "core.users.manage"


def optional_id(value: Any, type_name: str, field: str) -> int | None:
    """A global ID argument that may be omitted (UNSET) or null, as a primary key."""
    return (
        None
        if value is None or value is strawberry.UNSET
        else parse_global_id(value, type_name, field)
    )


_id = optional_id


def _user_payload(user: User) -> UserPayload:
    return UserPayload(user=UserType(record=user))


@strawberry.input
class CreateUserInput:
    email: str
    display_name: str
    password: str
    profile_id: strawberry.ID
    manager_id: strawberry.ID | None = None
    served_user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    role_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user's role (job position), apart from the profile."
    )


@strawberry.input(description="Partial update: omitted fields keep their value.")
class UpdateUserInput:
    display_name: str | None = strawberry.UNSET
    profile_id: strawberry.ID | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    served_user_ids: list[strawberry.ID] | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    role_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The user's role; null: none."
    )


@strawberry.type
class UserPayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


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


@guarded(permission=MANAGE_USERS)
def create_user(info: Ctx, input: CreateUserInput) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

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
        role_id = _id(input.role_id, "Role", "roleId")
        if role_id is not None:
            roles.set_user_role(
                session, created, roles.get_role(session, caller.tenant_id, role_id, "roleId")
            )
        events.record_changed(ctx, ChangeKind.CREATED, "user", created)
        return created

    return mutate(ctx, UserPayload, work, _user_payload)


@guarded(permission=MANAGE_USERS)
def update_user(info: Ctx, id: strawberry.ID, input: UpdateUserInput) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> User:
        target = svc.get_user(session, caller.tenant_id, parse_global_id(id, "User"))
        given = lambda v: v is not strawberry.UNSET  # noqa: E731
        served = input.served_user_ids if given(input.served_user_ids) else None
        updated = svc.update_user(
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
                role_id=_id(input.role_id, "Role", "roleId"),
                clear_role=given(input.role_id) and input.role_id is None,
            ),
        )
        events.record_changed(ctx, ChangeKind.UPDATED, "user", updated)
        return updated

    payload = mutate(ctx, UserPayload, work, _user_payload)
    ctx.cache.clear()
    return payload


@guarded(
    permission=MANAGE_USERS,
    description="Deactivate a user and end their sessions (never the last administrator).",
)
def deactivate_user(info: Ctx, id: strawberry.ID) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> User:
        target = svc.get_user(session, caller.tenant_id, parse_global_id(id, "User"))
        return svc.update_user(
            session, ctx.gateway.registry, target, svc.UserChanges(is_active=False)
        )

    return mutate(ctx, UserPayload, work, _user_payload)


QUERY_FIELDS = [users, user]
MUTATION_FIELDS = [create_user, update_user, deactivate_user]
