"""GraphQL API of the what-if preview (:mod:`gateway.access.whatif`): what a change to a
profile, a sharing rule or a user's manager would do to everyone's access, unsaved.

They are mutations only because the change is really applied — in a savepoint that is
rolled back — which needs a write transaction; nothing is saved, logged or notified. Each
needs the permission of the change it previews.
"""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access import roles, whatif
from gateway.access import services as svc
from gateway.access.api import MANAGE_PROFILES, UpdateProfileInput, apply_profile_update
from gateway.access.fields import guarded
from gateway.access.sharing_api import MANAGE_SHARING, CreateSharingRuleInput, rule_spec
from gateway.core.types import FieldModeEnum, ProfileKindEnum, UserType, load_users
from gateway.errors import BadUserInput
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.identity.users_api import MANAGE_USERS
from gateway.identity.users_api import optional_id as _id
from gateway.tenancy import organization
from gateway.tenancy.api import MANAGE_ORGANIZATION
from gateway.tenancy.models import RecordVisibility, Tenant

Ctx = Info[RequestContext, None]


@strawberry.type(description="Records of one entity a user would newly see or change, or stop.")
class EntityAccessChange:
    entity: str
    read_gained: int
    read_lost: int
    write_gained: int
    write_lost: int


@strawberry.type(description="A field whose rule would change for a user (null: no rule).")
class FieldAccessChange:
    field: str = strawberry.field(description='"Type.field"')
    before: FieldModeEnum | None
    after: FieldModeEnum | None


@strawberry.type
class UserAccessChange:
    user: UserType
    kind_before: ProfileKindEnum
    kind_after: ProfileKindEnum
    entities: list[EntityAccessChange]
    fields: list[FieldAccessChange]
    permissions_gained: list[str]
    permissions_lost: list[str]


@strawberry.type(description="What a change would do to access; nothing was saved.")
class AccessPreview:
    users_compared: int = strawberry.field(description="Active users whose access was compared.")
    users_changed: int = strawberry.field(description="Users whose access facts would change.")
    truncated: bool = strawberry.field(
        description=f"More than {whatif.MAX_PREVIEW_USERS} users would change: the first "
        f"{whatif.MAX_PREVIEW_USERS} by id are counted."
    )
    users: list[UserAccessChange] = strawberry.field(
        description="Users whose access would change, with their counts (zeros left out)."
    )


@strawberry.type
class AccessPreviewPayload:
    preview: AccessPreview | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Exactly one: a rule to create, or the id of a rule to delete.")
class SharingRuleChangeInput:
    create: CreateSharingRuleInput | None = None
    delete_id: strawberry.ID | None = None


def _run(ctx: RequestContext, apply: Callable[[Session], object]) -> AccessPreviewPayload:
    caller = ctx.require_caller()
    registry = ctx.gateway.registry
    entities = [k for k, m in registry.entity_module.items() if m in ctx.enabled_modules]

    def work(session: Session) -> whatif.Preview:
        return whatif.preview(session, registry, caller.tenant_id, entities, apply)

    payload = mutate(ctx, AccessPreviewPayload, work, lambda p: _answer(ctx, p))
    ctx.cache.clear()  # nothing the savepoint saw may outlive it
    return payload


def _answer(ctx: RequestContext, preview: whatif.Preview) -> AccessPreviewPayload:
    users = load_users(ctx, [u.user_id for u in preview.users])
    return AccessPreviewPayload(
        preview=AccessPreview(
            users_compared=preview.users_compared,
            users_changed=preview.users_changed,
            truncated=preview.truncated,
            users=[
                UserAccessChange(
                    user=UserType(record=users[u.user_id]),
                    kind_before=u.kind_before,
                    kind_after=u.kind_after,
                    entities=[
                        EntityAccessChange(
                            entity=e.entity,
                            read_gained=e.read_gained,
                            read_lost=e.read_lost,
                            write_gained=e.write_gained,
                            write_lost=e.write_lost,
                        )
                        for e in u.entities
                    ],
                    fields=[
                        FieldAccessChange(
                            field=f"{f.type_name}.{f.field_name}", before=f.before, after=f.after
                        )
                        for f in u.fields
                    ],
                    permissions_gained=u.permissions_gained,
                    permissions_lost=u.permissions_lost,
                )
                for u in preview.users
                if u.user_id in users
            ],
        )
    )


