"""What both reassignments share: batches, the multi-select check, and the calls to the
task hooks (``crm_reassign_tasks`` / ``crm_count_tasks_to_reassign``, summed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, select

from gateway.sdk import CallerContext, NotFound
from plugins.contacts.models import Contact

#: Clients moved (and passed to the task hook) per batch: one flush, one progress report.
BATCH = 500


def batches(values: Sequence[int], size: int = BATCH) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def visible_ids(ctx: CallerContext, ids: Sequence[int]) -> None:
    """Every multi-selected id is a contact the caller sees; ``NOT_FOUND`` otherwise (an
    invisible or another organisation's id, alike: no existence oracle)."""
    wanted = set(ids)
    found = ctx.session.scalar(
        select(func.count()).select_from(
            select(Contact.id).where(Contact.id.in_(sorted(wanted))).subquery()
        )
    )
    if found != len(wanted):
        raise NotFound("no such contact", field="contactIds")


def _summed(answers: Sequence[int | None]) -> int:
    return sum(int(a) for a in answers if a)


def count_tasks(
    ctx: CallerContext,
    company_id: int | None,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None = None,
) -> int:
    """How many tasks the enabled modules would move (0 when none owns tasks)."""
    return _summed(
        ctx.hooks.crm_count_tasks_to_reassign(
            context=ctx,
            company_id=company_id,
            from_user_id=from_user_id,
            contact_ids=contact_ids,
            starts_after=starts_after,
            starts_before=starts_before,
            task_ids=task_ids,
        )
    )


def move_tasks(
    ctx: CallerContext,
    company_id: int | None,
    from_user_id: int,
    to_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None = None,
) -> int:
    """Move the tasks through every enabled module that owns some; how many moved."""
    return _summed(
        ctx.hooks.crm_reassign_tasks(
            context=ctx,
            company_id=company_id,
            from_user_id=from_user_id,
            to_user_id=to_user_id,
            contact_ids=contact_ids,
            starts_after=starts_after,
            starts_before=starts_before,
            task_ids=task_ids,
        )
    )
