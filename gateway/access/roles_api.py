"""GraphQL API of roles (job positions, MISSION A7): the roles tree for everyone signed in,
its changes for holders of ``core.roles.manage``. A user's role is set with
``createUser``/``updateUser`` (:mod:`gateway.identity.users_api`)."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import roles as svc
from gateway.access.fields import guarded
from gateway.access.role_models import Role
from gateway.core.types import RoleType, UserType, load_roles, prime_users
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text
from gateway.graphql.payloads import DeletePayload
from gateway.identity.models import User
from gateway.identity.users_api import optional_id as _id

Ctx = Info[RequestContext, None]
MANAGE_ROLES = "core.roles.manage"


@strawberry.type
class RoleTreeNode:
    role: RoleType
    children: list[RoleTreeNode] = strawberry.field(description="Roles directly below.")
    users: list[UserType] = strawberry.field(description="Users who hold this role.")


@strawberry.input
class CreateRoleInput:
    name: str = text(100)
    parent_id: strawberry.ID | None = None


@strawberry.input(description="Partial update: omitted fields keep their value.")
class UpdateRoleInput:
    name: str | None = text(100, default=strawberry.UNSET)
    parent_id: strawberry.ID | None = strawberry.UNSET


@strawberry.type
class RolePayload:
    role: RoleType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _payload(role: Role) -> RolePayload:
    return RolePayload(role=RoleType(record=role))


@strawberry.field(description="The organisation's roles (job positions), by name.")
def roles(info: Ctx) -> list[RoleType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [RoleType(record=r) for r in svc.roles(ctx.session, caller.tenant_id)]


@strawberry.field(description="The roles tree, from the top, with the users of each role.")
def role_tree(info: Ctx) -> list[RoleTreeNode]:
    ctx = info.context
    caller = ctx.require_caller()
    everyone = sorted(load_roles(ctx, caller.tenant_id).values(), key=lambda r: r.name)
    known = {r.id for r in everyone}
    children: dict[int | None, list[Role]] = {}
    for r in everyone:
        children.setdefault(r.parent_id if r.parent_id in known else None, []).append(r)
    holders: dict[int, list[User]] = {}
    held = ctx.session.scalars(
        select(User)
        .where(User.tenant_id == caller.tenant_id, User.role_id.is_not(None))
        .order_by(User.email)
    ).all()
    prime_users(ctx, list(held))
    for u in held:
        holders.setdefault(u.role_id or 0, []).append(u)

    def node(r: Role) -> RoleTreeNode:
        return RoleTreeNode(
            role=RoleType(record=r),
            children=[node(c) for c in children.get(r.id, [])],
            users=[UserType(record=u) for u in holders.get(r.id, [])],
        )

    return [node(r) for r in children.get(None, [])]


@guarded(permission=MANAGE_ROLES, description="Add a role below another (or at the top).")
def create_role(info: Ctx, input: CreateRoleInput) -> RolePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> Role:
        parent = _id(input.parent_id, "Role", "parentId")
        return svc.create_role(session, caller.tenant_id, input.name, parent)

    return mutate(ctx, RolePayload, work, _payload)


@guarded(permission=MANAGE_ROLES, description="Rename a role or move it (with those below).")
def update_role(info: Ctx, id: strawberry.ID, input: UpdateRoleInput) -> RolePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> Role:
        role = svc.get_role(session, caller.tenant_id, parse_global_id(id, "Role"))
        given = input.parent_id is not strawberry.UNSET
        return svc.update_role(
            session,
            role,
            svc.RoleChanges(
                name=input.name if input.name not in (None, strawberry.UNSET) else None,
                parent_id=_id(input.parent_id, "Role", "parentId"),
                clear_parent=given and input.parent_id is None,
            ),
        )

    payload = mutate(ctx, RolePayload, work, _payload)
    ctx.cache.pop("roles", None)
    return payload


@guarded(
    permission=MANAGE_ROLES,
    description="Delete a role no user holds; the roles below it move up to its parent.",
)
def delete_role(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> None:
        svc.delete_role(
            session, svc.get_role(session, caller.tenant_id, parse_global_id(id, "Role"))
        )

    payload = mutate(ctx, DeletePayload, work, lambda _: DeletePayload(deleted_id=id))
    ctx.cache.pop("roles", None)
    return payload


QUERY_FIELDS = [roles, role_tree]
MUTATION_FIELDS = [create_role, update_role, delete_role]
