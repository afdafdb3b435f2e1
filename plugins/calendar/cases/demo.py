"""Demo cases: case permissions for the demo profiles, a seminar open to all and a tender
restricted to one chosen user (rep1's, shared with rep2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import AccessLevel, DemoTenant, RecordShare, grant
from plugins.calendar.cases.models import Case, CaseParticipant, CaseStatus, CaseTag, CaseTagLink
from plugins.contacts.models import Contact

GRANTS: dict[str, list[str]] = {
    "Director": ["create", "read", "update", "delete"],
    "Sales manager": ["create", "read", "update", "delete"],
    "Sales rep": ["create", "read", "update", "delete"],
    "Sales assistant": ["read", "update"],  # assistants own no records
    "Back office": ["create", "read", "update"],
}
#: (owner, title, description, participants by last or company name, tags, chosen users)
CASES = [
    (
        "manager@demo.test",
        "Spring customer seminar",
        "A half-day seminar on cold-chain logistics for our key customers.",
        ["Rossi"],
        ["seminar"],
        [],
    ),
    (
        "rep1@demo.test",
        "Iberia Logistics tender",
        "The public tender for Iberia Logistics' new warehouse; prepared with Rob.",
        ["Iberia Logistics S.L.", "Fernández"],
        ["tender"],
        ["rep2@demo.test"],
    ),
]


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, actions in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, [f"calendar.case.{a}" for a in actions])
    if session.scalar(select(Case.id).where(Case.tenant_id == tenant.id).limit(1)):
        return
    contacts = {
        c.company_name or c.last_name: c
        for c in session.scalars(select(Contact).where(Contact.tenant_id == tenant.id))
    }
    tags: dict[str, CaseTag] = {}
    for owner, title, description, names, tag_names, chosen in CASES:
        if owner not in tenant.users:
            continue
        case = Case(
            tenant_id=tenant.id,
            title=title,
            description=description,
            status=CaseStatus.OPEN,
            owner_id=tenant.users[owner].id,
            access=(AccessLevel.PRIVATE if chosen else AccessLevel.PUBLIC_WRITE).value,
        )
        case.participant_links = [
            CaseParticipant(contact_id=contacts[n].id, tenant_id=tenant.id)
            for n in names
            if n in contacts
        ]
        for name in tag_names:
            tag = tags.setdefault(name, CaseTag(tenant_id=tenant.id, name=name))
            case.tag_links.append(CaseTagLink(tag=tag, tenant_id=tenant.id))
        session.add(case)
        session.flush()
        for email in chosen:
            if email in tenant.users:
                session.add(
                    RecordShare(
                        user_id=tenant.users[email].id,
                        entity="case",
                        record_id=case.id,
                        tenant_id=tenant.id,
                        can_write=True,
                    )
                )
    session.flush()
