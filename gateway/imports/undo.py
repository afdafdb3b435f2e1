"""Undoing a whole import: records it created are removed, records it updated get their
before-image back — except those edited since (their fingerprint changed), which are named
and left alone. Rows are undone last-first, so a record the file named twice unwinds in
order. Everything runs in the caller's transaction and under the caller's access: undo never
touches a record its user could not change by hand (those are reported as ``GONE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.context import CallerContext
from gateway.db import utcnow
from gateway.errors import BadUserInput, Conflict, GatewayError, NotFound
from gateway.imports.engine import Progress, fingerprint
from gateway.imports.models import ImportRow, ImportRun
from gateway.imports.spec import Importer, Outcome, Preload

#: Records read ahead at a time when the importer can preload them (:class:`Preload`).
PRELOAD_CHUNK = 500


class UndoResult:
    REMOVED = "REMOVED"
    RESTORED = "RESTORED"
    EDITED_SINCE = "EDITED_SINCE"  # changed after the import: left alone
    GONE = "GONE"  # deleted since, or no longer yours to change
    KEPT = "KEPT"  # a module refused (e.g. a contact that now has invoices)


@dataclass
class UndoReport:
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    #: (row number, record id, result) of every row not simply undone.
    left_alone: list[tuple[int, int, str, str]] = field(default_factory=list)


def find_run(ctx: CallerContext, run_id: int) -> ImportRun:
    """The caller's own import (an administrator: anyone's in the tenant)."""
    caller = ctx.require_caller()
    run = ctx.session.get(ImportRun, run_id)
    if run is None or run.tenant_id != caller.tenant_id:
        raise NotFound("no such import", field="id")
    if run.user_id != caller.user_id and not caller.is_admin:
        raise NotFound("no such import", field="id")
    return run


def undo_import(
    ctx: CallerContext, importer: Importer, run_id: int, progress: Progress | None = None
) -> UndoReport:
    """Call inside ``ctx.transaction()``."""
    caller = ctx.require_caller()
    session = ctx.session
    run = find_run(ctx, run_id)
    if run.entity != importer.entity:
        raise BadUserInput("this import is of another kind of record", field="id")
    if not run.applied:
        raise BadUserInput("this import wrote nothing (a dry run, or refused)", field="id")
    if run.undone_at is not None:
        raise Conflict("this import was already undone", field="id")
    report = UndoReport(run_id=run.id, counts={})
    rows = session.scalars(
        select(ImportRow)
        .where(
            ImportRow.run_id == run.id,
            ImportRow.outcome.in_([Outcome.CREATED.value, Outcome.UPDATED.value]),
        )
        .order_by(ImportRow.row.desc(), ImportRow.id.desc())
    ).all()
    preload: Preload | None = getattr(importer, "preload", None)
    _held: Sequence[Any] = ()  # the session keeps records only while they are referenced
    for done, row in enumerate(rows, 1):
        if preload is not None and done % PRELOAD_CHUNK == 1:
            chunk = rows[done - 1 : done - 1 + PRELOAD_CHUNK]
            _held = preload(ctx, [r.record_id for r in chunk if r.record_id is not None])
        row.undo = _undo_row(ctx, importer, row)
        report.counts[row.undo] = report.counts.get(row.undo, 0) + 1
        if row.undo not in (UndoResult.REMOVED, UndoResult.RESTORED):
            report.left_alone.append((row.row, row.record_id or 0, row.undo, row.outcome))
        if progress is not None and done % 200 == 0:
            session.flush()
            progress(done)
    run.undone_at = utcnow()
    run.undone_by_id = caller.user_id
    session.flush()
    report.left_alone.sort()
    return report


def _undo_row(ctx: CallerContext, importer: Importer, row: ImportRow) -> str:
    record = importer.get(ctx, row.record_id) if row.record_id is not None else None
    if record is None:
        return UndoResult.GONE
    if fingerprint(importer.snapshot(ctx, record)) != row.after_hash:
        return UndoResult.EDITED_SINCE
    savepoint = ctx.session.begin_nested()
    try:
        if row.outcome == Outcome.CREATED.value:
            importer.delete(ctx, record)
            result = UndoResult.REMOVED
        else:
            importer.restore(ctx, record, row.before or {})
            result = UndoResult.RESTORED
        ctx.session.flush()
    except (GatewayError, IntegrityError):
        savepoint.rollback()
        return UndoResult.KEPT
    savepoint.commit()
    return result
