"""Demo invoicing: taxes, products and services, the default series, the company profile,
a few invoices of the demo clients; and the billing permissions of the demo profiles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import AccessLevel, DemoTenant, grant, utcnow
from plugins.contacts.models import Contact
from plugins.invoices.models import (
    DueTerm,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceStatus,
    InvoiceTax,
    ItemKind,
    LineKind,
)
from plugins.invoices.services import format_address, recompute

CRUD = ["invoice.read", "invoice.create", "invoice.update"]
GRANTS = {
    "Director": [
        *CRUD,
        "invoice.delete",
        "bill_articles",
        "bill_services",
        "bill_other",
        "export",
        "send",
    ],
    "Sales manager": [
        *CRUD,
        "invoice.delete",
        "bill_articles",
        "bill_services",
        "bill_other",
        "export",
        "send",
    ],
    "Sales rep": [*CRUD, "invoice.delete", "bill_articles", "bill_services", "send"],
    "Sales assistant": ["invoice.read", "invoice.create", "invoice.update", "bill_services"],
    "Back office": [
        *CRUD,
        "invoice.delete",
        "bill_articles",
        "bill_services",
        "bill_other",
        "export",
        "send",
        "manual_number",
        "manage_settings",
    ],
}

#: (item name or None, description, qty, price (None: the item's), discount)
DemoLine = tuple[str | None, str | None, str, str | None, str]
#: (client company, owner email, status, [lines])
INVOICES: list[tuple[str, str, InvoiceStatus, list[DemoLine]]] = [
    (
        "Iberia Logistics S.L.",
        "rep1@demo.test",
        InvoiceStatus.BILLED,
        [
            ("Route planning workshop", None, "1", None, "0"),
            ("Pallet scanner", None, "3", None, "10"),
        ],
    ),
    (
        "Iberia Logistics S.L.",
        "rep1@demo.test",
        InvoiceStatus.DRAFT,
        [("Support hours", None, "12.5", None, "0")],
    ),
    (
        "Atlantic Foods S.A.",
        "manager@demo.test",
        InvoiceStatus.PAID,
        [("Support hours", None, "8", None, "5"), (None, "Travel expenses", "1", "240.00", "0")],
    ),
]


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, codes in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, [f"invoices.{c}" for c in codes])
    tid = tenant.id
    if session.scalar(select(InvoiceSeries.id).where(InvoiceSeries.tenant_id == tid)):
        return  # already seeded
    series = InvoiceSeries(
        tenant_id=tid, name="Default", prefix="INV", next_number=1, padding=7, is_default=True
    )
    vat = InvoiceTax(tenant_id=tid, name="VAT", rate=Decimal("21"), compound=False)
    reduced = InvoiceTax(tenant_id=tid, name="Reduced VAT", rate=Decimal("10"), compound=False)
    levy = InvoiceTax(tenant_id=tid, name="Eco levy", rate=Decimal("1.5"), compound=True)
    session.add_all([series, vat, reduced, levy])
    session.flush()
    items = {
        i.name: i
        for i in (
            InvoiceItem(
                tenant_id=tid,
                kind=ItemKind.SERVICE,
                name="Route planning workshop",
                description="One-day route planning workshop",
                price=Decimal("950.00"),
                currency="EUR",
                tax_id=vat.id,
            ),
            InvoiceItem(
                tenant_id=tid,
                kind=ItemKind.SERVICE,
                name="Support hours",
                description="Support, per hour",
                price=Decimal("65.00"),
                currency="EUR",
                tax_id=vat.id,
            ),
            InvoiceItem(
                tenant_id=tid,
                kind=ItemKind.ARTICLE,
                name="Pallet scanner",
                description="Handheld pallet scanner",
                price=Decimal("389.90"),
                currency="EUR",
                tax_id=vat.id,
            ),
        )
    }
    session.add_all(items.values())
    session.add(
        InvoiceSettings(
            tenant_id=tid,
            company_name=f"{tenant.slug.capitalize()} Demo S.L.",
            address="Calle Mayor 1\n28013 Madrid\nES",
            fiscal_id="B00000000",
            default_terms="Bank transfer to ES00 0000 0000 0000 0000 0000 within the due date.",
        )
    )
    session.flush()
    taxes = {t.id: t for t in (vat, reduced, levy)}
    today = utcnow().date()
    for company, owner, status, lines in INVOICES:
        client = session.scalar(
            select(Contact).where(Contact.tenant_id == tid, Contact.company_name == company)
        )
        if client is None or owner not in tenant.users:
            continue
        invoice = Invoice(
            tenant_id=tid,
            status=InvoiceStatus.DRAFT,
            series_id=series.id,
            issue_date=today - timedelta(days=10),
            due_term=DueTerm.DAYS_30,
            due_date=today + timedelta(days=20),
            contact_id=client.id,
            billing_address=format_address(client),
            consignee_same=True,
            delivery_address=format_address(client),
            language="en",
            currency="EUR",
            owner_id=tenant.users[owner].id,
            created_by_id=tenant.users[owner].id,
            access=AccessLevel.PRIVATE.value,
        )
        invoice.lines = []
        for position, (item_name, description, qty, price, discount) in enumerate(lines):
            item = items.get(item_name) if item_name else None
            tax = taxes[item.tax_id] if item and item.tax_id else vat
            if price:
                unit_price = Decimal(price)
            elif item is not None:
                unit_price = item.price
            else:
                raise ValueError(f"the demo line {description!r} has no price and no item")
            invoice.lines.append(
                InvoiceLine(
                    tenant_id=tid,
                    position=position,
                    kind=LineKind(item.kind.value) if item else LineKind.OTHER,
                    item_id=item.id if item else None,
                    description=description or (item.description if item else ""),
                    quantity=Decimal(qty),
                    unit_price=unit_price,
                    discount=Decimal(discount),
                    taxes=[
                        InvoiceLineTax(
                            tenant_id=tid,
                            position=0,
                            tax_id=tax.id,
                            name=tax.name,
                            rate=tax.rate,
                            compound=tax.compound,
                        )
                    ],
                )
            )
        recompute(invoice)
        if status is not InvoiceStatus.DRAFT:
            invoice.number = series.next_number
            invoice.number_text = series.format(series.next_number)
            series.next_number += 1
            invoice.issued_at = utcnow()
            invoice.status = status
        session.add(invoice)
    session.flush()
