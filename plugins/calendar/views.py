"""The views over tasks (MISSION T3, L5): the "today / this week / overdue" shortcuts in
the organisation's time zone, the counts per status that head a kanban board, and the
dashboard figures. Free of GraphQL; visibility is the session's access predicate (SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select

from gateway.sdk import CallerContext, DashboardFigure, DashboardPeriods, Tenant, utcnow
from plugins.calendar.models import Task, TaskStatus


class TaskDue(StrEnum):
    """Deadline shortcuts; days and weeks (Monday first) are the organisation's."""

    TODAY = "TODAY"
    THIS_WEEK = "THIS_WEEK"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class LocalSpans:
    """[start, end) of today and of this week in a time zone, as UTC instants."""

    now: datetime
    today: tuple[datetime, datetime]
    week: tuple[datetime, datetime]


def spans(timezone: str, now: datetime | None = None) -> LocalSpans:
    """Midnights are taken on the local calendar (a DST day has 23 or 25 hours)."""
    zone = ZoneInfo(timezone)
    now = now or datetime.now(UTC)
    day = now.astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())

    def midnight(offset_from: Any, days: int) -> datetime:
        local = datetime.combine(offset_from + timedelta(days=days), datetime.min.time())
        return local.replace(tzinfo=zone).astimezone(UTC)

    return LocalSpans(
        now=now,
        today=(midnight(day, 0), midnight(day, 1)),
        week=(midnight(monday, 0), midnight(monday, 7)),
    )


def deadline_text(deadline: datetime, all_day: bool, timezone: str | None) -> str:
    """A deadline as its responsible reads it: in their time zone (their own setting, else
    the organisation's), named — ``2026-06-01 11:00 Europe/Madrid``; an all-day task's day
    (stored as 00:00 UTC of that day) is shown as the date alone."""
    if all_day:
        return f"{deadline.astimezone(UTC):%Y-%m-%d} (all day)"
    zone = timezone or "UTC"
    try:
        local = deadline.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):  # a zone the system no longer knows: say UTC
        zone, local = "UTC", deadline.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def timezones(session: Any, tenant_ids: set[int]) -> dict[int, str]:
    """The organisations' time zones, in one statement."""
    if not tenant_ids:
        return {}
    rows = session.execute(
        select(Tenant.id, Tenant.timezone).where(Tenant.id.in_(sorted(tenant_ids)))
    ).all()
    return {tenant_id: zone or "UTC" for tenant_id, zone in rows}


def organisation_spans(ctx: CallerContext) -> LocalSpans:
    timezone = ctx.session.get_one(Tenant, ctx.tenant_id).timezone or "UTC"
    return spans(timezone, utcnow())


def due_predicate(ctx: CallerContext, due: TaskDue) -> ColumnElement[bool]:
    """TODAY / THIS_WEEK: the deadline falls in that local span (done or not: the status
    filter decides); OVERDUE: open and past its deadline."""
    local = organisation_spans(ctx)
    if due is TaskDue.OVERDUE:
        return (Task.status == TaskStatus.OPEN) & (Task.deadline < local.now)
    start, end = local.today if due is TaskDue.TODAY else local.week
    return (Task.deadline >= start) & (Task.deadline < end)


def counts_by_status(ctx: CallerContext, stmt: Select[Any]) -> dict[TaskStatus, int]:
    """How many of the filtered tasks are in each status, in one grouped statement (every
    status present, zero when none)."""
    listed = stmt.with_only_columns(Task.status, Task.id).subquery()
    rows = ctx.session.execute(
        select(listed.c.status, func.count()).group_by(listed.c.status)
    ).all()
    found = {TaskStatus(status): count for status, count in rows}
    return {status: found.get(status, 0) for status in TaskStatus}


def figures(ctx: CallerContext, periods: DashboardPeriods) -> list[DashboardFigure]:
    """Done this week out of this week's tasks, overdue, and open: one statement over the
    tasks the caller can list (the session's access predicate)."""
    # the same week as ``periods`` (the tenant row is already in the session), with its end
    # on the local calendar: a week with a DST change is not 7 times 24 hours
    start, end = organisation_spans(ctx).week
    in_week = (Task.deadline >= start) & (Task.deadline < end)
    is_open = Task.status == TaskStatus.OPEN
    week, done, overdue, current = ctx.session.execute(
        select(
            func.count().filter(in_week),
            func.count().filter(in_week & (Task.status == TaskStatus.DONE)),
            func.count().filter(is_open & (Task.deadline < periods.now)),
            func.count().filter(is_open),
        ).select_from(Task)
    ).one()
    status, deadline = ("Task.status",), ("Task.deadline",)
    both = ("Task.status", "Task.deadline")
    return [
        DashboardFigure("thisWeek", "Tasks due this week", count=week, derived_from=deadline),
        DashboardFigure("doneThisWeek", "Tasks done of this week's", count=done, derived_from=both),
        DashboardFigure("overdue", "Overdue tasks", count=overdue, derived_from=both),
        DashboardFigure("open", "Open tasks", count=current, derived_from=status),
    ]
