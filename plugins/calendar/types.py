"""GraphQL types of the calendar module: tasks and task categories."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    AccessLevel,
    AccessLevelEnum,
    DeletePayload,
    Loader,
    Node,
    UserError,
    UserType,
    global_id,
    guarded,
    load_users,
    utcnow,
)
from plugins.calendar import opportunities
from plugins.calendar.models import Task, TaskCategory, TaskStatus
from plugins.calendar.views import TaskDue
from plugins.contacts.types import ContactNode

if TYPE_CHECKING:
    from plugins.calendar.cases.types import CaseNode

strawberry.enum(TaskStatus, name="TaskStatus", description="OPEN until marked DONE.")
TaskStatusEnum: TypeAlias = TaskStatus
strawberry.enum(TaskDue, name="TaskDue", description="Deadline shortcuts of the task list.")
TaskDueEnum: TypeAlias = TaskDue


def categories_by_id(info: Info) -> Loader[int, TaskCategory]:
    """The tenant's categories, loaded once per operation (few: the first lookup loads all)."""
    ctx = info.context

    def fetch(_ids: list[int]) -> dict[int, TaskCategory]:
        from plugins.calendar.services import category_list

        every = {c.id: c for c in category_list(ctx)}
        for category_id, category in every.items():
            loader.put(category_id, category)
        return every

    loader: Loader[int, TaskCategory] = ctx.loader("calendar.categories", fetch)
    return loader


@strawberry.type(name="TaskCategory", description="An admin-defined kind of task.")
class TaskCategoryType:
    record: strawberry.Private[TaskCategory]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("TaskCategory", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="#RRGGBB.")
    def colour(self) -> str:
        return self.record.colour


@strawberry.type(name="Task")
class TaskNode(Node):
    record: strawberry.Private[Task]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Task", self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field
    def category(self, info: Info) -> TaskCategoryType | None:
        category_id = self.record.category_id
        found = categories_by_id(info).get(category_id) if category_id else None
        return TaskCategoryType(record=found) if found is not None else None

    @strawberry.field(description="The contact the task is about (if visible to you).")
    def contact(self) -> ContactNode | None:
        found = self.record.contact
        return ContactNode(record=found) if found is not None else None

    @guarded(
        description="The linked opportunity's ID: null when there is no link, the leads "
        "module is off, or you may not see the opportunity.",
        derived_from=("Task.opportunity",),
    )
    def opportunity_id(self, info: Info) -> strawberry.ID | None:
        oid = opportunities.visible_id(info.context, self.record.opportunity_id)
        return global_id("Opportunity", oid) if oid is not None else None

    @guarded(
        description="The linked opportunity (an `Opportunity` of the leads module), or null: "
        "no link, the leads module is off, or you may not see it.",
        derived_from=("Task.opportunityId",),
    )
    def opportunity(self, info: Info) -> Node | None:
        return opportunities.node_of(info.context, self.record.opportunity_id)

    @strawberry.field(description="The case the task belongs to (if visible to you).")
    def case(
        self,
    ) -> Annotated[CaseNode, strawberry.lazy("plugins.calendar.cases.types")] | None:
        from plugins.calendar.cases.types import CaseNode

        found = self.record.case
        return CaseNode(record=found) if found is not None else None

    @strawberry.field(description="The id of its case, if you may see that case.")
    def case_id(self) -> strawberry.ID | None:
        found = self.record.case
        return global_id("Case", found.id) if found is not None else None

    @strawberry.field(description="When it is due (UTC); an all-day task's day starts then.")
    def deadline(self) -> datetime:
        return self.record.deadline

    @strawberry.field
    def all_day(self) -> bool:
        return self.record.all_day

    @strawberry.field(description="Minutes before the deadline to remind; null: never.")
    def reminder_minutes(self) -> int | None:
        return self.record.reminder_minutes

    @strawberry.field(description="The user responsible for the task (its owner).")
    def responsible(self, info: Info) -> UserType | None:
        user_id = self.record.owner_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field(description="PRIVATE plus shares (shareRecord) restricts it to chosen users.")
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @strawberry.field
    def status(self) -> TaskStatusEnum:
        return self.record.status

    @guarded(
        description="Open and past its deadline.",
        derived_from=("Task.status", "Task.deadline"),
    )
    def overdue(self) -> bool:
        return self.record.status is TaskStatus.OPEN and self.record.deadline < utcnow()

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.record.completed_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


@strawberry.type(description="How many of the filtered tasks are in one status (a kanban column).")
class TaskStatusCount:
    status: TaskStatusEnum
    count: int


@strawberry.type
class TaskPayload:
    task: TaskNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The tasks a group creation made, one per contact.")
class TasksPayload:
    tasks: list[TaskNode] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteTaskPayload(DeletePayload):
    """``DeletePayload`` under the task's name."""


@strawberry.type
class TaskCategoryPayload:
    category: TaskCategoryType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
