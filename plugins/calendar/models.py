"""Calendar tables: tasks (access-controlled, owner = the responsible user) and the
admin-defined task categories with their colour."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import AccessLevel, Base, UTCDateTime, str_enum, utcnow
from plugins.calendar.cases.models import Case
from plugins.contacts.models import Contact

#: The reminders a task may have, in minutes before its deadline (None: never).
REMINDER_CHOICES = (5, 15, 30, 60, 120, 1440)
#: The default reminder: the day before.
DEFAULT_REMINDER = 1440


class TaskStatus(StrEnum):
    """A task is open until its responsible marks it done (it may be reopened)."""

    OPEN = "OPEN"
    DONE = "DONE"


class TaskCategory(Base):
    """A kind of task the administrators define (call, visit…), shown in its colour."""

    __tablename__ = "task_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    #: ``#RRGGBB``.
    colour: Mapped[str] = mapped_column(String(7), default="#3B82F6")
    position: Mapped[int] = mapped_column(default=0)


class Task(Base):
    """Something to do by a deadline, for a responsible user, maybe about a contact.
    "Restricted to chosen users" is a PRIVATE task shared with them."""

    __tablename__ = "tasks"
    __table_args__ = (
        # calendar ranges and the keyset order (deadline, id)
        Index("ix_tasks_tenant_id_deadline", "tenant_id", "deadline", "id"),
        Index("ix_tasks_tenant_id_owner_id_status", "tenant_id", "owner_id", "status"),
        Index("ix_tasks_tenant_id_contact_id", "tenant_id", "contact_id"),
        # the public branch of the visibility predicate (gateway.access.narrowing)
        Index("ix_tasks_tenant_id_access", "tenant_id", "access"),
        # the reminders job's claim, across tenants (plugins/calendar/reminders.py)
        Index("ix_tasks_remind_at", "remind_at"),
        # tasks(filter: {opportunityId}) (plugins/calendar/opportunities.py)
        Index("ix_tasks_tenant_id_opportunity_id", "tenant_id", "opportunity_id"),
        # the notices job's claim, across tenants (plugins/calendar/notices.py)
        Index("ix_tasks_notice_requested_at", "notice_requested_at"),
        # a case's tasks (plugins/calendar/cases)
        Index("ix_tasks_tenant_id_case_id", "tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("task_categories.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    #: An opportunity of the leads module, read through the registry (never imported): the
    #: table is installed with the gateway's modules; the link is cleared when it is deleted.
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL")
    )
    #: When it is due (UTC); an all-day task's deadline is the start of its day.
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(default=False)
    #: Minutes before the deadline to remind the responsible; None: never.
    reminder_minutes: Mapped[int | None] = mapped_column(default=DEFAULT_REMINDER)
    #: When to remind (UTC): deadline - reminder_minutes; None when never or done.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the reminder was claimed for delivery; reset when it is rescheduled.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "Notify the responsible" was asked and not yet delivered (plugins/calendar/notices.py).
    notice_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The responsible user (always set by the services; NULL only if the user is deleted).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus), default=TaskStatus.OPEN)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact | None] = relationship(foreign_keys=[contact_id])
    #: The case the task belongs to (plugins/calendar/cases).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    #: Loads as None for a case the reader may not see (the access criteria apply).
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id])
