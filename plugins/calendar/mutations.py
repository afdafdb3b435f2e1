"""Root mutations of the calendar module: thin resolvers over the services, each one
transaction through ``mutate`` (a refusal is the payload's ``errors``, nothing written)."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from gateway.sdk import get_writable, guarded, mutate, parse_global_id
from plugins.calendar import services
from plugins.calendar.inputs import CreateTaskInput, UpdateTaskInput
from plugins.calendar.models import Task, TaskCategory, TaskStatus
from plugins.calendar.permissions import CalendarPermission as P
from plugins.calendar.queries import Ctx
from plugins.calendar.types import (
    DeleteTaskPayload,
    TaskCategoryPayload,
    TaskCategoryType,
    TaskNode,
    TaskPayload,
    TasksPayload,
)


def _payload(result: Task) -> TaskPayload:
    return TaskPayload(task=TaskNode(record=result))


def _writable(session: Session, id: strawberry.ID) -> Task:
    return get_writable(session, Task, parse_global_id(id, "Task"), "task")


@strawberry.mutation(description="Create a task; you are responsible by default.")
def create_task(info: Ctx, input: CreateTaskInput) -> TaskPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Task:
        created = services.create_task(ctx, input.to_data())
        session.flush()
        return created

    return mutate(ctx, TaskPayload, work, _payload)


@strawberry.mutation(
    description="The same task for many contacts at once: one task per contact, all or none."
)
def create_tasks(
    info: Ctx, input: CreateTaskInput, contact_ids: list[strawberry.ID]
) -> TasksPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> list[Task]:
        ids = [parse_global_id(i, "Contact", "contactIds") for i in contact_ids]
        created = services.create_tasks(ctx, input.to_data(), ids)
        session.flush()
        return created

    return mutate(
        ctx, TasksPayload, work, lambda made: TasksPayload(tasks=[TaskNode(record=t) for t in made])
    )


@strawberry.mutation(description="Change a task.")
def update_task(info: Ctx, id: strawberry.ID, input: UpdateTaskInput) -> TaskPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Task:
        updated = services.update_task(ctx, _writable(session, id), input.to_data())
        session.flush()
        return updated

    return mutate(ctx, TaskPayload, work, _payload)


@strawberry.mutation(description="Mark a task done, or open again with `done: false`.")
def complete_task(info: Ctx, id: strawberry.ID, done: bool = True) -> TaskPayload:
    ctx = info.context
    ctx.require_caller()
    status = TaskStatus.DONE if done else TaskStatus.OPEN

    def work(session: Session) -> Task:
        changed = services.set_status(ctx, _writable(session, id), status)
        session.flush()
        return changed

    return mutate(ctx, TaskPayload, work, _payload)


@strawberry.mutation(description="Delete a task (needs the calendar.task.delete permission).")
def delete_task(info: Ctx, id: strawberry.ID) -> DeleteTaskPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        services.delete_task(ctx, _writable(session, id))

    return mutate(ctx, DeleteTaskPayload, work, lambda _: DeleteTaskPayload(deleted_id=id))


@guarded(permission=P.MANAGE_SETTINGS.value, description="Add a task category (name, #RRGGBB).")
def create_task_category(info: Ctx, name: str, colour: str) -> TaskCategoryPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> TaskCategory:
        return services.create_category(ctx, name, colour)

    return mutate(
        ctx,
        TaskCategoryPayload,
        work,
        lambda c: TaskCategoryPayload(category=TaskCategoryType(record=c)),
    )
