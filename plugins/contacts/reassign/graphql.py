"""GraphQL of the reassignments (MISSION M7, M8): a count preview (a query) and the job
that does it (a mutation answering a ``Job``). Thin: parse ids, call the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeAlias

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    JobPayload,
    JobType,
    RequestContext,
    defer_job,
    filter_reads,
    mutate,
    parse_global_id,
    text,
)
from plugins.contacts.assignments import AssignmentData
from plugins.contacts.inputs import FILTER_READS, ContactFilterInput
from plugins.contacts.reassign import clients, job, tasks
from plugins.contacts.reassign.clients import Skip

Ctx = Info[RequestContext, None]

strawberry.enum(Skip, name="ReassignSkipReason", description="Why a selected client stays.")
SkipEnum: TypeAlias = Skip


def _id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return parse_global_id(value, type_name, field) if value else None


def _ids(values: list[strawberry.ID] | None, field: str) -> tuple[int, ...] | None:
    if values is None:
        return None
    return tuple(parse_global_id(v, "Contact", field) for v in values)


@strawberry.input(
    description="Whose clients move: a managing company and its user, its "
    "orphans (clients without a user there), and/or zones."
)
class ReassignOriginInput:
    managing_company_id: strawberry.ID
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Clients assigned to this user in the company."
    )
    orphans: bool = strawberry.field(
        default=False, description="Clients with no assignment in the company (no userId)."
    )
    zones: list[str] | None = text(
        80, default=None, description="Clients whose zone is one of these."
    )


@strawberry.input(description="Where they go: a managing company, its user and a branch.")
class ReassignDestinationInput:
    managing_company_id: strawberry.ID
    user_id: strawberry.ID
    branch_id: strawberry.ID | None = None


@strawberry.input(description="A mass reassignment of clients (see docs/modules/contacts.md).")
class ReassignClientsInput:
    origin: ReassignOriginInput
    destination: ReassignDestinationInput
    contact_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The multi-select: only these clients (all visible to you)."
    )
    search: str | None = None
    filter: ContactFilterInput | None = strawberry.field(
        default=None, description="The contacts list's filters."
    )
    with_tasks: bool = strawberry.field(
        default=False, description="Move the origin user's tasks of these clients too."
    )
    keep_origin_assignment: bool = strawberry.field(
        default=False,
        description="Companies differ: the origin assignment stays; the destination is added.",
    )
    keep_existing_destination: bool = strawberry.field(
        default=False,
        description="Companies differ: clients already assigned in the destination company "
        "keep that assignment and are skipped.",
    )

    def to_move(self) -> clients.ClientMove:
        origin, dest = self.origin, self.destination
        return clients.ClientMove(
            origin=clients.Origin(
                company_id=parse_global_id(
                    origin.managing_company_id, "ManagingCompany", "origin.managingCompanyId"
                ),
                user_id=_id(origin.user_id, "User", "origin.userId"),
                orphans=origin.orphans,
                zones=tuple(sorted({z.strip() for z in origin.zones or [] if z.strip()})),
            ),
            destination=AssignmentData(
                company_id=parse_global_id(
                    dest.managing_company_id, "ManagingCompany", "destination.managingCompanyId"
                ),
                user_id=parse_global_id(dest.user_id, "User", "destination.userId"),
                branch_id=_id(dest.branch_id, "CompanyBranch", "destination.branchId"),
            ),
            contact_ids=_ids(self.contact_ids, "contactIds"),
            search=self.search,
            filter=self.filter.to_filter() if self.filter else None,
            reads=frozenset(filter_reads(self.filter, FILTER_READS)),
            with_tasks=self.with_tasks,
            keep_origin=self.keep_origin_assignment,
            keep_existing=self.keep_existing_destination,
        )


@strawberry.type(description="Selected clients that stay, and why.")
class ReassignSkipped:
    reason: SkipEnum
    count: int


@strawberry.type(description="What a client reassignment would do, counted by the job's SQL.")
class ReassignPreview:
    selected: int = strawberry.field(description="Clients you see at the origin, filtered.")
    clients: int = strawberry.field(description="Clients that would move.")
    skipped: list[ReassignSkipped]
    tasks: int | None = strawberry.field(
        description="Tasks that would move (withTasks only; 0 if no module owns tasks)."
    )


@strawberry.input(description="A mass reassignment of tasks between users (MISSION M8).")
class ReassignTasksInput:
    from_user_id: strawberry.ID
    to_user_id: strawberry.ID
    managing_company_id: strawberry.ID | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    contact_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only tasks of these clients."
    )
    task_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only these tasks (a multi-select), within the other filters: each one "
        "a task you may change (NOT_FOUND / FORBIDDEN on taskIds otherwise).",
    )

    def to_move(self) -> tasks.TaskMove:
        return tasks.TaskMove(
            from_user_id=parse_global_id(self.from_user_id, "User", "fromUserId"),
            to_user_id=parse_global_id(self.to_user_id, "User", "toUserId"),
            company_id=_id(self.managing_company_id, "ManagingCompany", "managingCompanyId"),
            starts_after=self.starts_after,
            starts_before=self.starts_before,
            contact_ids=_ids(self.contact_ids, "contactIds"),
            task_ids=tuple(parse_global_id(v, "Task", "taskIds") for v in self.task_ids)
            if self.task_ids is not None
            else None,
        )


@strawberry.type(description="What a task reassignment would move.")
class ReassignTasksPreview:
    tasks: int = strawberry.field(description="0 when no enabled module owns tasks.")


@strawberry.field(description="Count what reassignClients would move before it runs.")
def reassign_clients_preview(info: Ctx, input: ReassignClientsInput) -> ReassignPreview:
    ctx = info.context
    ctx.require_caller()
    ask = input.to_move()
    clients.check(ctx, ask)
    counts = clients.count(ctx, ask)
    return ReassignPreview(
        selected=counts.selected,
        clients=counts.moved,
        skipped=[ReassignSkipped(reason=s, count=n) for s, n in counts.skipped.items()],
        tasks=counts.tasks,
    )


@strawberry.field(description="Count what reassignTasks would move before it runs.")
def reassign_tasks_preview(info: Ctx, input: ReassignTasksInput) -> ReassignTasksPreview:
    ctx = info.context
    ctx.require_caller()
    return ReassignTasksPreview(tasks=tasks.count(ctx, input.to_move()))


def _defer(info: Ctx, kind: str, prepare: Callable[[], dict[str, Any]]) -> JobPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> Any:
        return defer_job(ctx, kind, prepare())

    return mutate(ctx, JobPayload, work, lambda found: JobPayload(job=JobType(record=found)))


@strawberry.mutation(
    description="Reassign clients from an origin company-user to a destination company-user "
    "as a background job (all or nothing; you are notified at the end)."
)
def reassign_clients(info: Ctx, input: ReassignClientsInput) -> JobPayload:
    def prepare() -> dict[str, Any]:
        ask = input.to_move()
        clients.check(info.context, ask)
        return job.client_params(ask)

    return _defer(info, job.CLIENTS_JOB, prepare)


@strawberry.mutation(
    description="Reassign tasks from one user to another as a background job (the modules "
    "that own tasks move them; 0 when none does)."
)
def reassign_tasks(info: Ctx, input: ReassignTasksInput) -> JobPayload:
    def prepare() -> dict[str, Any]:
        ask = input.to_move()
        tasks.check(info.context, ask)
        return job.task_params(ask)

    return _defer(info, job.TASKS_JOB, prepare)


QUERY_FIELDS = [reassign_clients_preview, reassign_tasks_preview]
MUTATION_FIELDS = [reassign_clients, reassign_tasks]
