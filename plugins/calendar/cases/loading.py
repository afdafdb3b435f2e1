"""Batched loading for the cases' nested lists. A case's participants, tasks and chosen
users, and a contact's cases, come from the kernel's ``nested_loader``: the first miss
fetches for *every* record of that kind the operation has read (the page), in one
statement — the cost is the same for 1 or 500 rows, whichever list, node or payload the
records came from. Lists that may grow long (tasks, a contact's cases) are windowed: at
most ``first`` per parent, numbered by a window function in the same statement."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    BadUserInput,
    CallerContext,
    RecordShare,
    check_filterable_fields,
    load_users,
    selected,
)
from plugins.calendar.cases import download, service
from plugins.calendar.cases.models import Case, CaseDocument, CaseParticipant
from plugins.calendar.models import Task, TaskStatus
from plugins.contacts import api as contacts_api
from plugins.contacts.models import Contact

#: The most items a windowed nested list returns per parent (refused above, not truncated).
MAX_NESTED = 100


def check_first(first: int) -> None:
    if not 0 <= first <= MAX_NESTED:
        raise BadUserInput(f"first must be between 0 and {MAX_NESTED}", field="first")


def case_options(info: Info, *path: str) -> list[Any]:
    """Eager loads for what a case selection asks (one query per relation, never per row)."""
    names = selected(info, *path)
    options: list[Any] = []
    if "tags" in names:
        options.append(selectinload(Case.tag_links, chunksize=BATCH))
    if "customFields" in names:
        options.append(selectinload(Case.custom_values, chunksize=BATCH))
    if "documents" in names:
        options.append(selectinload(Case.documents, chunksize=BATCH))
    return options


def prime_users(info: Info, cases: list[Case], *path: str) -> None:
    """The owners and document authors a page shows, in one query."""
    names = selected(info, *path)
    ids = {c.owner_id for c in cases} if "owner" in names else set()
    if "documents" in names and "addedBy" in selected(info, *path, "documents"):
        ids |= {d.added_by_id for c in cases for d in c.documents}
    known = sorted(i for i in ids if i is not None)
    if known:
        load_users(info.context, known)


def participants(info: Info, case_id: int) -> list[Contact]:
    ctx = info.context
    options = contacts_api.loader_options(selected(info))
    loader = ctx.nested_loader(
        "calendar.case_participants",
        Case,
        lambda ids: service.participants_of(ctx, ids, options),
    )
    return loader.get(case_id) or []


def _windowed(
    ctx: CallerContext,
    model: Any,
    stmt: Any,
    partition: Any,
    order: tuple[Any, ...],
    first: int,
    options: list[Any],
) -> dict[int, list[Any]]:
    """``stmt`` (selecting ``model.id`` and ``partition``) numbered per partition by a
    window: the first ``first`` records of each, by ``order``, loaded with ``options`` — two
    statements for the whole page. Visibility is the session's: ``stmt`` selects
    ``model``'s rows, so their access predicate applies."""
    ranked = stmt.add_columns(
        func.row_number().over(partition_by=partition, order_by=order).label("rank")
    ).subquery()
    pairs = ctx.session.execute(
        select(ranked.c.id, ranked.c.parent)
        .where(ranked.c.rank <= first)
        .order_by(ranked.c.parent, ranked.c.rank)
    ).all()
    records = {
        r.id: r
        for r in ctx.session.scalars(
            select(model).where(model.id.in_({i for i, _ in pairs})).options(*options)
        )
    }
    found: dict[int, list[Any]] = defaultdict(list)
    for record_id, parent in pairs:
        if record_id in records:
            found[parent].append(records[record_id])
    return found


def tasks(info: Info, case_id: int, first: int, include_completed: bool) -> list[Task]:
    """The case's tasks the caller may see, by deadline, at most ``first``."""
    from plugins.calendar.queries import task_options

    ctx = info.context
    check_first(first)
    # the order and the open-only filter read these (field rules, as for the list)
    check_filterable_fields(
        ctx.access, "Task", {"deadline"} | (set() if include_completed else {"status"})
    )

    def fetch(ids: list[int]) -> dict[int, list[Task]]:
        stmt = select(Task.id, Task.case_id.label("parent")).where(Task.case_id.in_(ids))
        if not include_completed:
            stmt = stmt.where(Task.status == TaskStatus.OPEN)
        order = (Task.deadline, Task.id)
        found = _windowed(ctx, Task, stmt, Task.case_id, order, first, task_options(info))
        if "responsible" in selected(info):
            load_users(ctx, sorted({t.owner_id for ts in found.values() for t in ts if t.owner_id}))
        return {i: found.get(i, []) for i in ids}

    key = f"calendar.case_tasks:{first}:{include_completed}"
    return ctx.nested_loader(key, Case, fetch).get(case_id) or []


def shares(ctx: CallerContext, case_id: int) -> list[int]:
    """The chosen users of a case (its write shares)."""

    def fetch(ids: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        rows = ctx.session.execute(
            select(RecordShare.record_id, RecordShare.user_id)
            .where(RecordShare.entity == service.CASE, RecordShare.record_id.in_(ids))
            .order_by(RecordShare.record_id, RecordShare.user_id)
        )
        for record_id, user_id in rows:
            found[record_id].append(user_id)
        users = sorted({u for us in found.values() for u in us})
        if users:
            load_users(ctx, users)
        return {i: found.get(i, []) for i in ids}

    loader = ctx.nested_loader("calendar.case_shares", Case, fetch)
    return loader.get(case_id) or []


def contact_cases(info: Info, contact_id: int, first: int, status: Any) -> list[Case]:
    """The visible cases a contact takes part in, newest first, at most ``first``."""
    ctx = info.context
    check_first(first)
    check_filterable_fields(
        ctx.access, "Case", {"createdAt"} | (set() if status is None else {"status"})
    )
    options = case_options(info)

    def fetch(ids: list[int]) -> dict[int, list[Case]]:
        stmt = (
            select(Case.id, CaseParticipant.contact_id.label("parent"))
            .join(CaseParticipant, CaseParticipant.case_id == Case.id)
            .where(CaseParticipant.contact_id.in_(ids))
        )
        if status is not None:
            stmt = stmt.where(Case.status == status)
        order = (Case.created_at.desc(), Case.id.desc())
        found = _windowed(ctx, Case, stmt, CaseParticipant.contact_id, order, first, options)
        return {i: found.get(i, []) for i in ids}

    key = f"calendar.contact_cases:{first}:{status}"
    return ctx.nested_loader(key, Contact, fetch).get(contact_id) or []


def document_url(ctx: CallerContext, document: CaseDocument) -> str:
    return download.signed_url(ctx, document)
