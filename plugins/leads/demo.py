"""Demo leads and opportunities: unmanaged leads to claim, each rep's own, closed ones, and
opportunities across the pipeline (one restricted to chosen users); plus the permissions the
demo profiles need and the default stages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import AccessLevel, DemoTenant, RecordShare, grant, utcnow
from plugins.contacts.models import Contact
from plugins.leads.models import (
    BudgetType,
    Lead,
    LeadStatus,
    Opportunity,
    StageChange,
)
from plugins.leads.services import seed_default_stages, stage_list

CRUD = ["read", "create", "update"]
GRANTS: dict[str, dict[str, list[str]]] = {
    "Director": {"lead": [*CRUD, "delete"], "opportunity": [*CRUD, "delete"]},
    "Sales manager": {"lead": [*CRUD, "delete"], "opportunity": [*CRUD, "delete"]},
    "Sales rep": {"lead": CRUD, "opportunity": CRUD},
    "Sales assistant": {"lead": CRUD, "opportunity": ["read", "update"]},
    "Back office": {"lead": CRUD, "opportunity": ["read"]},
}

#: (owner email or None for unmanaged, name, company, email, phone, source, status)
LEADS = [
    (
        None,
        "Olivia Martin",
        "Brightside Hotels",
        "olivia@brightside.example",
        "+34 910 000 301",
        "web",
        LeadStatus.UNMANAGED,
    ),
    (None, "Tomás Ruiz", "", "truiz@example.com", "+34 650 000 302", "fair", LeadStatus.UNMANAGED),
    (
        None,
        "Greta Holm",
        "Holm Design AB",
        "greta@holmdesign.example",
        "",
        "call",
        LeadStatus.UNMANAGED,
    ),
    (
        "rep1@demo.test",
        "Paolo Conti",
        "Conti Trasporti",
        "paolo@conti.example",
        "+39 02 0000 303",
        "web",
        LeadStatus.IN_PROGRESS,
    ),
    (
        "rep1@demo.test",
        "Sara Lindqvist",
        "",
        "sara.l@example.se",
        "",
        "referral",
        LeadStatus.UNSUITABLE,
    ),
    (
        "rep2@demo.test",
        "Jean Dupont",
        "Dupont & Fils",
        "jean@dupont.example",
        "+33 1 00 00 03 04",
        "fair",
        LeadStatus.IN_PROGRESS,
    ),
    (
        "manager@demo.test",
        "Klaus Weber",
        "Weber GmbH",
        "k.weber@weber.example",
        "",
        "call",
        LeadStatus.IN_PROGRESS,
    ),
]

#: (owner, title, contact company name or "", amount, type, count, stage index, access)
OPPORTUNITIES = [
    (
        "rep1@demo.test",
        "Warehouse software rollout",
        "Iberia Logistics S.L.",
        Decimal("48000.00"),
        BudgetType.FIXED,
        1,
        2,
        AccessLevel.PRIVATE,
    ),
    (
        "rep1@demo.test",
        "Fleet tracking support",
        "Iberia Logistics S.L.",
        Decimal("1200.00"),
        BudgetType.PER_MONTH,
        12,
        1,
        AccessLevel.PRIVATE,
    ),
    (
        "rep1@demo.test",
        "Confidential: acquisition advisory",
        "",
        Decimal("95.50"),
        BudgetType.PER_HOUR,
        200,
        3,
        AccessLevel.PRIVATE,
    ),
    (
        "rep2@demo.test",
        "Spare parts framework deal",
        "Nordic Parts AB",
        Decimal("30000.00"),
        BudgetType.FIXED,
        1,
        0,
        AccessLevel.PRIVATE,
    ),
    (
        "manager@demo.test",
        "Cold-chain consulting",
        "Atlantic Foods S.A.",
        Decimal("650.00"),
        BudgetType.PER_DAY,
        20,
        4,
        AccessLevel.PUBLIC_READ,
    ),
    (
        "manager@demo.test",
        "Catering platform",
        "Atlantic Foods S.A.",
        Decimal("15000.00"),
        BudgetType.FIXED,
        1,
        5,
        AccessLevel.PRIVATE,
    ),
]


def _grant_profiles(session: Session, tenant: DemoTenant) -> None:
    for profile_name, entities in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is None:
            continue
        codes = [f"leads.{entity}.{a}" for entity, actions in entities.items() for a in actions]
        if profile_name in ("Director", "Sales manager"):
            codes.append("leads.manage_settings")
        grant(session, profile, codes)


def seed(session: Session, tenant: DemoTenant) -> None:
    _grant_profiles(session, tenant)
    seed_default_stages(session, tenant.id)
    if session.scalar(select(Lead.id).where(Lead.tenant_id == tenant.id).limit(1)):
        return
    now = utcnow()
    for i, (owner, name, company, email, phone, source, status) in enumerate(LEADS):
        if owner is not None and owner not in tenant.users:
            continue
        owner_id = tenant.users[owner].id if owner else None
        lead = Lead(
            tenant_id=tenant.id,
            name=name,
            company=company,
            email=email,
            phone=phone,
            source=source,
            notes=f"Asked about prices on {source}.",
            status=status,
            owner_id=owner_id,
            access=AccessLevel.PRIVATE.value,
            created_by_id=owner_id,
            created_at=now - timedelta(days=i),
        )
        if status is LeadStatus.UNSUITABLE:
            lead.unsuitable_reason = "No budget this year."
            lead.closed_at = now
        session.add(lead)
    stages = [s for s in stage_list(session) if s.tenant_id == tenant.id]
    companies = {
        c.company_name: c
        for c in session.scalars(
            select(Contact).where(Contact.tenant_id == tenant.id, Contact.company_name != "")
        )
    }
    shared: Opportunity | None = None
    for owner, title, company, amount, kind, count, stage_index, access in OPPORTUNITIES:
        if owner not in tenant.users or not stages:
            continue
        user = tenant.users[owner]
        stage = stages[min(stage_index, len(stages) - 1)]
        contact = companies.get(company)
        opp = Opportunity(
            tenant_id=tenant.id,
            title=title,
            contact_id=contact.id if contact is not None else None,
            description=f"Demo opportunity: {title}.",
            currency="EUR",
            amount=amount,
            budget_type=kind,
            budget_count=count,
            expected_close_date=date.today() + timedelta(days=30 + 15 * stage_index),
            stage_id=stage.id,
            owner_id=user.id,
            access=access.value,
            created_by_id=user.id,
            closed_at=now if stage.is_closed else None,
        )
        opp.stage_changes = [
            StageChange(
                tenant_id=tenant.id, from_stage_id=None, to_stage_id=stage.id, changed_by_id=user.id
            )
        ]
        session.add(opp)
        if title == "Warehouse software rollout":
            shared = opp
    session.flush()
    # "Restricted to chosen users": rep1's warehouse deal is private and shared with rep2,
    # who sells it jointly; rep2 still cannot see rep1's other private opportunities.
    if shared is not None and "rep2@demo.test" in tenant.users:
        session.add(
            RecordShare(
                user_id=tenant.users["rep2@demo.test"].id,
                entity="opportunity",
                record_id=shared.id,
                tenant_id=tenant.id,
                can_write=False,
            )
        )
    session.flush()
