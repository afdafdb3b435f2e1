"""GraphQL inputs of the calendar module: task creation and changes (partial, with
``strawberry.UNSET``), the list filter, and what a filter reads (field rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.sdk import LONG_TEXT, AccessLevelEnum, filter_reads, parse_global_id, text
from plugins.calendar.services import TaskData, TaskFilter
from plugins.calendar.types import TaskDueEnum, TaskStatusEnum
from plugins.calendar.views import TaskDue

NOTIFY_DESCRIPTION = (
    "Tell the responsible (when it is not you) that the task is theirs: a notification, "
    "and an email where the server sends mail. Default false."
)


def _data(given: Any) -> TaskData:
    values: dict[str, Any] = {}
    for name in ("title", "description", "deadline", "all_day", "reminder_minutes", "access"):
        value = getattr(given, name, strawberry.UNSET)
        if value is not strawberry.UNSET:
            values[name] = value
    ids = (
        ("category_id", "TaskCategory", "categoryId"),
        ("contact_id", "Contact", "contactId"),
        ("opportunity_id", "Opportunity", "opportunityId"),
        ("responsible_id", "User", "responsibleId"),
        ("case_id", "Case", "caseId"),
    )
    for name, type_name, field in ids:
        value = getattr(given, name, strawberry.UNSET)
        if value is strawberry.UNSET:
            continue
        attr = "owner_id" if name == "responsible_id" else name
        if value is None and attr == "owner_id":
            continue  # no responsible: the default
        values[attr] = parse_global_id(value, type_name, field) if value is not None else None
    notify = getattr(given, "notify_responsible", strawberry.UNSET)
    return TaskData(values=values, notify_responsible=notify is True)


@strawberry.input(description="A new task; you are responsible by default.")
class CreateTaskInput:
    title: str = text(200)
    deadline: datetime
    all_day: bool | None = strawberry.UNSET
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    category_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="An opportunity of the leads module (visible to you), when it is on.",
    )
    reminder_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="5, 15, 30, 60, 120 or 1440 minutes before; null: never. Default 1440.",
    )
    responsible_id: strawberry.ID | None = strawberry.UNSET
    access: AccessLevelEnum | None = strawberry.UNSET
    notify_responsible: bool | None = strawberry.field(
        default=strawberry.UNSET, description=NOTIFY_DESCRIPTION
    )
    case_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The case it belongs to (one you may see)."
    )

    def to_data(self) -> TaskData:
        return _data(self)


@strawberry.input(description="Changes to a task; omitted fields stay as they are.")
class UpdateTaskInput:
    title: str | None = text(200, default=strawberry.UNSET)
    deadline: datetime | None = strawberry.UNSET
    all_day: bool | None = strawberry.UNSET
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    category_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="An opportunity of the leads module (visible to you), when it is on.",
    )
    reminder_minutes: int | None = strawberry.UNSET
    responsible_id: strawberry.ID | None = strawberry.UNSET
    access: AccessLevelEnum | None = strawberry.UNSET
    notify_responsible: bool | None = strawberry.field(
        default=strawberry.UNSET, description=NOTIFY_DESCRIPTION
    )
    case_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The case it belongs to; null: none."
    )

    def to_data(self) -> TaskData:
        return _data(self)


@strawberry.input(description="Which tasks to list: a calendar range is from/to on the deadline.")
class TaskFilterInput:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Deadline at or after this instant."
    )
    to: datetime | None = strawberry.field(default=None, description="Deadline before this.")
    owner_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these responsible users (within what you may see)."
    )
    status: TaskStatusEnum | None = None
    contact_id: strawberry.ID | None = None
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=None, description="Tasks linked to this opportunity (none if you may not see it)."
    )
    overdue: bool | None = None
    include_completed: bool = strawberry.field(
        default=False,
        description="Also DONE tasks (ignored when `status` is given). A profile whose field "
        "rules hide `Task.status` lists every status by default.",
    )
    due: TaskDueEnum | None = strawberry.field(
        default=None,
        description="Due today / this week (days in the organisation's time zone, weeks "
        "from Monday) or overdue (open and past its deadline).",
    )
    case_id: strawberry.ID | None = strawberry.field(
        default=None, description="The tasks of this case (nothing for a case you cannot see)."
    )

    def to_filter(self) -> TaskFilter:
        return TaskFilter(
            starts=self.from_,
            ends=self.to,
            owner_ids=[parse_global_id(i, "User", "filter.ownerIds") for i in self.owner_ids]
            if self.owner_ids is not None
            else None,
            status=self.status,
            contact_id=parse_global_id(self.contact_id, "Contact", "filter.contactId")
            if self.contact_id
            else None,
            opportunity_id=parse_global_id(
                self.opportunity_id, "Opportunity", "filter.opportunityId"
            )
            if self.opportunity_id
            else None,
            overdue=self.overdue,
            include_completed=self.include_completed,
            due=self.due,
            case_id=parse_global_id(self.case_id, "Case", "filter.caseId")
            if self.case_id
            else None,
        )


#: The ``Task`` fields each filter reads (refused when the caller's rules hide one).
#: ``includeCompleted: true`` reads nothing (every status); the default (open only) reads
#: the status unless the caller's rules hide it (``services.status_hidden``).
FILTER_READS: dict[str, tuple[str, ...]] = {
    "from_": ("deadline",),
    "to": ("deadline",),
    "owner_ids": ("responsible",),
    "status": ("status",),
    "contact_id": ("contact",),
    "opportunity_id": ("opportunity",),
    "overdue": ("status", "deadline"),
    "due": ("deadline",),
    "case_id": ("case",),
}
#: The list's order (deadline, then id) reads the deadline.
SORT_READS: tuple[str, ...] = ("deadline",)


def reads_of(given: TaskFilterInput | None) -> set[str]:
    """What ``given`` reads: :data:`FILTER_READS`, plus the status for ``due: OVERDUE``
    (open and late); ``TODAY``/``THIS_WEEK`` read only the deadline."""
    reads = filter_reads(given, FILTER_READS)
    if given is not None and given.due is TaskDue.OVERDUE:
        reads.add("status")
    return reads
