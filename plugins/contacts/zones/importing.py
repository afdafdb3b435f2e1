"""Importing zones with their users (MISSION M6) as a background job,
``contacts.import_zones``.

A dedicated job rather than an kernel ``Importer``: zones are a catalogue of the tenant,
not access-controlled records, and the import *replaces* each named zone's set of users —
there is no create/update mode, no match key and no per-record undo to offer. The job
keeps the kernel's conventions: it runs as its user in one transaction (a dry run rolls a
savepoint back), reads the file with ``read_table`` (hostile-file checks included),
reports typed errors with row and column, and stores a result workbook (Imported, With
errors, Summary)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from gateway.sdk import (
    IMPORT_PERMISSION,
    XLSX_MIME,
    BadUserInput,
    CallerContext,
    FailedRow,
    FilePurpose,
    GatewayError,
    JobError,
    JobHandle,
    JobKind,
    JobResult,
    ResultCellError,
    open_file,
    read_table,
    store_file,
    write_results,
)
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.zones import service
from plugins.contacts.zones.template import USERS, ZONE, ZONES

IMPORT_ZONES_JOB = "contacts.import_zones"
#: Per-row errors copied into the job's own errors (the workbook has them all).
JOB_ERRORS = 100
#: Headers each column answers to (folded), besides its template header.
_ALIASES = {ZONE: {"zone", "zones", "zone name"}, USERS: {"users", "user", "emails", "email"}}
_SEPARATORS = re.compile(r"[,;\n]")


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def columns_of(header: Sequence[str | None]) -> dict[str, int]:
    """Column key → 0-based position. BAD_USER_INPUT without a Zone column or with a
    column twice; other columns are ignored."""
    names = {c.key: {_fold(c.header), *_ALIASES[c.key]} for c in ZONES.columns}
    found: dict[str, int] = {}
    for position, title in enumerate(header):
        for key, accepted in names.items():
            if _fold(title) in accepted:
                if key in found:
                    raise BadUserInput(f"the column {title!r} appears twice", field="fileId")
                found[key] = position
    if ZONE not in found:
        raise BadUserInput('the file has no "Zone" column', field="fileId")
    return found


@dataclass
class ParsedRow:
    number: int
    zone: str | None
    emails: list[str]
    errors: list[JobError] = field(default_factory=list)


def _cell(values: Sequence[str | None], position: int | None) -> str:
    if position is None or position >= len(values):
        return ""
    return (values[position] or "").strip()


def _parse(content: bytes, filename: str) -> tuple[dict[str, int], list[ParsedRow]]:
    table = read_table(content, filename)
    positions = columns_of(table.header)
    rows: list[ParsedRow] = []
    for row in table.rows:
        if not any((v or "").strip() for v in row.values):
            continue  # a blank line
        raw = _cell(row.values, positions[ZONE])
        emails = [
            e.strip().lower() for e in _SEPARATORS.split(_cell(row.values, positions.get(USERS)))
        ]
        parsed = ParsedRow(row.number, None, [e for e in dict.fromkeys(emails) if e])
        try:
            parsed.zone = service.clean_name(raw, ZONE)
        except GatewayError as exc:
            parsed.errors.append(JobError(str(exc.code), exc.message, row.number, ZONE))
        rows.append(parsed)
    return positions, rows


def run_import_zones(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    ctx.require(IMPORT_PERMISSION)
    dry_run = bool(params.get("dry_run", False))
    source = open_file(ctx, params["file_id"])
    content, filename = source.content, source.name
    positions, rows = _parse(content, filename)

    found = service.users_by_email(ctx, (e for r in rows for e in r.emails))
    plan: dict[str, dict[int, None]] = {}
    not_found = 0
    for row in rows:
        linked: dict[int, None] = {}
        for email in row.emails:
            user = found.users.get(email)
            if user is not None:
                linked[user.id] = None
            elif email in found.assistants:
                row.errors.append(
                    JobError(
                        "BAD_USER_INPUT",
                        f"{email} is an assistant: assistants have no zones",
                        row.number,
                        USERS,
                    )
                )
            else:
                not_found += 1
                row.errors.append(
                    JobError("NOT_FOUND", f"user not found: {email}", row.number, USERS)
                )
        if row.zone is not None:
            plan.setdefault(row.zone, {}).update(linked)

    session = ctx.session
    savepoint = session.begin_nested()
    existing = service.zones_named(ctx, plan)
    created = linked_total = 0
    job.progress(0, len(plan))
    for done, (name, users) in enumerate(plan.items(), start=1):
        zone = existing.get(name)
        if zone is None:
            zone = service.create_zone(ctx, name)
            created += 1
        linked_total += service.replace_users(ctx, zone, users)
        job.progress(done, len(plan))
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()

    failed = sum(1 for r in rows if r.errors)
    counts = {
        "rows": len(rows),
        "zones_created": created,
        "zones_updated": len(plan) - created,
        "users_linked": linked_total,
        "users_not_found": not_found,
        "rows_with_errors": failed,
        "written": 0 if dry_run else linked_total,
    }
    results = store_file(
        ctx,
        f"{PurePath(filename).stem} - results.xlsx",
        XLSX_MIME,
        _workbook(content, filename, positions, rows, counts),
        FilePurpose.GENERATED,
    )
    errors = [e for r in rows for e in r.errors][:JOB_ERRORS]
    return JobResult(counts=counts, file_id=results.id, errors=errors)


def _workbook(
    content: bytes,
    filename: str,
    positions: dict[str, int],
    rows: list[ParsedRow],
    counts: dict[str, int],
) -> bytes:
    """The file's rows again (not kept in memory): clean ones on "Imported", rows with an
    error on "With errors", each error on its cell (a row whose users were partly found
    still set its zone with the others)."""
    errors = {r.number: r.errors for r in rows if r.errors}
    table = read_table(content, filename)

    def imported() -> Iterator[tuple[int, list[str | None]]]:
        for row in read_table(content, filename).rows:
            if row.number not in errors and any((v or "").strip() for v in row.values):
                yield row.number, row.values

    def failed() -> Iterator[FailedRow]:
        for row in read_table(content, filename).rows:
            if row.number in errors:
                cells = [
                    ResultCellError(
                        positions[e.column] + 1 if e.column in positions else None, e.message
                    )
                    for e in errors[row.number]
                ]
                yield FailedRow(row.number, row.values, cells)

    summary = [
        ("Rows", counts["rows"]),
        ("Zones created", counts["zones_created"]),
        ("Zones updated", counts["zones_updated"]),
        ("Users linked", counts["users_linked"]),
        ("Users not found", counts["users_not_found"]),
        ("Rows with errors", counts["rows_with_errors"]),
        ("Links written (0: a dry run)", counts["written"]),
    ]
    return write_results(table.header, imported(), failed(), summary)


KINDS = [
    JobKind(
        IMPORT_ZONES_JOB,
        run_import_zones,
        title="Import zones",
        permission=P.MANAGE_SETTINGS.value,
    )
]
