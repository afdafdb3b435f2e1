""" "Notify the responsible" (issue 15, T1): when a task is given to someone other than the
caller with ``notifyResponsible: true``, its responsible gets a kernel notification and,
where SMTP is configured, an email — after the change commits, exactly once, and never for
a task they may not see.

The services only mark the task (``notice_requested_at``, in the caller's transaction: a
change that rolls back asks for nothing). The periodic kind ``calendar.notices`` claims the
marks with one ``UPDATE … SET notice_requested_at = NULL … RETURNING`` (as the reminders
do: a concurrent claimer re-checks the condition and skips what another took), then checks
each task against its responsible's own access (``CallerContext.acting_for``) before
telling them. A periodic kind rather than one job per change: a user job would notify its
starter when it ends ("… finished"), a second notice for every task handed over."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.sdk import (
    CallerContext,
    Gateway,
    JobHandle,
    JobKind,
    NotFound,
    User,
    Via,
    global_id,
    mail,
    notify,
    utcnow,
)
from plugins.calendar.models import Task
from plugins.calendar.reminders import _tenants_without_calendar
from plugins.calendar.views import deadline_text, timezones

log = logging.getLogger("plugins.calendar.notices")

KIND = "calendar.assigned"
#: Most notices one claim takes; the rest wait for the next tick (a minute).
BATCH = 500
#: Tasks listed in one email; a larger group says how many more.
EMAIL_LINES = 50


def request(task: Task, caller_id: int) -> None:
    """Mark ``task`` for a notice to its responsible, unless that is the caller."""
    if task.owner_id is not None and task.owner_id != caller_id:
        task.notice_requested_at = utcnow()


@dataclass(frozen=True)
class Notice:
    task_id: int
    tenant_id: int
    owner_id: int
    title: str
    deadline: datetime
    all_day: bool


def claim(session: Session, skip_tenants: list[int] | None = None) -> list[Notice]:
    """Take up to ``BATCH`` requested notices (atomically) and return them."""
    pending = (Task.notice_requested_at.is_not(None),)
    batch = select(Task.id).where(*pending).order_by(Task.notice_requested_at, Task.id)
    if skip_tenants:
        batch = batch.where(Task.tenant_id.not_in(skip_tenants))
    rows = session.execute(
        update(Task)
        .where(Task.id.in_(batch.limit(BATCH)), *pending)
        .values(notice_requested_at=None)
        .returning(Task.id, Task.tenant_id, Task.owner_id, Task.title, Task.deadline, Task.all_day)
        .execution_options(synchronize_session=False)
    ).all()
    return [
        Notice(task_id, tenant_id, owner_id, title, deadline, all_day)
        for task_id, tenant_id, owner_id, title, deadline, all_day in rows
        if owner_id is not None
    ]


def visible_to(gateway: Gateway, user_id: int, task_ids: list[int]) -> set[int]:
    """Which of ``task_ids`` the user may see, by their own access (one statement); none
    for an inactive user."""
    try:
        ctx = CallerContext.acting_for(gateway, user_id, via=Via.JOB, write=False)
    except NotFound:
        return set()
    try:
        return set(ctx.session.scalars(select(Task.id).where(Task.id.in_(task_ids))))
    finally:
        ctx.close()


def _title(notices: list[Notice]) -> str:
    if len(notices) == 1:
        return f"Task for you: {notices[0].title}"
    return f"{len(notices)} tasks for you: {notices[0].title}, …"


def _body(notices: list[Notice], zone: str | None) -> str:
    lines = [
        f"- {n.title} (due {deadline_text(n.deadline, n.all_day, zone)})"
        for n in notices[:EMAIL_LINES]
    ]
    if len(notices) > EMAIL_LINES:
        lines.append(f"… and {len(notices) - EMAIL_LINES} more.")
    return "You are now responsible for:\n\n" + "\n".join(lines) + "\n"


def deliver(gateway: Gateway, session: Session) -> int:
    """Claim the requested notices (``session`` is a system session: every tenant), and tell
    each responsible about the tasks they may see: one notification (the task as subject
    when there is one) and, when SMTP is configured, one email listing them with their
    deadlines in the responsible's time zone (theirs, else the organisation's). Returns
    how many notices were claimed.

    An email that fails is logged, not retried: the notification is the notice of record."""
    claimed = claim(session, _tenants_without_calendar(gateway, session))
    if not claimed:
        return 0
    by_owner: dict[int, list[Notice]] = defaultdict(list)
    for notice in claimed:
        by_owner[notice.owner_id].append(notice)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(by_owner))))}
    zones = timezones(session, {n.tenant_id for n in claimed})
    settings = gateway.settings
    for owner_id, notices in by_owner.items():
        user = users.get(owner_id)
        if user is None or not user.is_active:
            continue
        seen = visible_to(gateway, owner_id, [n.task_id for n in notices])
        shown = [n for n in notices if n.task_id in seen]
        if not shown:
            continue
        title = _title(shown)
        notify(
            session,
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=KIND,
            title=title,
            subject_id=global_id("Task", shown[0].task_id) if len(shown) == 1 else None,
        )
        if settings.smtp_host and user.email:
            try:
                body = _body(shown, user.timezone or zones.get(user.tenant_id))
                mail.send(settings, mail.compose(settings, user.email, title, body))
            except (OSError, smtplib.SMTPException):
                log.exception("task notice email to user %s failed", user.id)
    return len(claimed)


def run(ctx: CallerContext, _job: JobHandle, _params: dict[str, Any]) -> dict[str, int]:
    """The periodic kind: the notices requested since the last tick."""
    return {"notified": deliver(ctx.gateway, ctx.session)}


KINDS = [JobKind("calendar.notices", run, title="Task notices", schedule="* * * * *")]
