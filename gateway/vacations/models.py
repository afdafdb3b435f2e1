"""Tables of vacations: each profile's approval policy, and the requests."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class VacationStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class VacationPolicy(Base):
    """Who approves the vacations of a profile's users: ``levels`` steps up the reporting
    hierarchy (the manager, then the manager's manager…), or one named ``approver``.
    A profile without a policy has one step: the user's manager."""

    __tablename__ = "vacation_policies"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    levels: Mapped[int] = mapped_column(default=1)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class VacationRequest(Base):
    """A user's request for days off, approved step by step by ``approver_ids`` in order
    (fixed when requested: a later change of manager does not move a pending request)."""

    __tablename__ = "vacation_requests"
    __table_args__ = (
        Index("ix_vacation_requests_tenant_id_user_id", "tenant_id", "user_id"),
        Index("ix_vacation_requests_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VacationStatus] = mapped_column(
        str_enum(VacationStatus), default=VacationStatus.PENDING
    )
    approver_ids: Mapped[list[int]] = mapped_column(JSON)
    #: Index in ``approver_ids`` of the approver whose decision is awaited.
    step: Mapped[int] = mapped_column(default=0)
    #: The approver currently awaited (``None`` once decided); indexed for "to approve".
    awaiting_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
