"""Leads and opportunities: leads, admin-defined pipeline stages, opportunities, their
stage history and custom fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import (
    AccessLevel,
    Base,
    CustomFieldColumns,
    CustomValueColumns,
    UTCDateTime,
    str_enum,
    utcnow,
)
from plugins.contacts.models import Contact


class LeadStatus(StrEnum):
    """Where a lead is: nobody's yet, worked by its owner, or closed either way."""

    UNMANAGED = "UNMANAGED"
    IN_PROGRESS = "IN_PROGRESS"
    CONVERTED = "CONVERTED"
    UNSUITABLE = "UNSUITABLE"


OPEN_LEAD_STATUSES = (LeadStatus.UNMANAGED, LeadStatus.IN_PROGRESS)


class BudgetType(StrEnum):
    """How an opportunity's budget amount is meant: once, or per unit of time."""

    FIXED = "FIXED"
    PER_HOUR = "PER_HOUR"
    PER_DAY = "PER_DAY"
    PER_MONTH = "PER_MONTH"
    PER_YEAR = "PER_YEAR"


class Lead(Base):
    """A potential client not yet in the contacts. Unmanaged leads have no owner and are
    visible to everyone with the read permission (``unowned_visible``); a claimed lead is
    its owner's, under record access."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_tenant_id_status_owner_id", "tenant_id", "status", "owner_id"),
        Index("ix_leads_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_leads_tenant_id_owner_id", "tenant_id", "owner_id"),
        # the public branch of the visibility predicate (gateway.access.narrowing)
        Index("ix_leads_tenant_id_access", "tenant_id", "access"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(80), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.UNMANAGED)
    unsuitable_reason: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The contact a conversion created (the person, or the company when only one was made).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    #: The company a conversion created beside the person.
    company_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact | None] = relationship(foreign_keys=[contact_id])
    company_contact: Mapped[Contact | None] = relationship(foreign_keys=[company_contact_id])


class OpportunityStage(Base):
    """An admin-defined step of the sales pipeline with its success probability."""

    __tablename__ = "opportunity_stages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
        CheckConstraint("NOT (is_won AND is_lost)", name="won_or_lost"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    #: Chance of winning an opportunity in this stage, in percent (0-100).
    probability: Mapped[int] = mapped_column(default=0)
    is_won: Mapped[bool] = mapped_column(default=False)
    is_lost: Mapped[bool] = mapped_column(default=False)

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class Opportunity(Base):
    """A possible sale to a contact, moving through the stages. Owner = the responsible user;
    "restricted to chosen users" is a PRIVATE opportunity shared with them."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_tenant_id_owner_id", "tenant_id", "owner_id"),
        Index("ix_opportunities_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_opportunities_tenant_id_stage_id", "tenant_id", "stage_id"),
        Index("ix_opportunities_tenant_id_contact_id", "tenant_id", "contact_id"),
        Index("ix_opportunities_tenant_id_access", "tenant_id", "access"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    #: The budget per unit of ``budget_type`` (the whole budget when FIXED).
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    budget_type: Mapped[BudgetType] = mapped_column(str_enum(BudgetType), default=BudgetType.FIXED)
    #: How many units (hours, days, months…) the budget covers; 1 for FIXED.
    budget_count: Mapped[int] = mapped_column(default=1)
    expected_close_date: Mapped[date | None]
    stage_id: Mapped[int] = mapped_column(ForeignKey("opportunity_stages.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When it entered a won or lost stage (cleared if it leaves it).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact | None] = relationship()
    stage: Mapped[OpportunityStage] = relationship()
    stage_changes: Mapped[list[StageChange]] = relationship(
        cascade="all, delete-orphan", order_by="StageChange.id"
    )
    custom_values: Mapped[list[OpportunityCustomValue]] = relationship(cascade="all, delete-orphan")

    @property
    def total(self) -> Decimal | None:
        """The whole budget: amount times count."""
        return None if self.amount is None else self.amount * self.budget_count


class StageChange(Base):
    """One move of an opportunity between stages: who, when, from, to."""

    __tablename__ = "opportunity_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_stages.id", ondelete="SET NULL")
    )
    to_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_stages.id", ondelete="SET NULL")
    )
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpportunityCustomField(CustomFieldColumns, Base):
    """An admin-defined extra field of opportunities (the kernel's custom fields)."""

    __tablename__ = "opportunity_custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)


class OpportunityCustomValue(CustomValueColumns, Base):
    """A custom field's value for an opportunity, in a typed column."""

    __tablename__ = "opportunity_custom_values"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity_custom_fields.id", ondelete="CASCADE"), primary_key=True
    )

    field: Mapped[OpportunityCustomField] = relationship(lazy="joined")
