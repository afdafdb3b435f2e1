"""Tasks (MISSION T1-T3, M8): writing (one creation path, the group creation, completion,
deletion), reading (the filters as SQL) and the reassignment the contacts module asks for.
Free of GraphQL; every function takes a ``CallerContext``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select

from gateway.sdk import (
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    FieldMode,
    Forbidden,
    NotFound,
    ProfileKind,
    check_filterable_fields,
    check_writable_fields,
    effective_rules,
    events,
    get_user,
    initial_access,
    refers_to_visible,
    upsert,
    utcnow,
    writable_rows,
)
from plugins.calendar import notices, opportunities
from plugins.calendar.cases.models import Case
from plugins.calendar.models import (
    DEFAULT_REMINDER,
    REMINDER_CHOICES,
    Task,
    TaskCategory,
    TaskStatus,
)
from plugins.calendar.reminders import reschedule
from plugins.contacts.models import Contact

TASK = "task"
#: Most contacts one group creation may name.
MAX_GROUP = 500
#: Model attribute → the GraphQL field of ``Task`` that writing it changes (field rules).
WRITES = {
    "title": "title",
    "description": "description",
    "category_id": "category",
    "contact_id": "contact",
    "opportunity_id": "opportunity",
    "deadline": "deadline",
    "all_day": "allDay",
    "reminder_minutes": "reminderMinutes",
    "owner_id": "responsible",
    "access": "access",
    "status": "status",
    "case_id": "case",
}
DEFAULT_CATEGORIES = (("Call", "#2563EB"), ("Visit", "#16A34A"))
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass
class TaskData:
    """The task fields the caller set (partial updates), by model attribute."""

    values: dict[str, Any] = field(default_factory=dict)
    #: "Notify the responsible" (not a task field: nothing is stored).
    notify_responsible: bool = False


def _utc(moment: datetime) -> datetime:
    """A naive instant is taken as UTC; an aware one is converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _apply(ctx: CallerContext, task: Task, data: TaskData) -> None:
    v = data.values
    if "title" in v:
        clean = (v["title"] or "").strip()
        if not clean or len(clean) > 200:
            raise BadUserInput("a title of 1 to 200 characters", field="title")
        task.title = clean
    if "description" in v:
        task.description = (v["description"] or "").strip()
    if "category_id" in v:
        category_id = v["category_id"]
        if category_id is not None and ctx.session.get(TaskCategory, category_id) is None:
            raise NotFound("no such task category", field="categoryId")
        task.category_id = category_id
    if "contact_id" in v:
        contact_id = v["contact_id"]
        # the session reads visible contacts only: a hidden one does not exist for the caller
        if contact_id is not None and ctx.session.get(Contact, contact_id) is None:
            raise NotFound("no such contact", field="contactId")
        task.contact_id = contact_id
    if "opportunity_id" in v:
        task.opportunity_id = opportunities.checked_link(ctx, v["opportunity_id"])
    if "case_id" in v:
        case_id = v["case_id"]
        # as for contacts: a case the caller cannot see does not exist for them
        if case_id is not None and ctx.session.get(Case, case_id) is None:
            raise NotFound("no such case", field="caseId")
        task.case_id = case_id
    if "deadline" in v:
        if v["deadline"] is None:
            raise BadUserInput("a task needs a deadline", field="deadline")
        task.deadline = _utc(v["deadline"])
    if "all_day" in v:
        task.all_day = bool(v["all_day"])
    if task.all_day and task.deadline is not None:
        task.deadline = task.deadline.replace(hour=0, minute=0, second=0, microsecond=0)
    if "reminder_minutes" in v:
        minutes = v["reminder_minutes"]
        if minutes is not None and minutes not in REMINDER_CHOICES:
            raise BadUserInput(
                f"a reminder of {', '.join(map(str, REMINDER_CHOICES))} minutes, or null",
                field="reminderMinutes",
            )
        task.reminder_minutes = minutes
    if "access" in v and v["access"] is not None:
        task.access = AccessLevel(v["access"]).value
    if "owner_id" in v:
        owner = get_user(ctx.session, ctx.tenant_id, v["owner_id"], "responsibleId")
        if owner.profile.kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants cannot be responsible", field="responsibleId")
        if not owner.is_active:
            raise BadUserInput("an inactive user cannot be responsible", field="responsibleId")
        task.owner_id = owner.id
    reschedule(task)


