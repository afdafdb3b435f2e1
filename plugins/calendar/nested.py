"""Fields the calendar module adds to other modules' types (``crm_type_fields``): a
contact's and an opportunity's tasks, present only where the calendar module (and, for
``Opportunity``, the leads module declaring it) is on."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.types import Info

from gateway.sdk import BadUserInput, RequestContext, TypeField
from plugins.calendar import opportunities, queries, services
from plugins.calendar.models import Task
from plugins.calendar.types import TaskNode
from plugins.contacts.models import Contact
from plugins.contacts.types import ContactNode

Ctx = Info[RequestContext, None]

#: The most tasks a nested list returns per parent (the full list is ``tasks(filter:
#: {contactId})`` / ``{opportunityId}``, paginated).
MAX_NESTED = 100


def tasks_of(
    info: Ctx,
    column: InstrumentedAttribute[int | None],
    parent_ids: list[int],
    first: int,
    include_completed: bool,
) -> dict[int, list[Task]]:
    """The first ``first`` tasks by deadline of each parent (``column`` links a task to it)
    that the caller may see, for a whole page of parents in one statement (a window numbers
    each parent's tasks), with what the selection asks of them loaded for all at once as
    the top-level list does. The list's own filter: open only by default, every status for
    a caller whose rules hide it (``services.status_hidden``)."""
    ctx = info.context
    flt = services.TaskFilter(include_completed=include_completed)
    ranked = (
        services.filtered(ctx, flt)
        .where(column.in_(parent_ids))
        .add_columns(
            func.row_number()
            .over(partition_by=column, order_by=(Task.deadline, Task.id))
            .label("rank")
        )
        .subquery()
    )
    task = aliased(Task, ranked)
    parent = getattr(task, column.key)
    rows = ctx.session.scalars(
        select(task)
        .where(ranked.c.rank <= first)
        .order_by(parent, ranked.c.rank)
        .options(*queries.task_options(info, entity=task))
    ).all()
    queries.prime_users(info, list(rows))
    found: dict[int, list[Task]] = defaultdict(list)
    for row in rows:
        key = getattr(row, column.key)
        assert key is not None
        found[key].append(row)
    return {parent_id: found.get(parent_id, []) for parent_id in parent_ids}


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_NESTED:  # refused, never truncated
        raise BadUserInput(f"first must be between 0 and {MAX_NESTED}", field="first")


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
    _check_first(first)
    key = f"calendar.contact_tasks:{first}:{include_completed}"
    loader = ctx.nested_loader(
        key, Contact, lambda ids: tasks_of(info, Task.contact_id, ids, first, include_completed)
    )
    return [TaskNode(record=t) for t in loader.get(root.record.id) or []]


@strawberry.field(
    name="tasks",
    description="This opportunity's tasks you may see, by deadline: open ones unless "
    "`includeCompleted`; at most `first` (up to 100). The full, paginated list is "
    "`tasks(filter: {opportunityId})`.",
)
def opportunity_tasks(
    root: Any, info: Ctx, first: int = 20, include_completed: bool = False
) -> list[TaskNode]:
    """``root`` is the leads module's ``Opportunity`` object (``.record``): the calendar
    reads the opportunity model from the registry, never from leads' code."""
    ctx = info.context
    _check_first(first)
    entity = opportunities.entity_of(ctx)
    if entity is None:  # the type is only in schemas where leads is on
        return []
    key = f"calendar.opportunity_tasks:{first}:{include_completed}"
    loader = ctx.nested_loader(
        key,
        entity.model,
        lambda ids: tasks_of(info, Task.opportunity_id, ids, first, include_completed),
    )
    return [TaskNode(record=t) for t in loader.get(root.record.id) or []]


FIELDS = [TypeField("Contact", contact_tasks), TypeField("Opportunity", opportunity_tasks)]
