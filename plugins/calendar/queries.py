"""Root query fields of the calendar module: thin resolvers over the services."""

from __future__ import annotations

import base64
from typing import Any, cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    XLSX_MIME,
    Connection,
    ExportFile,
    FieldMode,
    Order,
    RequestContext,
    Window,
    check_filterable_fields,
    effective_rules,
    guarded,
    list_records,
    load_users,
    parse_global_id,
    selected,
    shaping,
)
from plugins.calendar import export, opportunities, services, views
from plugins.calendar.inputs import SORT_READS, TaskFilterInput, reads_of
from plugins.calendar.models import Task
from plugins.calendar.permissions import CalendarPermission
from plugins.calendar.shaped_list import TASK
from plugins.calendar.types import TaskCategoryType, TaskNode, TaskStatusCount

Ctx = Info[RequestContext, None]


def task_options(info: Ctx, *path: str, entity: Any = Task) -> list[Any]:
    """Eager loads for what the selection asks (one query per relation, never per row);
    ``entity`` is ``Task`` or the alias a statement selects it through."""
    fields = selected(info, *path)
    options = [selectinload(entity.contact)] if "contact" in fields else []
    if fields & {"case", "caseId"}:
        options.append(selectinload(entity.case))
    return options


def prime_users(info: Ctx, rows: list[Task], *path: str) -> None:
    """Load the page's linked opportunities in one query, then the users shown (the tasks'
    responsible, and the opportunities' when selected) in another."""
    ctx, names = info.context, selected(info, *path)
    linked = {t.opportunity_id for t in rows}
    if names & {"opportunity", "opportunityId"}:
        opportunities.prime(ctx, linked)
    users: set[int] = set()
    if "responsible" in names:
        users |= {t.owner_id for t in rows if t.owner_id}
    if "opportunity" in names and "responsible" in selected(info, *path, "opportunity"):
        users |= opportunities.owners_of(ctx, linked)
    if users:
        load_users(ctx, sorted(users))


@strawberry.field(
    description="Tasks you may see, by deadline (then id); `filter.from`/`to` is a calendar "
    "range. Open tasks only unless `includeCompleted` or `status` says."
)
def tasks(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: TaskFilterInput | None = None,
) -> Connection[TaskNode]:
    ctx = info.context
    ctx.require_caller()
    flt = filter.to_filter() if filter else services.TaskFilter()
    stmt = services.filtered(ctx, flt)
    order = Order(Task.deadline, False, SORT_READS)
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    shaped = shaping.shaped_page(
        info, TASK, stmt, order=order, window=window, filter_reads=reads_of(filter)
    )
    if shaped is not None:
        return cast(Connection[TaskNode], shaped)
    listed = list_records(
        ctx,
        Task,
        "Task",
        stmt,
        order=order,
        window=window,
        filter_reads=reads_of(filter),
        options=task_options(info, "edges", "node"),
    )
    prime_users(info, listed.rows, "edges", "node")
    return Connection.of(listed, lambda r: TaskNode(record=r))


@strawberry.field(description="One task, or null if it does not exist or is not visible.")
def task(info: Ctx, id: strawberry.ID) -> TaskNode | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        select(Task).where(Task.id == parse_global_id(id, "Task")).options(*task_options(info))
    )
    return TaskNode(record=found) if found is not None else None


@strawberry.field(description="The task categories (a new organisation gets default ones).")
def task_categories(info: Ctx) -> list[TaskCategoryType]:
    ctx = info.context
    ctx.require_caller()
    return [TaskCategoryType(record=c) for c in services.categories_on_demand(ctx)]


@strawberry.field(
    description="How many of the tasks `filter` selects are in each status, every status "
    "listed: the headers of a kanban board whose columns are `tasks(filter: {status})`. "
    "`includeCompleted` and `status` are ignored (every status is counted)."
)
def task_counts(info: Ctx, filter: TaskFilterInput | None = None) -> list[TaskStatusCount]:
    ctx = info.context
    ctx.require_caller()
    flt = filter.to_filter() if filter else services.TaskFilter()
    flt.status, flt.include_completed = None, True
    # the counts group on the status and match what the filter reads (field rules)
    check_filterable_fields(ctx.access, "Task", {"status", *reads_of(filter)})
    counted = views.counts_by_status(ctx, services.filtered(ctx, flt))
    return [TaskStatusCount(status=s, count=n) for s, n in counted.items()]


@guarded(
    permission=CalendarPermission.EXPORT.value,
    description="The tasks `filter` selects (as `tasks` lists them) as an Excel workbook "
    "(base64), by deadline (by creation when your rules hide it); columns your field "
    "rules hide are left out.",
)
def export_tasks(info: Ctx, filter: TaskFilterInput | None = None) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    check_filterable_fields(ctx.access, "Task", reads_of(filter))
    flt = filter.to_filter() if filter else services.TaskFilter()
    stmt = services.filtered(ctx, flt).options(selectinload(Task.contact, chunksize=BATCH))
    # by deadline, unless the caller's rules hide it (the order would reveal it): by id
    hidden = effective_rules(ctx.access).get(("Task", "deadline")) is FieldMode.HIDDEN
    order = (Task.id,) if hidden else (Task.deadline, Task.id)
    rows = list(ctx.session.scalars(stmt.order_by(*order)))
    return ExportFile(
        filename="tasks.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(export.tasks_workbook(ctx, rows)).decode(),
    )
