"""Activity history tables: the admin-defined event categories (R5) and the interactions
logged on a contact (a call, a meeting, an email, a note).

An interaction is not an access-controlled record of its own: it is part of its contact's
history and shares the contact's visibility (``docs/modules/calendar.md``, "Activity
history and timeline", says why). Every read goes through ``service.visible``, which joins
the contact so that the session's visibility predicate on contacts decides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import Base, UTCDateTime, str_enum, utcnow
from plugins.contacts.models import Contact


class HistoryKind(StrEnum):
    """What kind of contact an event category records (frontends pick an icon by it)."""

    NOTE = "NOTE"
    CALL = "CALL"
    MEETING = "MEETING"
    EMAIL = "EMAIL"
    OTHER = "OTHER"


class HistoryCategory(Base):
    """A category of history events the administrators define (R5), in their order."""

    __tablename__ = "history_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    #: ``#RRGGBB``.
    colour: Mapped[str] = mapped_column(String(7), default="#64748B")
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[HistoryKind] = mapped_column(str_enum(HistoryKind), default=HistoryKind.OTHER)


class Interaction(Base):
    """Something that happened with a contact, logged by its author: who, when, what."""

    __tablename__ = "interactions"
    __table_args__ = (
        # a contact's history, newest first (the timeline's keyset)
        Index(
            "ix_interactions_tenant_id_contact_id_at",
            "tenant_id",
            "contact_id",
            "occurred_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    #: The history dies with its contact.
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("history_categories.id", ondelete="SET NULL")
    )
    #: When it happened (UTC), given by the author; defaults to when it was logged.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who logged it (NULL only once that user is deleted).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    #: An opportunity of the leads module (no foreign key: that module may be absent); read
    #: through the registry, visible-only, like an invoice's opportunity.
    opportunity_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship(foreign_keys=[contact_id])