@guarded(
    permission=MANAGE_PROFILES,
    description="What `updateProfile(id, input)` would change in everyone's access; saves nothing.",
)
def preview_profile_change(
    info: Ctx, id: strawberry.ID, input: UpdateProfileInput
) -> AccessPreviewPayload:
    ctx = info.context
    caller = ctx.require_caller()
    return _run(ctx, lambda s: apply_profile_update(ctx, s, caller.tenant_id, id, input))


@guarded(
    permission=MANAGE_SHARING,
    description="What creating or deleting a sharing rule would change in everyone's access; "
    "saves nothing.",
)
def preview_sharing_rule_change(info: Ctx, input: SharingRuleChangeInput) -> AccessPreviewPayload:
    ctx = info.context
    caller = ctx.require_caller()
    if (input.create is None) == (input.delete_id is None):
        raise BadUserInput("give exactly one of create and deleteId", field="input")
    registry = ctx.gateway.registry
    create, delete_id = input.create, input.delete_id

    def apply(session: Session) -> object:
        if create is not None:
            return svc.create_sharing_rule(session, registry, caller.tenant_id, rule_spec(create))
        assert delete_id is not None
        rule_id = parse_global_id(delete_id, "SharingRule", "deleteId")
        svc.delete_sharing_rule(session, caller.tenant_id, rule_id)
        return None

    return _run(ctx, apply)


@guarded(
    permission=MANAGE_USERS,
    description="What making a user report to `managerId` (null: to nobody) would change in "
    "everyone's access; saves nothing.",
)
def preview_manager_change(
    info: Ctx, user_id: strawberry.ID, manager_id: strawberry.ID | None = None
) -> AccessPreviewPayload:
    ctx = info.context
    caller = ctx.require_caller()
    registry = ctx.gateway.registry

    def apply(session: Session) -> object:
        user = svc.get_user(
            session, caller.tenant_id, parse_global_id(user_id, "User", "userId"), "userId"
        )
        manager = _id(manager_id, "User", "managerId")
        changes = svc.UserChanges(manager_id=manager, clear_manager=manager is None)
        return svc.update_user(session, registry, user, changes)

    return _run(ctx, apply)


@guarded(
    permission=MANAGE_USERS,
    description="What giving a user the role `roleId` (null: none) would change in everyone's "
    "access (it matters where visibility follows the role tree); saves nothing.",
)
def preview_role_change(
    info: Ctx, user_id: strawberry.ID, role_id: strawberry.ID | None = None
) -> AccessPreviewPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def apply(session: Session) -> object:
        user = svc.get_user(
            session, caller.tenant_id, parse_global_id(user_id, "User", "userId"), "userId"
        )
        chosen = _id(role_id, "Role", "roleId")
        role = (
            None if chosen is None else roles.get_role(session, caller.tenant_id, chosen, "roleId")
        )
        roles.set_user_role(session, user, role)
        return None

    return _run(ctx, apply)


@guarded(
    permission=MANAGE_ORGANIZATION,
    description="What making record visibility follow the reporting line or the role tree "
    "would change in everyone's access; saves nothing.",
)
def preview_record_visibility_change(
    info: Ctx, visibility: RecordVisibility
) -> AccessPreviewPayload:
    ctx = info.context
    caller = ctx.require_caller()
    changes = organization.OrganizationChanges(record_visibility=visibility)

    def apply(session: Session) -> object:
        return organization.update_settings(
            session, session.get_one(Tenant, caller.tenant_id), changes
        )

    return _run(ctx, apply)


MUTATION_FIELDS = [
    preview_profile_change,
    preview_sharing_rule_change,
    preview_manager_change,
    preview_role_change,
    preview_record_visibility_change,
]
