"""Demo data for the consent module: who reviews and resends, and one configuration —
switched off, so the demo's own changes mail nobody until an administrator enables it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import DemoTenant, grant
from plugins.consent.models import Audience, ConsentConfiguration, Trigger
from plugins.contacts.models import Category, ClientKind

GRANTS: dict[str, list[str]] = {
    "Director": ["consent.review", "consent.send"],
    "Sales manager": ["consent.review", "consent.send"],
    "Sales rep": ["consent.review"],
    "Back office": ["consent.review", "consent.send"],
}
DESCRIPTION = "Consent on creating a potential client"
BODY = """Dear [name],

[organization] would like to keep you informed about our products and offers by email.
Under the General Data Protection Regulation we need your consent to do so.

Please tell us whether you agree. You can withdraw your consent at any time."""


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, permissions in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, permissions)
    known = session.scalar(
        select(ConsentConfiguration.id).where(
            ConsentConfiguration.tenant_id == tenant.id,
            ConsentConfiguration.description == DESCRIPTION,
        )
    )
    if known is not None:
        return
    admin = next((u for u in tenant.users.values() if u.email.startswith("admin@")), None)
    session.add(
        ConsentConfiguration(
            tenant_id=tenant.id,
            description=DESCRIPTION,
            enabled=False,
            audience=Audience.CLIENT,
            applies_to=[Category.POTENTIAL.value],
            client_kinds=[ClientKind.COMPANY.value],
            triggers=[Trigger.CLIENT_SAVED.value],
            sender=f"privacy@{tenant.slug}.test",
            subject="Your consent to receive our emails",
            body=BODY,
            link_valid_days=30,
            created_by_id=admin.id if admin is not None else None,
        )
    )
