"""The sales team's zones (MISSION M6): a named zone and the users assigned to it.

A user may have several zones and a zone several users. A contact's ``zone`` stays a text
that names a zone (filters and imports already read it), so zones are a catalogue of the
tenant, not access-controlled records: everyone signed in may read them, the contacts'
settings permission changes them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import Base

#: The longest zone name (a contact's ``zone`` text holds the same).
NAME_LENGTH = 80


class Zone(Base):
    """A zone of the sales team; its name is unique in the tenant (exact, after trimming)."""

    __tablename__ = "contact_zones"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))

    links: Mapped[list[ZoneUser]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", passive_deletes=True
    )


class ZoneUser(Base):
    """A user assigned to a zone. Carries the tenant so the session's tenant predicate and
    the flush checks cover it like every tenant-owned row."""

    __tablename__ = "contact_zone_users"

    zone_id: Mapped[int] = mapped_column(
        ForeignKey("contact_zones.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))

    zone: Mapped[Zone] = relationship(back_populates="links")
