"""GraphQL types of the core module: the viewer, users, profiles, modules, payloads."""

from __future__ import annotations

from typing import Any, TypeAlias

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway import images
from gateway.access import groups as access_groups
from gateway.access import services as access_services
from gateway.access.fields import guarded
from gateway.access.models import FieldMode
from gateway.access.role_models import Role, UserGroup
from gateway.graphql.common import UserError, global_id
from gateway.identity.models import Profile, ProfileKind, User
from gateway.tenancy.models import Tenant
from gateway.tenancy.services import ModuleState

strawberry.enum(ProfileKind, name="ProfileKind")
ProfileKindEnum: TypeAlias = ProfileKind
strawberry.enum(FieldMode, name="FieldMode")
FieldModeEnum: TypeAlias = FieldMode


# -- per-request batch loading (one query per kind of thing, never one per row) ------------


def load_users(context: Any, ids: list[int]) -> dict[int, User]:
    """Users by id from the request cache; the missing ones in one query."""
    cache: dict[int, User] = context.cache.setdefault("users", {})
    missing = [i for i in ids if i not in cache]
    if missing:
        for user in context.session.scalars(select(User).where(User.id.in_(missing))):
            cache[user.id] = user
    return {i: cache[i] for i in ids if i in cache}


def prime_users(context: Any, users: list[User]) -> None:
    """Put a page of users in the cache, with their managers, so nested fields don't query."""
    cache: dict[int, User] = context.cache.setdefault("users", {})
    cache.update({u.id: u for u in users})
    load_users(context, sorted({u.manager_id for u in users if u.manager_id is not None}))


def _served(context: Any, user_id: int) -> list[int]:
    served: dict[int, list[int]] | None = context.cache.get("served")
    if served is None or user_id not in served:
        ids = sorted(set(context.cache.get("users", {})) | {user_id})
        served = context.cache["served"] = access_services.served_user_ids(context.session, ids)
    return served.get(user_id, [])


def _grants(context: Any, profile: Profile) -> tuple[list[str], list[tuple[str, str, FieldMode]]]:
    """A profile's grants; those of every profile of its tenant are read together."""
    grants = context.cache.get("grants")
    if grants is None or profile.id not in grants[0]:
        tenant_profiles = access_services.profiles(context.session, profile.tenant_id)
        grants = context.cache["grants"] = access_services.profile_grants(
            context.session, [p.id for p in tenant_profiles]
        )
    return grants[0].get(profile.id, []), grants[1].get(profile.id, [])


def _may_read_grants(context: Any, profile: Profile) -> None:
    """A profile's grants are admin data: visible to its holders and to profile managers."""
    caller = context.require_caller()
    if caller.profile_id != profile.id:
        context.require("core.profiles.manage")


def load_roles(context: Any, tenant_id: int) -> dict[int, Role]:
    """The tenant's roles by id, read once per operation (a handful of rows)."""
    cache: dict[int, Role] | None = context.cache.get("roles")
    if cache is None:
        cache = context.cache["roles"] = {
            r.id: r
            for r in context.session.scalars(select(Role).where(Role.tenant_id == tenant_id))
        }
    return cache


def _group_details(context: Any, group: UserGroup) -> tuple[list[int], list[str]]:
    """A group's members and grants; those of every group of its tenant are read together."""
    details = context.cache.get("group_details")
    if details is None or group.id not in details[0]:
        ids = [g.id for g in access_groups.groups(context.session, group.tenant_id)]
        details = context.cache["group_details"] = access_groups.group_details(context.session, ids)
    return details[0].get(group.id, []), details[1].get(group.id, [])


# -- types --------------------------------------------------------------------------------------


@strawberry.type(name="Role", description="A job position (cargo); roles form their own tree.")
class RoleType:
    record: strawberry.Private[Role]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Role", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="System roles (CEO, Manager) cannot be deleted.")
    def builtin(self) -> bool:
        return self.record.builtin

    @strawberry.field(description="The role directly above in the roles tree.")
    def parent(self, info: Info) -> RoleType | None:
        parent_id = self.record.parent_id
        found = load_roles(info.context, self.record.tenant_id).get(parent_id or 0)
        return RoleType(record=found) if found else None


