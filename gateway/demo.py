"""Demo data: tenants ``demo`` and ``acme`` with a sales hierarchy; modules add their own.

Idempotent: ``crm-gateway serve --demo`` runs it at every start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.access import roles
from gateway.access.role_models import Role
from gateway.access.services import standard_grants
from gateway.app import Gateway
from gateway.identity import services as identity
from gateway.identity.models import (
    ADMINISTRATOR_PROFILE,
    AssistantLink,
    Profile,
    ProfileKind,
    User,
)
from gateway.plugins import PluginRegistry
from gateway.tenancy import services as tenancy
from gateway.tenancy.models import CompanyBranch, ManagingCompany, Tenant

DEMO_PASSWORD = "demo-password"


@dataclass
class DemoTenant:
    """What ``crm_demo_data`` receives."""

    id: int
    slug: str
    users: dict[str, User] = field(default_factory=dict)
    #: profile name → profile, so modules can grant their permissions to demo profiles.
    profiles: dict[str, Profile] = field(default_factory=dict)


@dataclass(frozen=True)
class _DemoUser:
    email: str
    name: str
    profile: str
    manager: str | None = None
    serves: str | None = None
    role: str | None = None


#: Profile name → (kind, parent profile name).
_DEMO_PROFILES: dict[str, tuple[ProfileKind, str | None]] = {
    "Director": (ProfileKind.HIERARCHICAL, None),
    "Sales manager": (ProfileKind.HIERARCHICAL, "Director"),
    "Sales rep": (ProfileKind.HIERARCHICAL, "Sales manager"),
    "Sales assistant": (ProfileKind.ASSISTANT, "Sales rep"),
    "Back office": (ProfileKind.STRUCTURAL, None),
}

_TENANTS: dict[str, tuple[str, list[_DemoUser]]] = {
    "demo": (
        "Demo Trading Ltd",
        [
            _DemoUser("admin@demo.test", "Ada Admin", ADMINISTRATOR_PROFILE),
            _DemoUser("director@demo.test", "Diana Director", "Director", role="CEO"),
            _DemoUser(
                "manager@demo.test",
                "Max Manager",
                "Sales manager",
                "director@demo.test",
                role="Manager",
            ),
            _DemoUser(
                "rep1@demo.test", "Rita Rep", "Sales rep", "manager@demo.test", role="Sales rep"
            ),
            _DemoUser(
                "rep2@demo.test", "Rob Rep", "Sales rep", "manager@demo.test", role="Sales rep"
            ),
            _DemoUser(
                "assistant@demo.test",
                "Alex Assistant",
                "Sales assistant",
                "manager@demo.test",
                serves="rep1@demo.test",
            ),
            _DemoUser("backoffice@demo.test", "Bea Backoffice", "Back office"),
        ],
    ),
    "acme": (
        "Acme Corporation",
        [_DemoUser("admin@acme.test", "Andy Acme", ADMINISTRATOR_PROFILE)],
    ),
}

#: Tenant slug → roles added below the system ones (CEO → Manager): role → parent role.
_DEMO_ROLES: dict[str, dict[str, str]] = {"demo": {"Sales rep": "Manager"}}

#: Tenant slug → managing company → its branches (MISSION C9).
_COMPANIES: dict[str, dict[str, list[str]]] = {
    "demo": {
        "Demo Trading Iberia S.L.": ["Madrid", "Barcelona"],
        "Demo Trading Portugal Lda.": ["Lisboa", "Porto"],
    },
}

DEMO_SIGN_IN = [(u.email, DEMO_PASSWORD) for _, users in _TENANTS.values() for u in users]


def _profiles(session: Session, tenant: Tenant) -> dict[str, Profile]:
    existing = {
        p.name: p for p in session.scalars(select(Profile).where(Profile.tenant_id == tenant.id))
    }
    for name, (kind, parent) in _DEMO_PROFILES.items():
        if name not in existing:
            profile = Profile(
                tenant_id=tenant.id,
                name=name,
                kind=kind,
                parent_id=existing[parent].id if parent else None,
            )
            session.add(profile)
            session.flush()
            existing[name] = profile
    return existing


def _roles(session: Session, tenant: Tenant) -> dict[str, Role]:
    existing = {r.name: r for r in roles.roles(session, tenant.id)}
    for name, parent in _DEMO_ROLES.get(tenant.slug, {}).items():
        if name not in existing and parent in existing:
            existing[name] = roles.create_role(session, tenant.id, name, existing[parent].id)
    return existing


def _seed_tenant(
    session: Session,
    registry: PluginRegistry,
    slug: str,
    name: str,
    users: list[_DemoUser],
    hash_profile: str,
) -> DemoTenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        tenant = identity.create_tenant(session, slug, name, standard_grants(registry))
    profiles = _profiles(session, tenant)
    tenant_roles = _roles(session, tenant)
    demo = DemoTenant(id=tenant.id, slug=slug, profiles=profiles)
    for spec in users:
        user = session.scalar(select(User).where(User.email == spec.email))
        if user is None:
            user = identity.create_user(
                session,
                tenant_id=tenant.id,
                email=spec.email,
                password=DEMO_PASSWORD,
                display_name=spec.name,
                profile=profiles[spec.profile],
                manager=demo.users[spec.manager] if spec.manager else None,
                hash_profile=hash_profile,
            )
            if spec.role:
                roles.set_user_role(session, user, tenant_roles[spec.role])
            if spec.serves:
                served = demo.users[spec.serves]
                session.add(AssistantLink(assistant_id=user.id, served_user_id=served.id))
        demo.users[spec.email] = user
    known = set(
        session.scalars(select(ManagingCompany.name).where(ManagingCompany.tenant_id == tenant.id))
    )
    for company_name, branches in _COMPANIES.get(slug, {}).items():
        if company_name not in known:
            company = ManagingCompany(tenant_id=tenant.id, name=company_name)
            company.branches = [CompanyBranch(tenant_id=tenant.id, name=b) for b in branches]
            session.add(company)
    session.flush()
    return demo


def seed_demo(gateway: Gateway) -> list[DemoTenant]:
    """Create (or complete) the demo tenants, then let each enabled module add its data."""
    seeded = []
    for slug, (name, users) in _TENANTS.items():
        with gateway.db.transaction() as session:
            demo = _seed_tenant(
                session,
                gateway.registry,
                slug,
                name,
                users,
                gateway.settings.password_hash_profile,
            )
            modules = tenancy.enabled_modules(session, gateway.registry, demo.id)
            gateway.registry.hooks_for(modules).call_attributed(
                "crm_demo_data", dependency_order=True, session=session, tenant=demo
            )
        seeded.append(demo)
    return seeded
