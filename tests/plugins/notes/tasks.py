"""The notes test module answers the contacts module's task hooks (MISSION M7/M8): a note
titled ``Task YYYY-MM-DD …`` is a task of its owner starting that day, for the client named
in its body (``contact:<id>``). A task titled ``… locked`` refuses to move (to test that a
failing hook rolls the whole reassignment back). Calls are recorded in :data:`CALLS`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from gateway import sdk
from tests.plugins.notes.models import Note

CALLS: list[dict[str, Any]] = []


def _tasks(
    ctx: sdk.CallerContext,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
) -> Select[Any]:
    day = func.substr(Note.title, 6, 10)
    stmt = select(Note).where(
        Note.owner_id == from_user_id,
        Note.title.like("Task %"),
        sdk.writable_rows(ctx.access, Note),  # only what the caller may change moves
    )
    if contact_ids is not None:
        stmt = stmt.where(Note.body.in_([f"contact:{i}" for i in contact_ids]))
    if starts_after is not None:
        stmt = stmt.where(day >= starts_after.date().isoformat())
    if starts_before is not None:
        stmt = stmt.where(day < starts_before.date().isoformat())
    return stmt


@sdk.hookimpl(optionalhook=True)  # contacts declares it; notes runs without it too
def crm_count_tasks_to_reassign(
    context, company_id, from_user_id, contact_ids, starts_after, starts_before, task_ids
) -> int:
    if task_ids is not None:
        return 0  # a multi-select names calendar tasks, never notes
    stmt = _tasks(context, from_user_id, contact_ids, starts_after, starts_before)
    return context.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


@sdk.hookimpl(optionalhook=True)  # contacts declares it; notes runs without it too
def crm_reassign_tasks(
    context,
    company_id,
    from_user_id,
    to_user_id,
    contact_ids,
    starts_after,
    starts_before,
    task_ids,
) -> int:
    if task_ids is not None:
        return 0  # a multi-select names calendar tasks, never notes
    CALLS.append(
        {
            "company_id": company_id,
            "from": from_user_id,
            "to": to_user_id,
            "contact_ids": contact_ids,
            "after": starts_after,
            "before": starts_before,
        }
    )
    notes = context.session.scalars(
        _tasks(context, from_user_id, contact_ids, starts_after, starts_before)
    ).all()
    for note in notes:
        if note.title.endswith("locked"):
            raise sdk.Conflict(f"the task {note.title!r} is locked")
        note.owner_id = to_user_id
    context.session.flush()
    return len(notes)
