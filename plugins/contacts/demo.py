"""Demo contacts: persons and companies across the demo users, private and public, tagged,
with custom fields; and the permissions the demo profiles need."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import (
    AccessLevel,
    CompanyBranch,
    DemoTenant,
    ManagingCompany,
    grant,
)
from plugins.contacts.models import (
    Category,
    ClientKind,
    Contact,
    ContactAssignment,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    ContactType,
    CustomField,
    CustomValue,
    FieldType,
    FiscalIdType,
    Tag,
    TagGrant,
)
from plugins.contacts.services import refresh_search
from plugins.contacts.zones.models import Zone, ZoneUser

CRUD = ["read", "create", "update"]
#: Demo profiles that may import and mass-manage by spreadsheet (``core.imports.run``).
IMPORTERS = ("Director", "Sales manager", "Sales rep", "Back office")
GRANTS = {
    "Director": [
        *CRUD,
        "delete",
        "assign_tags",
        "create_public",
        "set_discount",
        "change_coordinates",
        "export",
        "merge",
    ],
    "Sales manager": [
        *CRUD,
        "delete",
        "assign_tags",
        "create_public",
        "set_discount",
        "change_coordinates",
        "export",
        "merge",
    ],
    "Sales rep": [*CRUD, "assign_tags", "create_public", "change_coordinates", "export"],
    "Sales assistant": ["read", "update", "assign_tags"],
    "Back office": [
        *CRUD,
        "assign_tags",
        "convert_to_supplier",
        "fiscal_id_other",
        "export",
        "change_coordinates",
    ],
}
_ENTITY_ACTIONS = {"read", "create", "update", "delete"}

#: (owner email, kind, first, last or company name, email, phone, access, tags, category)
PEOPLE = [
    (
        "rep1@demo.test",
        ContactKind.COMPANY,
        "",
        "Iberia Logistics S.L.",
        "info@iberialog.example",
        "+34 911 000 001",
        AccessLevel.PRIVATE,
        ["customer", "VIP"],
        Category.BILLABLE,
    ),
    (
        "rep1@demo.test",
        ContactKind.PERSON,
        "Lucía",
        "Fernández",
        "lucia@iberialog.example",
        "+34 600 100 200",
        AccessLevel.PRIVATE,
        ["customer"],
        Category.BILLABLE,
    ),
    (
        "rep1@demo.test",
        ContactKind.PERSON,
        "Marco",
        "Rossi",
        "marco.rossi@example.com",
        "+39 333 111 2222",
        AccessLevel.PUBLIC_READ,
        ["lead-2026"],
        Category.POTENTIAL,
    ),
    (
        "rep2@demo.test",
        ContactKind.COMPANY,
        "",
        "Nordic Parts AB",
        "sales@nordicparts.example",
        "+46 8 123 456",
        AccessLevel.PRIVATE,
        ["supplier"],
        Category.SUPPLIER,
    ),
    (
        "rep2@demo.test",
        ContactKind.PERSON,
        "Ana",
        "Sousa",
        "ana.sousa@example.com",
        "+351 912 345 678",
        AccessLevel.PUBLIC_WRITE,
        ["newsletter"],
        Category.POTENTIAL,
    ),
    (
        "manager@demo.test",
        ContactKind.COMPANY,
        "",
        "Atlantic Foods S.A.",
        "hello@atlantic.example",
        "+34 981 000 111",
        AccessLevel.PRIVATE,
        ["customer", "VIP"],
        Category.BILLABLE,
    ),
    (
        "director@demo.test",
        ContactKind.PERSON,
        "Hannah",
        "Becker",
        "h.becker@example.de",
        "+49 30 555 0100",
        AccessLevel.PUBLIC_READ,
        ["partner"],
        Category.AGENT,
    ),
    (
        "admin@acme.test",
        ContactKind.COMPANY,
        "",
        "Acme Widgets Inc.",
        "buy@acmewidgets.example",
        "+1 555 0100",
        AccessLevel.PUBLIC_READ,
        ["customer"],
        Category.BILLABLE,
    ),
]


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, actions in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(
                session,
                profile,
                [
                    f"contacts.contact.{a}" if a in _ENTITY_ACTIONS else f"contacts.{a}"
                    for a in actions
                ],
            )
    for profile_name in IMPORTERS:  # contacts are what the demo imports
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, ["core.imports.run"])
    _zones(session, tenant)
    if session.scalar(select(Contact.id).where(Contact.tenant_id == tenant.id).limit(1)):
        return
    ids = tenant.id
    client_type = ContactType(tenant_id=ids, name="Client")
    partner_type = ContactType(tenant_id=ids, name="Partner")
    session.add_all([client_type, partner_type])
    industry = CustomField(
        tenant_id=ids,
        key="industry",
        label="Industry",
        type=FieldType.CHOICE,
        choices="Logistics\nFood\nIndustry\nServices",
        position=1,
    )
    revenue = CustomField(
        tenant_id=ids,
        key="annual_revenue",
        label="Annual revenue (EUR)",
        type=FieldType.NUMBER,
        position=2,
    )
    newsletter = CustomField(
        tenant_id=ids,
        key="newsletter",
        label="Wants the newsletter",
        type=FieldType.BOOLEAN,
        position=3,
    )
    session.add_all([industry, revenue, newsletter])
    tags: dict[str, Tag] = {}
    for name in ("customer", "VIP", "lead-2026", "supplier", "newsletter", "partner"):
        tags[name] = Tag(tenant_id=ids, name=name, restricted=name == "VIP")
        session.add(tags[name])
    session.flush()
    if "Sales manager" in tenant.profiles:
        session.add(TagGrant(tag_id=tags["VIP"].id, profile_id=tenant.profiles["Sales manager"].id))
    companies: dict[str, Contact] = {}
    for i, (owner, kind, first, last, email, phone, access, tag_names, category) in enumerate(
        PEOPLE
    ):
        if owner not in tenant.users:
            continue
        contact = Contact(
            tenant_id=ids,
            kind=kind,
            first_name=first if kind is ContactKind.PERSON else "",
            last_name=last if kind is ContactKind.PERSON else "",
            company_name=last if kind is ContactKind.COMPANY else "",
            client_kind=ClientKind.COMPANY
            if kind is ContactKind.COMPANY
            else ClientKind.INDIVIDUAL,
            category=category,
            contact_type_id=(partner_type if category is Category.AGENT else client_type).id,
            owner_id=tenant.users[owner].id,
            created_by_id=tenant.users[owner].id,
            access=access.value,
            city=[
                "Madrid",
                "Madrid",
                "Milano",
                "Stockholm",
                "Lisboa",
                "A Coruña",
                "Berlin",
                "Springfield",
            ][i],
            country=["ES", "ES", "IT", "SE", "PT", "ES", "DE", "US"][i],
            source="web" if i % 2 else "fair",
            segment="enterprise" if kind is ContactKind.COMPANY else "smb",
            zone="north" if i % 3 == 0 else "south",
            description=f"Demo note about {first or last}: prefers calls in the morning.",
            discount=Decimal("5.00") if category is Category.BILLABLE else None,
            fiscal_id="B12345674" if kind is ContactKind.COMPANY and i == 0 else "",
            fiscal_id_type=FiscalIdType.CIF if kind is ContactKind.COMPANY and i == 0 else None,
        )
        contact.emails = [ContactEmail(tenant_id=ids, kind="WORK", address=email, position=0)]
        digits = "".join(ch for ch in phone if ch.isdigit())
        contact.phones = [
            ContactPhone(tenant_id=ids, kind="WORK", number=phone, digits=digits, position=0)
        ]
        contact.tag_links = [ContactTagLink(tag=tags[t], tenant_id=ids) for t in tag_names]
        contact.custom_values = [
            CustomValue(
                field=industry,
                tenant_id=ids,
                value_text=[
                    "Logistics",
                    "Logistics",
                    "Services",
                    "Industry",
                    "Services",
                    "Food",
                    "Services",
                    "Industry",
                ][i],
            ),
            CustomValue(field=newsletter, tenant_id=ids, value_bool="newsletter" in tag_names),
        ]
        if kind is ContactKind.COMPANY:
            contact.custom_values.append(
                CustomValue(field=revenue, tenant_id=ids, value_number=Decimal(1_000_000 * (i + 1)))
            )
            companies[last] = contact
        if last == "Fernández":
            contact.company = companies["Iberia Logistics S.L."]
        session.add(contact)
        refresh_search(contact)
    session.flush()
    _assign(session, tenant)


#: Contact name → (managing company, branch, user): each client's user per company. The
#: demo assigns clients to their managers (or those above them), so the demo users' views
#: stay what the guides describe; tests add cross assignments of their own.
ASSIGNMENTS: dict[str, list[tuple[str, str | None, str]]] = {
    "Iberia Logistics S.L.": [("Demo Trading Iberia S.L.", "Madrid", "rep1@demo.test")],
    "Fernández": [("Demo Trading Iberia S.L.", "Madrid", "rep1@demo.test")],
    "Nordic Parts AB": [("Demo Trading Iberia S.L.", "Barcelona", "rep2@demo.test")],
    "Sousa": [("Demo Trading Portugal Lda.", "Lisboa", "rep2@demo.test")],
    "Atlantic Foods S.A.": [
        ("Demo Trading Iberia S.L.", None, "manager@demo.test"),
        ("Demo Trading Portugal Lda.", "Porto", "manager@demo.test"),
    ],
}


def _assign(session: Session, tenant: DemoTenant) -> None:
    companies = {
        c.name: c
        for c in session.scalars(
            select(ManagingCompany).where(ManagingCompany.tenant_id == tenant.id)
        )
    }
    branches = {
        (b.company_id, b.name): b
        for b in session.scalars(select(CompanyBranch).where(CompanyBranch.tenant_id == tenant.id))
    }
    contacts = session.scalars(select(Contact).where(Contact.tenant_id == tenant.id))
    for contact in contacts:
        name = contact.company_name or contact.last_name
        for company_name, branch_name, email in ASSIGNMENTS.get(name, []):
            company, user = companies.get(company_name), tenant.users.get(email)
            if company is None or user is None:
                continue
            branch = branches.get((company.id, branch_name)) if branch_name else None
            session.add(
                ContactAssignment(
                    tenant_id=tenant.id,
                    contact_id=contact.id,
                    company_id=company.id,
                    branch_id=branch.id if branch else None,
                    user_id=user.id,
                )
            )
    session.flush()


def _zones(session: Session, tenant: DemoTenant) -> None:
    """The zones the demo contacts name ("north", "south"), each with a rep (MISSION M6)."""
    if session.scalar(select(Zone.id).where(Zone.tenant_id == tenant.id).limit(1)):
        return
    for name, email in (("north", "rep1@demo.test"), ("south", "rep2@demo.test")):
        user = tenant.users.get(email)
        if user is None:
            continue
        zone = Zone(tenant_id=tenant.id, name=name)
        session.add(zone)
        session.flush()
        session.add(ZoneUser(zone_id=zone.id, user_id=user.id, tenant_id=tenant.id))