def _check_fields(ctx: CallerContext, keys: Sequence[str]) -> None:
    """Refuse changing fields the caller's field rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, "Task", {WRITES.get(k, k) for k in keys})


def create_task(ctx: CallerContext, data: TaskData) -> Task:
    """The one creation path: the caller is responsible unless ``owner_id`` says otherwise
    (an assistant must say); PRIVATE, reminded the day before, open."""
    caller = ctx.require_caller()
    _check_fields(ctx, list(data.values))
    task = Task(
        tenant_id=caller.tenant_id,
        created_by_id=caller.user_id,
        owner_id=None if caller.profile_kind is ProfileKind.ASSISTANT else caller.user_id,
        access=initial_access(ctx, "task"),
        status=TaskStatus.OPEN,
        reminder_minutes=DEFAULT_REMINDER,
        all_day=False,
        description="",
    )
    for required in ("title", "deadline"):
        if data.values.get(required) is None:
            raise BadUserInput(f"a task needs a {required}", field=required)
    _apply(ctx, task, data)
    if task.owner_id is None:
        raise BadUserInput("assistants must name the responsible user", field="responsibleId")
    if data.notify_responsible:
        notices.request(task, caller.user_id)
    ctx.session.add(task)
    events.record_changed(ctx, ChangeKind.CREATED, TASK, task)
    return task


def create_tasks(ctx: CallerContext, data: TaskData, contact_ids: Sequence[int]) -> list[Task]:
    """One task per contact (a group operation): all of them, or none if one is refused."""
    unique = list(dict.fromkeys(contact_ids))
    if not unique:
        raise BadUserInput("name at least one contact", field="contactIds")
    if len(unique) > MAX_GROUP:
        raise BadUserInput(f"at most {MAX_GROUP} contacts at once", field="contactIds")
    created = []
    for contact_id in unique:
        one = replace(data, values={**data.values, "contact_id": contact_id})
        try:
            created.append(create_task(ctx, one))
        except NotFound as error:
            if error.field == "contactId":
                raise NotFound("no such contact", field="contactIds") from error
            raise
    return created


def update_task(ctx: CallerContext, task: Task, data: TaskData) -> Task:
    _check_fields(ctx, list(data.values))
    if "title" in data.values and data.values["title"] is None:
        raise BadUserInput("a task needs a title", field="title")
    _apply(ctx, task, data)
    if data.notify_responsible:
        notices.request(task, ctx.require_caller().user_id)
    events.record_changed(ctx, ChangeKind.UPDATED, TASK, task, frozenset(data.values))
    return task


def set_status(ctx: CallerContext, task: Task, status: TaskStatus) -> Task:
    """Complete (DONE, stamped) or reopen a task."""
    _check_fields(ctx, ["status"])
    if task.status is not status:
        task.status = status
        task.completed_at = utcnow() if status is TaskStatus.DONE else None
        reschedule(task)
        events.record_changed(ctx, ChangeKind.UPDATED, TASK, task, frozenset({"status"}))
    return task


def delete_task(ctx: CallerContext, task: Task) -> None:
    """Needs the delete permission (``calendar.task.delete``), checked at flush."""
    events.ensure_deletable(ctx, TASK, task)
    ctx.session.delete(task)
    events.record_changed(ctx, ChangeKind.DELETED, TASK, task)


# -- reading --------------------------------------------------------------------------------


@dataclass
class TaskFilter:
    """``starts``/``ends``: a calendar range on the deadline (``starts`` included)."""

    starts: datetime | None = None
    ends: datetime | None = None
    owner_ids: list[int] | None = None
    status: TaskStatus | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    overdue: bool | None = None
    include_completed: bool = False
    #: A deadline shortcut (``views.TaskDue``) in the organisation's time zone.
    due: Any = None
    case_id: int | None = None


def status_hidden(ctx: CallerContext) -> bool:
    """Whether the caller's field rules hide ``Task.status``. The default "open tasks only"
    would then tell them every listed task is open, so for them the default lists every
    status (as ``includeCompleted: true``), as a profile that hides contacts' names sorts
    them by date; an explicit status filter stays refused (``check_filterable_fields``)."""
    return effective_rules(ctx.access).get(("Task", "status")) is FieldMode.HIDDEN


def filtered(ctx: CallerContext, flt: TaskFilter) -> Select[Any]:
    """The filter as SQL; visibility is the session's (``list_records`` narrows too). A
    contact the caller cannot see matches nothing."""
    stmt = select(Task)
    if flt.starts is not None:
        stmt = stmt.where(Task.deadline >= _utc(flt.starts))
    if flt.ends is not None:
        stmt = stmt.where(Task.deadline < _utc(flt.ends))
    if flt.owner_ids is not None:
        stmt = stmt.where(Task.owner_id.in_(flt.owner_ids))
    if flt.status is not None:
        stmt = stmt.where(Task.status == flt.status)
    elif not flt.include_completed and not status_hidden(ctx):
        stmt = stmt.where(Task.status == TaskStatus.OPEN)
    if flt.contact_id is not None:
        stmt = stmt.where(refers_to_visible(ctx.access, Task.contact_id, Contact, flt.contact_id))
    if flt.opportunity_id is not None:
        stmt = stmt.where(opportunities.matches(ctx, flt.opportunity_id))
    if flt.overdue is not None:
        late = (Task.status == TaskStatus.OPEN) & (Task.deadline < utcnow())
        stmt = stmt.where(late if flt.overdue else ~late)
    if flt.case_id is not None:
        stmt = stmt.where(refers_to_visible(ctx.access, Task.case_id, Case, flt.case_id))
    if flt.due is not None:
        from plugins.calendar.views import due_predicate  # views reads these models too

        stmt = stmt.where(due_predicate(ctx, flt.due))
    return stmt


# -- categories -----------------------------------------------------------------------------


def category_list(ctx: CallerContext) -> list[TaskCategory]:
    return list(
        ctx.session.scalars(select(TaskCategory).order_by(TaskCategory.position, TaskCategory.id))
    )


def categories_on_demand(ctx: CallerContext) -> list[TaskCategory]:
    """The tenant's categories; one that never defined any gets the defaults on first use
    (in a short transaction of its own when the request only reads)."""
    found = category_list(ctx)
    if found:
        return found
    if ctx.write:
        seed_categories(ctx.session, ctx.tenant_id)
        return category_list(ctx)
    with ctx.gateway.db.transaction() as system:
        seeded = seed_categories(system, ctx.tenant_id)
        for category in seeded:
            system.expunge(category)
    return seeded


def seed_categories(session: Any, tenant_id: int) -> list[TaskCategory]:
    """Add the default categories if the tenant has none, and answer the tenant's
    categories. Two first requests at once both add them: the second's rows give way on
    the unique names (``ON CONFLICT DO NOTHING``), never a conflict error."""
    exists = select(TaskCategory.id).where(TaskCategory.tenant_id == tenant_id).limit(1)
    if session.scalar(exists) is None:
        session.execute(
            upsert(session, TaskCategory)
            .values(
                [
                    {"tenant_id": tenant_id, "name": name, "colour": colour, "position": i}
                    for i, (name, colour) in enumerate(DEFAULT_CATEGORIES)
                ]
            )
            .on_conflict_do_nothing()
        )
    return list(
        session.scalars(
            select(TaskCategory)
            .where(TaskCategory.tenant_id == tenant_id)
            .order_by(TaskCategory.position, TaskCategory.id)
        )
    )


def create_category(ctx: CallerContext, name: str, colour: str) -> TaskCategory:
    """A taken name is a unique violation: CONFLICT (the transaction turns it)."""
    clean = (name or "").strip()
    if not clean or len(clean) > 80:
        raise BadUserInput("a name of 1 to 80 characters", field="name")
    if not _COLOUR.match(colour or ""):
        raise BadUserInput("a colour as #RRGGBB", field="colour")
    categories_on_demand(ctx)
    last = ctx.session.scalar(select(func.max(TaskCategory.position))) or 0
    category = TaskCategory(
        tenant_id=ctx.tenant_id, name=clean, colour=colour.upper(), position=last + 1
    )
    ctx.session.add(category)
    ctx.session.flush()
    return category


# -- reassignment (contacts' crm_reassign_tasks / crm_count_tasks_to_reassign) ---------------


def movable(
    ctx: CallerContext,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None = None,
) -> Select[Any]:
    """The open tasks of ``from_user_id`` the caller may change, in the range (and among
    ``task_ids`` when a multi-select is given): what the preview counts and the job moves
    (the same SQL). Refused (``FORBIDDEN``) to a caller whose rules hide what it filters
    on: the count would tell them how many of a user's tasks are open, or fall in the
    range."""
    ranged = starts_after is not None or starts_before is not None
    check_filterable_fields(ctx.access, "Task", {"status", *(["deadline"] if ranged else [])})
    stmt = select(Task.id).where(
        Task.owner_id == from_user_id,
        Task.status == TaskStatus.OPEN,
        writable_rows(ctx.access, Task),
    )
    if contact_ids is not None:
        stmt = stmt.where(Task.contact_id.in_(contact_ids))
    if starts_after is not None:
        stmt = stmt.where(Task.deadline >= _utc(starts_after))
    if starts_before is not None:
        stmt = stmt.where(Task.deadline < _utc(starts_before))
    if task_ids is not None:
        _check_selection(ctx, task_ids)
        stmt = stmt.where(Task.id.in_(sorted(set(task_ids))))
    return stmt


def _check_selection(ctx: CallerContext, task_ids: list[int]) -> None:
    """Every selected task is one the caller may change: ``NOT_FOUND`` for an id they may
    not see (or of another organisation: no existence oracle), ``FORBIDDEN`` for one they
    see but may not change. Two counts, whatever the selection's size."""
    wanted = sorted(set(task_ids))
    visible = select(Task.id).where(Task.id.in_(wanted))
    if _count(ctx, visible) != len(wanted):
        raise NotFound("no such task", field="taskIds")
    if _count(ctx, visible.where(writable_rows(ctx.access, Task))) != len(wanted):
        raise Forbidden("you may not change some of the selected tasks", field="taskIds")


def _count(ctx: CallerContext, stmt: Select[Any]) -> int:
    return ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def count_movable(ctx: CallerContext, *args: Any) -> int:
    return _count(ctx, movable(ctx, *args))


def move(
    ctx: CallerContext,
    from_user_id: int,
    to_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None = None,
) -> int:
    """Give the movable tasks to ``to_user_id`` (through the ORM, so the flush checks write
    access and the change events fire)."""
    ids = movable(ctx, from_user_id, contact_ids, starts_after, starts_before, task_ids)
    tasks = ctx.session.scalars(select(Task).where(Task.id.in_(ids))).all()
    for task in tasks:
        task.owner_id = to_user_id
        events.record_changed(ctx, ChangeKind.UPDATED, TASK, task, frozenset({"owner_id"}))
    ctx.session.flush()
    return len(tasks)
