"""Contacts: persons and companies, their emails, phones, tags, types and custom fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import (
    AccessLevel,
    Base,
    CustomFieldColumns,
    CustomValueColumns,
    ManagingCompany,
    UTCDateTime,
    str_enum,
    utcnow,
)
from gateway.sdk import FieldType as FieldType  # re-exported: leads reads it here


class ContactKind(StrEnum):
    PERSON = "PERSON"
    COMPANY = "COMPANY"


class ClientKind(StrEnum):
    """How the client is billed (MISSION C1)."""

    COMPANY = "COMPANY"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    INDIVIDUAL = "INDIVIDUAL"


class Category(StrEnum):
    BILLABLE = "BILLABLE"
    POTENTIAL = "POTENTIAL"
    SUPPLIER = "SUPPLIER"
    AGENT = "AGENT"
    RESELLER = "RESELLER"


class FiscalIdType(StrEnum):
    """Spanish company, personal and foreigner tax IDs, or another document."""

    CIF = "CIF"
    NIF = "NIF"
    NIE = "NIE"
    OTHER = "OTHER"


class ContactType(Base):
    """Admin-defined contact types ("client", "partner"…)."""

    __tablename__ = "contact_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))


class Tag(Base):
    """A tag. A restricted tag may be added or removed only by the profiles granted it."""

    __tablename__ = "contact_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    restricted: Mapped[bool] = mapped_column(default=False)


class TagGrant(Base):
    """A profile allowed to add and remove a restricted tag (MISSION A6)."""

    __tablename__ = "contact_tag_grants"

    tag_id: Mapped[int] = mapped_column(
        ForeignKey("contact_tags.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )


class CustomField(CustomFieldColumns, Base):
    """An admin-defined extra field of contacts (columns: ``gateway.sdk.CustomFieldColumns``)."""

    __tablename__ = "contact_custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)


def _search_column() -> Any:
    """A folded search column (added to existing tables, hence the server default)."""
    return mapped_column(Text, default="", server_default="", deferred=True)


class Contact(Base):
    """A person or a company. Access-controlled: owner (the manager) and access level."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_tenant_id_owner_id", "tenant_id", "owner_id"),
        Index("ix_contacts_tenant_id_access", "tenant_id", "access"),
        Index("ix_contacts_tenant_id_sort_name", "tenant_id", "sort_name", "id"),
        Index("ix_contacts_tenant_id_company_id", "tenant_id", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company_name: Mapped[str] = mapped_column(String(200), default="")
    #: The company a person belongs to.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    client_kind: Mapped[ClientKind | None] = mapped_column(str_enum(ClientKind))
    category: Mapped[Category | None] = mapped_column(str_enum(Category))
    contact_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_types.id", ondelete="SET NULL")
    )
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    website: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    fiscal_id: Mapped[str] = mapped_column(String(40), default="")
    fiscal_id_type: Mapped[FiscalIdType | None] = mapped_column(str_enum(FiscalIdType))
    source: Mapped[str] = mapped_column(String(80), default="")
    segment: Mapped[str] = mapped_column(String(80), default="")
    zone: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: Commercial discount in percent.
    discount: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_mime: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Lower-cased display name, for sorting and keyset pagination.
    sort_name: Mapped[str] = mapped_column(String(300), default="")
    #: The universal search's folded text (lower-case, no accents) of the contact's own
    #: searched fields — names, emails, phones, fiscal ID, tags — for callers who may read
    #: them all; the same text one column per field for callers whose profile hides some
    #: (``filtering.SEARCHED``). Never a related record's text: the company's name is read on
    #: the company itself, when the caller may see it. Deferred: lists never show them.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    search_first_name: Mapped[str] = _search_column()
    search_last_name: Mapped[str] = _search_column()
    search_company_name: Mapped[str] = _search_column()
    search_emails: Mapped[str] = _search_column()
    #: Numbers as written and their digits only.
    search_phones: Mapped[str] = _search_column()
    search_fiscal_id: Mapped[str] = _search_column()
    search_tags: Mapped[str] = _search_column()

    emails: Mapped[list[ContactEmail]] = relationship(
        cascade="all, delete-orphan", order_by="ContactEmail.position"
    )
    phones: Mapped[list[ContactPhone]] = relationship(
        cascade="all, delete-orphan", order_by="ContactPhone.position"
    )
    tag_links: Mapped[list[ContactTagLink]] = relationship(
        cascade="all, delete-orphan", order_by="ContactTagLink.tag_id"
    )
    custom_values: Mapped[list[CustomValue]] = relationship(cascade="all, delete-orphan")
    company: Mapped[Contact | None] = relationship(remote_side=[id])
    #: Users assigned per managing company (MISSION C9); the API reads them batched
    #: (``assignments.py``), this relationship serves creation and deletion.
    assignments: Mapped[list[ContactAssignment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ContactAssignment.id"
    )

    @property
    def display_name(self) -> str:
        return display_name(self.kind, self.company_name, self.first_name, self.last_name)


def display_name(kind: ContactKind, company_name: str, first_name: str, last_name: str) -> str:
    """A company's name, or a person's first and last names."""
    if kind is ContactKind.COMPANY:
        return company_name
    return " ".join(p for p in (first_name, last_name) if p)


class ContactEmail(Base):
    __tablename__ = "contact_emails"
    __table_args__ = (Index("ix_contact_emails_tenant_id_address", "tenant_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="WORK")
    address: Mapped[str] = mapped_column(String(254))
    position: Mapped[int] = mapped_column(default=0)


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    __table_args__ = (Index("ix_contact_phones_tenant_id_digits", "tenant_id", "digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="WORK")
    number: Mapped[str] = mapped_column(String(40))
    #: The number's digits only, for matching duplicates.
    digits: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)


class ContactTagLink(Base):
    __tablename__ = "contact_tag_links"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("contact_tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))

    tag: Mapped[Tag] = relationship(lazy="joined")


class CustomValue(CustomValueColumns, Base):
    """A custom field's value for a contact, in a typed column so filters run in SQL
    (columns: :class:`gateway.sdk.CustomValueColumns`)."""

    __tablename__ = "contact_custom_values"
    __table_args__ = (Index("ix_contact_custom_values_field_id_text", "field_id", "value_text"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("contact_custom_fields.id", ondelete="CASCADE"), primary_key=True
    )

    field: Mapped[CustomField] = relationship(lazy="joined")


class ContactAssignment(Base):
    """A client's user for one managing company (MISSION C9): at most one per company and
    contact. The assigned user — and those above them, and their assistants — read and
    change the contact like its owner (the access engine's assignment grant)."""

    __tablename__ = "contact_assignments"
    __table_args__ = (
        UniqueConstraint("contact_id", "company_id"),
        #: the visibility predicate's EXISTS: "assigned to one of these users"
        Index("ix_contact_assignments_user_id_contact_id", "user_id", "contact_id"),
        #: filters and mass reassignment by company-user pair
        Index("ix_contact_assignments_company_id_user_id", "company_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    #: Deleting a company or branch in use is refused (CONFLICT): reassign first.
    company_id: Mapped[int] = mapped_column(ForeignKey("managing_companies.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("company_branches.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    company: Mapped[ManagingCompany] = relationship()
