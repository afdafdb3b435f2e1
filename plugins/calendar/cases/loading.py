"""Batched loading for the cases' nested lists: a case's participants, tasks and chosen
users, and a contact's cases, are read for *every* record of that kind the operation has
loaded (the page) in one statement on first use — the cost is the same for 1 or 500 rows,
whichever list, node or payload the records came from."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import BATCH, CallerContext, Loader, RecordShare, load_users, selected
from plugins.calendar.cases import download, service
from plugins.calendar.cases.models import Case, CaseDocument
from plugins.calendar.models import Task
from plugins.contacts import api as contacts_api
from plugins.contacts.models import Contact


def loaded_ids(ctx: CallerContext, model: type[Any]) -> list[int]:
    """The ids of every ``model`` record this operation's session holds: the page."""
    return sorted(
        {obj.id for obj in list(ctx.session.identity_map.values()) if isinstance(obj, model)}
    )


def _one(ctx: CallerContext, name: str, fetch: Any, model: type[Any], key: int) -> Any:
    """``key``'s value from the loader ``name``; the first time a key is asked for, every
    ``model`` record loaded so far is fetched with it (one statement for the page)."""
    loader: Loader[int, Any] = ctx.loader(name, fetch)
    seen: set[int] = ctx.cache.setdefault(f"{name}.seen", set())
    if key not in seen:
        page = loaded_ids(ctx, model)
        seen.update(page)
        seen.add(key)
        loader.prime([*page, key])
    return loader.get(key)


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

    def fetch(ids: list[int]) -> dict[int, list[Contact]]:
        return service.participants_of(ctx, ids, options)

    return _one(ctx, "calendar.case_participants", fetch, Case, case_id) or []


def tasks(info: Info, case_id: int) -> list[Task]:
    from plugins.calendar.queries import task_options

    ctx = info.context
    names = selected(info)

    def fetch(ids: list[int]) -> dict[int, list[Task]]:
        found: dict[int, list[Task]] = defaultdict(list)
        rows = ctx.session.scalars(
            select(Task)
            .where(Task.case_id.in_(ids))
            .order_by(Task.deadline, Task.id)
            .options(*task_options(info))
        )
        for task in rows:
            if task.case_id is not None:
                found[task.case_id].append(task)
        if "responsible" in names:
            load_users(ctx, sorted({t.owner_id for ts in found.values() for t in ts if t.owner_id}))
        return {i: found.get(i, []) for i in ids}

    return _one(ctx, "calendar.case_tasks", fetch, Case, case_id) or []


def shares(ctx: CallerContext, case_id: int) -> list[int]:
    """The chosen users of each case (its write shares), the page's in one statement."""

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

    return _one(ctx, "calendar.case_shares", fetch, Case, case_id) or []


def contact_cases(info: Info, contact_id: int) -> list[Case]:
    """The visible cases of every contact the operation loaded (``Contact.cases``)."""
    ctx = info.context
    options = case_options(info)

    def fetch(ids: list[int]) -> dict[int, list[Case]]:
        return service.cases_of_contacts(ctx, ids, options)

    return _one(ctx, "calendar.contact_cases", fetch, Contact, contact_id) or []


def document_url(ctx: CallerContext, document: CaseDocument) -> str:
    return download.signed_url(ctx, document)
