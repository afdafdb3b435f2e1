"""Reassign tasks from one user to another by date range (MISSION M8): the contacts side.

Tasks belong to other modules (the calendar): this checks the request and asks them
through ``crm_count_tasks_to_reassign`` (the preview) and ``crm_reassign_tasks`` (the job),
both summed over the tenant's enabled modules. With none answering, nothing moves: 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.sdk import BadUserInput, CallerContext, ProfileKind, companies, get_user
from plugins.contacts.reassign.common import count_tasks, move_tasks, visible_ids


@dataclass(frozen=True)
class TaskMove:
    from_user_id: int
    to_user_id: int
    company_id: int | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    contact_ids: tuple[int, ...] | None = None
    #: A multi-select of tasks (``Task`` ids), within what the other fields select.
    task_ids: tuple[int, ...] | None = None

    @property
    def contacts(self) -> list[int] | None:
        return list(self.contact_ids) if self.contact_ids is not None else None

    @property
    def tasks(self) -> list[int] | None:
        return list(self.task_ids) if self.task_ids is not None else None


def check(ctx: CallerContext, ask: TaskMove) -> None:
    """Typed errors before anything runs: users of the organisation (the receiver active
    and not an assistant, as for clients), a company of it, a sensible range, visible
    clients, and what the modules owning the tasks refuse through the count hook (a
    multi-select of tasks the caller may not change: ``NOT_FOUND``/``FORBIDDEN`` on
    ``taskIds``; a move filtering on fields the caller's rules hide: ``FORBIDDEN``)."""
    session, tenant_id = ctx.session, ctx.tenant_id
    if ask.company_id is not None:
        companies.get_company(session, tenant_id, ask.company_id)
    get_user(session, tenant_id, ask.from_user_id, "fromUserId")  # may have left
    receiver = get_user(session, tenant_id, ask.to_user_id, "toUserId")
    if ask.from_user_id == ask.to_user_id:
        raise BadUserInput("the tasks already belong to this user", field="toUserId")
    if not receiver.is_active:
        raise BadUserInput("an inactive user cannot receive tasks", field="toUserId")
    if receiver.profile.kind is ProfileKind.ASSISTANT:  # as for client assignments
        raise BadUserInput("assistants cannot be given tasks", field="toUserId")
    if ask.starts_after and ask.starts_before and ask.starts_after >= ask.starts_before:
        raise BadUserInput("startsAfter must come before startsBefore", field="startsBefore")
    if ask.contact_ids is not None:
        visible_ids(ctx, ask.contact_ids)
    if ask.task_ids is not None and not ask.task_ids:
        raise BadUserInput("select at least one task, or none to move them all", field="taskIds")
    _count(ctx, ask)  # the modules' own refusals, before a job is queued


def _count(ctx: CallerContext, ask: TaskMove) -> int:
    return count_tasks(
        ctx,
        ask.company_id,
        ask.from_user_id,
        ask.contacts,
        ask.starts_after,
        ask.starts_before,
        ask.tasks,
    )


def count(ctx: CallerContext, ask: TaskMove) -> int:
    check(ctx, ask)
    return _count(ctx, ask)


def run(ctx: CallerContext, ask: TaskMove) -> int:
    check(ctx, ask)
    return move_tasks(
        ctx,
        ask.company_id,
        ask.from_user_id,
        ask.to_user_id,
        ask.contacts,
        ask.starts_after,
        ask.starts_before,
        ask.tasks,
    )
