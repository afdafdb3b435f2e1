"""GraphQL types of the core module."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.graphql.common import UserError, global_id
from gateway.identity.models import Profile, ProfileKind, User
from gateway.tenancy.models import Tenant
from gateway.tenancy.services import ModuleState

ProfileKindEnum = strawberry.enum(ProfileKind, name="ProfileKind")


@strawberry.type(name="Profile")
class ProfileType:
    id: strawberry.ID
    name: str
    kind: ProfileKindEnum  # type: ignore[valid-type]
    builtin: bool

    @classmethod
    def from_model(cls, p: Profile) -> ProfileType:
        return cls(id=global_id("Profile", p.id), name=p.name, kind=p.kind, builtin=p.builtin)


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    email: str
    display_name: str
    is_active: bool

    @classmethod
    def from_model(cls, u: User) -> UserType:
        return cls(
            id=global_id("User", u.id),
            email=u.email,
            display_name=u.display_name,
            is_active=u.is_active,
        )


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
    enabled_modules: list[str]


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
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = None
    viewer: Viewer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetModuleEnabledPayload:
    modules: list[ModuleType] = strawberry.field(
        default_factory=list, description="Every module's state after the change."
    )
    changed: list[str] = strawberry.field(
        default_factory=list, description="Modules whose state changed (dependencies included)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
