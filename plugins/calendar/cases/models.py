"""Case tables: the case (access-controlled: owner = its creator), its participants
(contacts), its own tags, its documents (kernel stored files) and its custom fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import (
    AccessLevel,
    Base,
    CustomFieldColumns,
    CustomValueColumns,
    StoredFile,
    UTCDateTime,
    str_enum,
    utcnow,
)


class CaseStatus(StrEnum):
    """A case is open until someone closes it (it may be reopened)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Case(Base):
    """A matter organised with a group of contacts. Open to all by default
    (``PUBLIC_WRITE``); "restricted to chosen users" is ``PRIVATE`` plus write shares."""

    __tablename__ = "cases"
    __table_args__ = (
        # the list's keyset order (created_at, id)
        Index("ix_cases_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_cases_tenant_id_owner_id", "tenant_id", "owner_id"),
        # the public branch of the visibility predicate (gateway.access.narrowing)
        Index("ix_cases_tenant_id_access", "tenant_id", "access"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Its creator (NULL only if that user is deleted).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PUBLIC_WRITE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    participant_links: Mapped[list[CaseParticipant]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    tag_links: Mapped[list[CaseTagLink]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseTagLink.tag_id"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseDocument.id"
    )
    custom_values: Mapped[list[CaseCustomValue]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class CaseParticipant(Base):
    """A contact taking part in a case."""

    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseTag(Base):
    """A tag of cases (cases have their own tag list, apart from the contacts' tags)."""

    __tablename__ = "case_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))


class CaseTagLink(Base):
    __tablename__ = "case_tag_links"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("case_tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))

    tag: Mapped[CaseTag] = relationship(lazy="joined")


class CaseDocument(Base):
    """A stored file attached to a case: readable by whoever sees the case. A file is
    attached to one case at most; it is kept while attached."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), unique=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[StoredFile] = relationship(lazy="joined")


class CaseCustomField(CustomFieldColumns, Base):
    """An admin-defined extra field of cases (the kernel's custom fields)."""

    __tablename__ = "case_custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)


class CaseCustomValue(CustomValueColumns, Base):
    """A custom field's value for a case, in a typed column."""

    __tablename__ = "case_custom_values"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("case_custom_fields.id", ondelete="CASCADE"), primary_key=True
    )

    field: Mapped[CaseCustomField] = relationship(lazy="joined")
