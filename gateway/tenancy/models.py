"""Tenant rows, per-tenant module switches, and the organisation's managing companies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class RecordVisibility(StrEnum):
    """Whose records a hierarchical user sees besides their own (docs/access.md)."""

    #: Those of everyone who reports to them, directly or not.
    REPORTING_LINE = "reporting_line"
    #: Those of every user whose role is below theirs in the roles tree.
    ROLE_TREE = "role_tree"


class Tenant(Base):
    """An organisation. Every tenant-owned row elsewhere carries its ``tenant_id``."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Organisation settings (MISSION I3)
    language: Mapped[str] = mapped_column(String(20), default="en")
    timezone: Mapped[str] = mapped_column(String(60), default="UTC")
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    fiscal_id: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    #: Every user must sign in with two-factor authentication (MISSION I2).
    require_two_factor: Mapped[bool] = mapped_column(default=False)
    #: Days the audit trail and the organisation log are kept (``core.purge_audit``).
    audit_retention_days: Mapped[int] = mapped_column(default=730)
    #: Whether "the records of those below me" follows the reporting line or the roles tree.
    record_visibility: Mapped[RecordVisibility] = mapped_column(
        str_enum(RecordVisibility), default=RecordVisibility.REPORTING_LINE
    )


class TenantModule(Base):
    """An explicit module switch; modules without a row follow their ``default_enabled``."""

    __tablename__ = "tenant_modules"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    module: Mapped[str] = mapped_column(String(63), primary_key=True)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ManagingCompany(Base):
    """One of the organisation's own companies ("empresa administradora"): a group may run
    several firms, and each client is assigned a user per firm (MISSION C9). Organisation
    settings, in the kernel: contacts assign clients per company, and other modules
    (invoices…) may bill per company later."""

    __tablename__ = "managing_companies"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    fiscal_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branches: Mapped[list[CompanyBranch]] = relationship(
        back_populates="company",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CompanyBranch.name",
    )


class CompanyBranch(Base):
    """A branch ("delegación") of a managing company."""

    __tablename__ = "company_branches"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("managing_companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))

    company: Mapped[ManagingCompany] = relationship(back_populates="branches")
