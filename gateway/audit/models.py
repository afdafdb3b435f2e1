"""Audit tables: one row per change of an access-controlled record (append-only: the API
has no path that edits or deletes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, utcnow


class RecordChangeLog(Base):
    """What one flush did to one record: ``changes`` maps each column that changed to
    ``[before, after]`` (JSON values; ``None`` before a creation or after a deletion)."""

    __tablename__ = "audit_record_changes"
    __table_args__ = (
        # a record's history, newest first
        Index("ix_audit_record_changes_record", "tenant_id", "entity", "record_id", "id"),
        # the retention purge
        Index("ix_audit_record_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int]
    #: created / updated / deleted
    action: Mapped[str] = mapped_column(String(20))
    #: The user who made the change (None: a visitor such as a web form, or the system).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The path: api, job, import, web_form, cli (``gateway.context.Via``), or system.
    via: Mapped[str] = mapped_column(String(20))
    #: What the change was part of, when a service says (``merge``, ``undo_import``…).
    reason: Mapped[str] = mapped_column(String(60), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AdminEvent(Base):
    """The organisation audit log: administrators' actions, sign-ins and failed sign-ins,
    second-factor changes and exports (append-only through the API)."""

    __tablename__ = "audit_admin_events"
    __table_args__ = (
        Index("ix_audit_admin_events_tenant_id_id", "tenant_id", "id"),
        Index("ix_audit_admin_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who acted (None: the system, or a sign-in attempt before anyone is signed in).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: ``area.verb``: ``auth.sign_in``, ``access.profile_updated``, ``data.exported``…
    action: Mapped[str] = mapped_column(String(60))
    #: What it was done to, as people read it (a profile's name, a user's email, a file).
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_address: Mapped[str] = mapped_column(String(60), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