@strawberry.type(
    name="UserGroup",
    description="Users to whom module permissions are granted beyond their profiles.",
)
class UserGroupType:
    record: strawberry.Private[UserGroup]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("UserGroup", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def members(self, info: Info) -> list[UserType]:
        ids = _group_details(info.context, self.record)[0]
        found = load_users(info.context, ids)
        return [UserType(record=found[i]) for i in ids if i in found]

    @strawberry.field(description="Module permission codes every member holds through it.")
    def permissions(self, info: Info) -> list[str]:
        return _group_details(info.context, self.record)[1]


@strawberry.type
class FieldRule:
    type_name: str
    field_name: str
    mode: FieldModeEnum


@strawberry.type(name="Profile")
class ProfileType:
    record: strawberry.Private[Profile]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Profile", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def kind(self) -> ProfileKindEnum:
        return self.record.kind

    @strawberry.field
    def builtin(self) -> bool:
        return self.record.builtin

    @strawberry.field(description="The profile this one depends on in the profiles tree.")
    def parent(self, info: Info) -> ProfileType | None:
        parent_id = self.record.parent_id
        return (
            ProfileType(record=info.context.session.get(Profile, parent_id)) if parent_id else None
        )

    @strawberry.field(
        description="Granted permission codes (administrators hold all). Readable for your own "
        "profile, or with core.profiles.manage."
    )
    def permissions(self, info: Info) -> list[str]:
        _may_read_grants(info.context, self.record)
        if self.record.kind is ProfileKind.ADMINISTRATOR:
            return sorted(info.context.gateway.registry.permissions)
        return _grants(info.context, self.record)[0]

    @strawberry.field(description="Readable for your own profile, or with core.profiles.manage.")
    def field_rules(self, info: Info) -> list[FieldRule]:
        _may_read_grants(info.context, self.record)
        return [
            FieldRule(type_name=t, field_name=f, mode=m)
            for t, f, m in _grants(info.context, self.record)[1]
        ]

    @classmethod
    def from_model(cls, p: Profile) -> ProfileType:
        return cls(record=p)


@strawberry.type(description="Your personal settings (`updateMySettings`).")
class PersonalSettings:
    language: str | None = strawberry.field(
        description="Your language; null: the organisation's (`effectiveLanguage`)."
    )
    timezone: str | None = strawberry.field(
        description="Your time zone (IANA); null: the organisation's (`effectiveTimezone`)."
    )
    effective_language: str
    effective_timezone: str = strawberry.field(
        description="The time zone dates are shown to you in (reminders, calendar days)."
    )
    email_signature: str

    @classmethod
    def of(cls, user: User, tenant: Tenant) -> PersonalSettings:
        return cls(
            language=user.language,
            timezone=user.timezone,
            effective_language=user.language or tenant.language,
            effective_timezone=user.timezone or tenant.timezone,
            email_signature=user.email_signature,
        )


@strawberry.type(name="User")
class UserType:
    record: strawberry.Private[User]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("User", self.record.id)

    @strawberry.field
    def email(self) -> str:
        return self.record.email

    @strawberry.field
    def display_name(self) -> str:
        return self.record.display_name

    @strawberry.field
    def is_active(self) -> bool:
        return self.record.is_active

    @strawberry.field
    def profile(self) -> ProfileType:
        return ProfileType(record=self.record.profile)

    @strawberry.field(description="The user's role (job position), apart from the profile.")
    def role(self, info: Info) -> RoleType | None:
        role_id = self.record.role_id
        if role_id is None:
            return None
        found = load_roles(info.context, self.record.tenant_id).get(role_id)
        return RoleType(record=found) if found else None

    @strawberry.field(description="The user's photo as a `data:` URL (at most 256x256), or null.")
    def photo(self, info: Info) -> str | None:
        if self.record.photo_mime is None:
            return None

        def fetch(ids: list[int]) -> dict[int, str | None]:
            rows = info.context.session.execute(
                select(User.id, User.photo, User.photo_mime).where(User.id.in_(ids))
            )
            return {uid: images.data_url(photo, mime) for uid, photo, mime in rows}

        return info.context.nested_loader("core.user_photos", User, fetch).get(self.record.id)

    @guarded(
        permission="core.users.manage",
        description="Whether the user signs in with a second factor (user administrators).",
    )
    def two_factor_enabled(self) -> bool:
        return self.record.two_factor_enabled

    @strawberry.field(description="The user this one reports to.")
    def manager(self, info: Info) -> UserType | None:
        manager_id = self.record.manager_id
        if manager_id is None:
            return None
        found = load_users(info.context, [manager_id]).get(manager_id)
        return UserType(record=found) if found else None

    @strawberry.field(description="For assistants: the users they serve.")
    def served_users(self, info: Info) -> list[UserType]:
        ids = _served(info.context, self.record.id)
        users = load_users(info.context, ids)
        return [UserType(record=users[i]) for i in ids if i in users]

    @classmethod
    def from_model(cls, u: User) -> UserType:
        return cls(record=u)


@strawberry.type(name="Tenant")
class TenantType:
    id: strawberry.ID
    slug: str
    name: str

    @classmethod
    def from_model(cls, t: Tenant) -> TenantType:
        return cls(id=global_id("Tenant", t.id), slug=t.slug, name=t.name)


@strawberry.type(description="The signed-in caller: who, in which organisation, which profile.")
class Viewer:
    user: UserType
    tenant: TenantType
    profile: ProfileType
    settings: PersonalSettings
    enabled_modules: list[str]
    two_factor_enabled: bool
    two_factor_enrolment_required: bool = strawberry.field(
        description="The organisation requires 2FA and you have not enrolled: only "
        "enrolment is possible until you do."
    )

    @strawberry.field(
        description="Every permission you hold: your profile's and your user groups' grants."
    )
    def permissions(self, info: Info) -> list[str]:
        user = self.user.record
        if user.profile.kind is ProfileKind.ADMINISTRATOR:
            return sorted(info.context.gateway.registry.permissions)
        return access_groups.effective_permissions(info.context.session, user.id, user.profile_id)


@strawberry.type(name="Module", description="A CRM module and whether this organisation uses it.")
class ModuleType:
    name: str
    title: str
    version: str
    description: str
    enabled: bool
    optional: bool = strawberry.field(description="False for kernel modules, always on.")
    requires: list[str]

    @classmethod
    def from_state(cls, s: ModuleState) -> ModuleType:
        return cls(
            name=s.name,
            title=s.title,
            version=s.version,
            description=s.description,
            enabled=s.enabled,
            optional=s.optional,
            requires=list(s.requires),
        )


@strawberry.type
class SetModuleEnabledPayload:
    modules: list[ModuleType] = strawberry.field(
        default_factory=list, description="Every module's state after the change."
    )
    changed: list[str] = strawberry.field(
        default_factory=list, description="Modules whose state changed (dependencies included)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
