"""The reassignments as background jobs (MISSION M7, M8, M9): their kinds, and their
requests as the JSON a job keeps (``params``) and back.

Each runs as the user who started it, in the job's one transaction (all or nothing); the
jobs kernel reports the counts and notifies the user at the end."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from gateway.sdk import CallerContext, JobHandle, JobKind, JobResult
from plugins.contacts import services
from plugins.contacts.assignments import AssignmentData
from plugins.contacts.models import Category, ClientKind, ContactKind
from plugins.contacts.reassign import clients, tasks

CLIENTS_JOB = "contacts.reassign_clients"
TASKS_JOB = "contacts.reassign_tasks"
#: ``ContactFilter`` attributes stored as text in ``params``, and how to read them back.
_ENUMS: dict[str, Any] = {"kind": ContactKind, "category": Category, "client_kind": ClientKind}
_DATES = ("created_after", "created_before", "updated_after", "updated_before")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def filter_params(flt: services.ContactFilter | None) -> dict[str, Any] | None:
    if flt is None:
        return None
    values = dataclasses.asdict(flt)
    for name in _DATES:
        values[name] = _when(values[name])
    for name in _ENUMS:
        values[name] = str(values[name]) if values[name] is not None else None
    values["custom"] = [list(c) for c in values["custom"]]
    return values


def filter_of(values: dict[str, Any] | None) -> services.ContactFilter | None:
    if values is None:
        return None
    values = dict(values)
    for name in _DATES:
        values[name] = _at(values[name])
    for name, enum in _ENUMS.items():
        values[name] = enum(values[name]) if values[name] is not None else None
    values["custom"] = [tuple(c) for c in values["custom"]]
    return services.ContactFilter(**values)


def client_params(ask: clients.ClientMove) -> dict[str, Any]:
    return {
        "origin": dataclasses.asdict(ask.origin),
        "destination": dataclasses.asdict(ask.destination),
        "contact_ids": list(ask.contact_ids) if ask.contact_ids is not None else None,
        "search": ask.search,
        "filter": filter_params(ask.filter),
        "reads": sorted(ask.reads),
        "with_tasks": ask.with_tasks,
        "keep_origin": ask.keep_origin,
        "keep_existing": ask.keep_existing,
    }


def client_move(params: dict[str, Any]) -> clients.ClientMove:
    origin = dict(params["origin"])
    origin["zones"] = tuple(origin["zones"])
    ids = params["contact_ids"]
    return clients.ClientMove(
        origin=clients.Origin(**origin),
        destination=AssignmentData(**params["destination"]),
        contact_ids=tuple(ids) if ids is not None else None,
        search=params["search"],
        filter=filter_of(params["filter"]),
        reads=frozenset(params["reads"]),
        with_tasks=params["with_tasks"],
        keep_origin=params["keep_origin"],
        keep_existing=params["keep_existing"],
    )


def task_params(ask: tasks.TaskMove) -> dict[str, Any]:
    values = dataclasses.asdict(ask)
    values["starts_after"] = _when(ask.starts_after)
    values["starts_before"] = _when(ask.starts_before)
    values["contact_ids"] = list(ask.contact_ids) if ask.contact_ids is not None else None
    values["task_ids"] = list(ask.task_ids) if ask.task_ids is not None else None
    return values


def task_move(params: dict[str, Any]) -> tasks.TaskMove:
    ids, chosen = params["contact_ids"], params.get("task_ids")  # jobs queued before taskIds
    return tasks.TaskMove(
        from_user_id=params["from_user_id"],
        to_user_id=params["to_user_id"],
        company_id=params["company_id"],
        starts_after=_at(params["starts_after"]),
        starts_before=_at(params["starts_before"]),
        contact_ids=tuple(ids) if ids is not None else None,
        task_ids=tuple(chosen) if chosen is not None else None,
    )


def _reassign_clients(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    return JobResult(counts=clients.run(ctx, client_move(params), job).as_result())


def _reassign_tasks(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    return JobResult(counts={"tasksMoved": tasks.run(ctx, task_move(params))})


KINDS = [
    JobKind(
        CLIENTS_JOB,
        _reassign_clients,
        title="Reassign clients",
        permission="contacts.contact.update",
    ),
    JobKind(TASKS_JOB, _reassign_tasks, title="Reassign tasks"),
]
