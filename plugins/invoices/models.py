"""Invoices: catalogues (items, taxes, numbering series, company profile) and invoices with
their lines. Money is ``Numeric``; amounts are rounded as documented in ``totals.py``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import AccessLevel, Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from plugins.contacts.models import Contact

MONEY = Numeric(18, 4)
QUANTITY = Numeric(18, 3)
PERCENT = Numeric(7, 4)


class ItemKind(StrEnum):
    """What a catalogue item is; decides the billing permission it needs (MISSION V7)."""

    ARTICLE = "ARTICLE"
    SERVICE = "SERVICE"


class LineKind(StrEnum):
    """What an invoice line bills: a catalogue article or service, or a free concept."""

    ARTICLE = "ARTICLE"
    SERVICE = "SERVICE"
    OTHER = "OTHER"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    BILLED = "BILLED"
    PAID = "PAID"
    REJECTED = "REJECTED"


class DueTerm(StrEnum):
    """How the due date follows from the invoice date."""

    ON_RECEIPT = "ON_RECEIPT"
    DAYS_15 = "DAYS_15"
    DAYS_30 = "DAYS_30"
    DAYS_45 = "DAYS_45"
    DATE = "DATE"


class InvoiceTax(Base):
    """A tax of the catalogue (VAT 21 %, a surcharge…). Compound taxes apply on the line's
    base plus the taxes listed before them on that line."""

    __tablename__ = "invoice_taxes"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    rate: Mapped[Decimal] = mapped_column(PERCENT)
    compound: Mapped[bool] = mapped_column(default=False)


class InvoiceItem(Base):
    """A product (article) or service of the catalogue, with its price and default tax."""

    __tablename__ = "invoice_items"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_taxes.id", ondelete="SET NULL"))


class InvoiceSeries(Base):
    """A numbering series: ``prefix`` + ``next_number`` zero-padded to ``padding`` digits.

    Its row is locked while an invoice is issued, so numbers are handed out one at a time.
    """

    __tablename__ = "invoice_series"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(20), default="INV")
    next_number: Mapped[int] = mapped_column(default=1)
    padding: Mapped[int] = mapped_column(default=7)
    is_default: Mapped[bool] = mapped_column(default=False)

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.padding}d}"


class InvoiceSettings(Base):
    """The company profile printed on invoices, and the default payment terms. Empty fields
    fall back to the organisation's settings (legal name, address, fiscal ID; logo)."""

    __tablename__ = "invoice_settings"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    company_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    fiscal_id: Mapped[str] = mapped_column(String(40), default="")
    default_terms: Mapped[str] = mapped_column(Text, default="")


class Invoice(Base):
    """An invoice. Access-controlled like contacts (owner and access level).

    ``number``/``number_text`` are set only when the invoice is issued (Draft → Billed):
    drafts never consume a number, so deleting one leaves no gap. ``opportunity_id`` is set
    when the leads module is on; it has no foreign key so invoices work without that module.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_tenant_id_owner_id", "tenant_id", "owner_id"),
        Index("ix_invoices_tenant_id_access", "tenant_id", "access"),
        Index("ix_invoices_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_invoices_tenant_id_contact_id", "tenant_id", "contact_id"),
        UniqueConstraint("tenant_id", "series_id", "number"),
        UniqueConstraint("tenant_id", "number_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus), default=InvoiceStatus.DRAFT
    )
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_series.id", ondelete="RESTRICT")
    )
    number: Mapped[int | None]
    number_text: Mapped[str | None] = mapped_column(String(40))
    issue_date: Mapped[date]
    due_term: Mapped[DueTerm] = mapped_column(str_enum(DueTerm), default=DueTerm.DAYS_30)
    due_date: Mapped[date]
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    billing_address: Mapped[str] = mapped_column(Text, default="")
    consignee_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    #: The consignee is the client; the delivery address may still differ from billing.
    consignee_same: Mapped[bool] = mapped_column(default=True)
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    #: An opportunity of the leads module (no foreign key: that module may be absent).
    opportunity_id: Mapped[int | None]
    language: Mapped[str] = mapped_column(String(10), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    order_number: Mapped[str] = mapped_column(String(60), default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was last marked paid (None unless PAID): the timeline's "invoice paid".
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[InvoiceLine]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    client: Mapped[Contact] = relationship(foreign_keys=[contact_id])
    consignee: Mapped[Contact | None] = relationship(foreign_keys=[consignee_id])
    series: Mapped[InvoiceSeries | None] = relationship()


class InvoiceLine(Base):
    """One line: a catalogue item or a free concept. Tax rates are copied onto the line
    (``InvoiceLineTax``) so later catalogue edits never change an issued invoice."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[LineKind] = mapped_column(str_enum(LineKind))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_items.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal(0))
    #: quantity x unit price x (1 - discount), rounded to the currency's minor unit.
    net_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    tax_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))

    taxes: Mapped[list[InvoiceLineTax]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceLineTax.position", lazy="selectin"
    )


class InvoiceLineTax(Base):
    """A tax applied to a line, in order, with its rate and amount as computed."""

    __tablename__ = "invoice_line_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(
        ForeignKey("invoice_lines.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_taxes.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(80))
    rate: Mapped[Decimal] = mapped_column(PERCENT)
    compound: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
