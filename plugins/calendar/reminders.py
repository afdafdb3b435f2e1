"""Task reminders (issue 15, item 2): when a task's reminder is due, its responsible gets a
kernel notification and, where SMTP is configured, an email — exactly once, however many
workers run the periodic ``calendar.reminders`` kind.

Exactly once comes from the claim: one ``UPDATE … SET reminded_at = now WHERE remind_at <=
now AND reminded_at IS NULL … RETURNING`` per batch. On PostgreSQL a concurrent claimer
waits on the row locks and re-checks ``reminded_at IS NULL`` after the first commits, so
it skips those rows; on SQLite the write lock serialises claimers. The notifications are
written in the claiming transaction: both commit, or neither (and the next tick retries)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.sdk import (
    CallerContext,
    Gateway,
    JobHandle,
    JobKind,
    Tenant,
    User,
    enabled_modules,
    global_id,
    mail,
    notify,
    utcnow,
)
from plugins.calendar.models import Task, TaskStatus
from plugins.calendar.views import deadline_text, timezones

log = logging.getLogger("plugins.calendar.reminders")

KIND = "calendar.reminder"
#: Most reminders one claim takes; the rest wait for the next tick (a minute).
BATCH = 500


def reschedule(task: Task) -> None:
    """Recompute ``remind_at`` after the deadline, reminder or status changed, and forget a
    delivery so the new time is reminded again. A done task or "never" has none."""
    if task.status is TaskStatus.DONE or task.reminder_minutes is None or task.deadline is None:
        remind_at = None
    else:
        remind_at = task.deadline - timedelta(minutes=task.reminder_minutes)
    if remind_at != task.remind_at:
        task.remind_at = remind_at
        task.reminded_at = None


@dataclass(frozen=True)
class Due:
    """A claimed reminder."""

    task_id: int
    tenant_id: int
    owner_id: int
    title: str
    deadline: datetime
    all_day: bool = False


def _tenants_without_calendar(gateway: Gateway, session: Session) -> list[int]:
    return [
        tenant_id
        for tenant_id in session.scalars(select(Tenant.id))
        if "calendar" not in enabled_modules(session, gateway.registry, tenant_id)
    ]


def claim(session: Session, now: datetime, skip_tenants: list[int] | None = None) -> list[Due]:
    """Mark up to ``BATCH`` due reminders delivered (atomically) and return them. The
    conditions are repeated on the outer UPDATE so a concurrent claimer re-checks them."""
    due = (
        Task.remind_at <= now,
        Task.reminded_at.is_(None),
        Task.status == TaskStatus.OPEN,
        Task.owner_id.is_not(None),
    )
    batch = select(Task.id).where(*due).order_by(Task.remind_at, Task.id).limit(BATCH)
    if skip_tenants:
        batch = batch.where(Task.tenant_id.not_in(skip_tenants))
    rows = session.execute(
        update(Task)
        .where(Task.id.in_(batch), *due)
        .values(reminded_at=now)
        .returning(Task.id, Task.tenant_id, Task.owner_id, Task.title, Task.deadline, Task.all_day)
        .execution_options(synchronize_session=False)
    ).all()
    return [
        Due(task_id, tenant_id, owner_id, title, deadline, all_day)
        for task_id, tenant_id, owner_id, title, deadline, all_day in rows
        if owner_id is not None
    ]


def deliver(gateway: Gateway, session: Session, now: datetime) -> int:
    """Claim the due reminders (``session`` is a system session: every tenant), notify each
    responsible and email them when SMTP is configured, stating the deadline in the
    responsible's time zone — their own setting, else the organisation's
    (``views.deadline_text``). Returns how many were claimed.

    An email that fails is logged and not retried: the notification stays the reminder of
    record (mail is best effort, and retrying the claim would notify twice)."""
    claimed = claim(session, now, _tenants_without_calendar(gateway, session))
    if not claimed:
        return 0
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({d.owner_id for d in claimed})))
    }
    settings = gateway.settings
    zones = timezones(session, {d.tenant_id for d in claimed}) if settings.smtp_host else {}
    for item in claimed:
        user = users.get(item.owner_id)
        if user is None or not user.is_active:
            continue
        title = f"Reminder: {item.title}"
        notify(
            session,
            tenant_id=item.tenant_id,
            user_id=user.id,
            kind=KIND,
            title=title,
            subject_id=global_id("Task", item.task_id),
        )
        if settings.smtp_host and user.email:
            zone = user.timezone or zones.get(item.tenant_id)
            due = deadline_text(item.deadline, item.all_day, zone)
            try:
                mail.send(
                    settings,
                    mail.compose(settings, user.email, title, f"{item.title}\n\nDue {due}.\n"),
                )
            except (OSError, smtplib.SMTPException):
                log.exception("reminder email for task %s failed", item.task_id)
    return len(claimed)


def run(ctx: CallerContext, job: JobHandle, _params: dict[str, Any]) -> dict[str, int]:
    """The periodic kind: reminders due as of the tick (so a late worker acts for its tick,
    and tests control the clock with ``run_pending(gw, now=…)``)."""
    now = job.scheduled_for or utcnow()
    return {"reminded": deliver(ctx.gateway, ctx.session, now)}


KINDS = [JobKind("calendar.reminders", run, title="Task reminders", schedule="* * * * *")]
