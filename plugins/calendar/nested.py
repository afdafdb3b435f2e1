"""Fields the calendar module adds to other modules' types (``crm_type_fields``): a
contact's tasks, present only where the calendar module is on."""

from __future__ import annotations

from collections import defaultdict

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from strawberry.types import Info

from gateway.sdk import BadUserInput, RequestContext, TypeField, check_filterable_fields
from plugins.calendar import services
from plugins.calendar.models import Task
from plugins.calendar.types import TaskNode
from plugins.contacts.models import Contact
from plugins.contacts.types import ContactNode

Ctx = Info[RequestContext, None]

#: The most tasks ``Contact.tasks`` returns per contact (the full list is ``tasks(filter:
#: {contactId})``, paginated).
MAX_NESTED = 100


def tasks_of_contacts(
    ctx: RequestContext, contact_ids: list[int], first: int, include_completed: bool
) -> dict[int, list[Task]]:
    """The first ``first`` tasks by deadline of each contact that the caller may see, for a
    whole page of contacts in one statement (a window numbers each contact's tasks)."""
    flt = services.TaskFilter(include_completed=include_completed)
    ranked = (
        services.filtered(ctx, flt)
        .where(Task.contact_id.in_(contact_ids))
        .add_columns(
            func.row_number()
            .over(partition_by=Task.contact_id, order_by=(Task.deadline, Task.id))
            .label("rank")
        )
        .subquery()
    )
    task = aliased(Task, ranked)
    rows = ctx.session.scalars(
        select(task).where(ranked.c.rank <= first).order_by(task.contact_id, ranked.c.rank)
    )
    found: dict[int, list[Task]] = defaultdict(list)
    for row in rows:
        assert row.contact_id is not None
        found[row.contact_id].append(row)
    return {contact_id: found.get(contact_id, []) for contact_id in contact_ids}


@strawberry.field(
    name="tasks",
    description="This contact's tasks you may see, by deadline: open ones unless "
    "`includeCompleted`; at most `first` (up to 100). The full, paginated list is "
    "`tasks(filter: {contactId})`.",
)
def contact_tasks(
    root: ContactNode, info: Ctx, first: int = 20, include_completed: bool = False
) -> list[TaskNode]:
    ctx = info.context
    if not 0 <= first <= MAX_NESTED:  # refused, never truncated
        raise BadUserInput(f"first must be between 0 and {MAX_NESTED}", field="first")
    if not include_completed:  # the open-only default matches on the status
        check_filterable_fields(ctx.access, "Task", {"status"})
    key = f"calendar.contact_tasks:{first}:{include_completed}"
    loader = ctx.nested_loader(
        key, Contact, lambda ids: tasks_of_contacts(ctx, ids, first, include_completed)
    )
    return [TaskNode(record=t) for t in loader.get(root.record.id) or []]


FIELDS = [TypeField("Contact", contact_tasks)]
