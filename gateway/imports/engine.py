"""Running an import: rows in, records written through the module's services, a report out.

The whole run is one transaction of the importing user's context (a job's), so a killed
worker leaves nothing behind and the job is retried from the start. Inside it:

* the records are written under one outer SAVEPOINT, each row under its own, so a bad row
  costs only itself ("only valid rows") and the outer one can be rolled back whole — a dry run
  and a failed "all or nothing" run do exactly the work of a real run, then drop it; their
  report says what a real run would do;
* existing records are found per chunk of rows, one query per match key, among those the user
  may see — a record the user cannot see is "not found", exactly like one that does not exist;
* the report (:class:`~gateway.imports.models.ImportRun` and its rows, with the before-image of
  every update and a fingerprint of every written record, for undo) is written in the same
  transaction as the records.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import DataError, IntegrityError

from gateway import events
from gateway.context import CallerContext
from gateway.errors import BadUserInput, GatewayError
from gateway.imports.mapping import HeaderMatch, match_header
from gateway.imports.models import ImportRow, ImportRun
from gateway.imports.spec import (
    CellError,
    CreateMany,
    ImportColumn,
    Importer,
    ImportMode,
    ImportOptions,
    Outcome,
    RowInvalid,
    RowPolicy,
)
from gateway.iterables import batched

#: Rows looked up and written together (one match query per key and chunk).
CHUNK = 500

Progress = Callable[[int], None]


def fingerprint(image: Mapping[str, Any]) -> str:
    """A stable digest of a snapshot: equal images, equal fingerprints."""
    text = json.dumps(image, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _errors_of(exc: BaseException, columns: Mapping[str, ImportColumn]) -> list[CellError]:
    if isinstance(exc, RowInvalid):
        return exc.errors
    if isinstance(exc, IntegrityError):
        return [CellError("CONFLICT", "this row conflicts with an existing record")]
    if isinstance(exc, DataError):  # a value the importer's checks let through: a last guard
        return [CellError("BAD_USER_INPUT", "a value does not fit its column in the database")]
    assert isinstance(exc, GatewayError)
    column = exc.field if exc.field in columns else None
    return [CellError(exc.code.value, exc.message, column)]


class _Matcher:
    """Finds each row's record: first among those this import wrote (a file may name one
    record twice), then among those the user may see."""

    def __init__(self, ctx: CallerContext, importer: Importer, keys: Sequence[str]) -> None:
        self.ctx, self.importer, self.keys = ctx, importer, keys
        #: Match value → id of the record this import wrote with it (ids, not records: a
        #: long import must not hold every record it wrote).
        self.written: dict[tuple[str, str], int] = {}

    def chunk(self, rows: Sequence[Mapping[str, str]]) -> list[Any | CellError | None]:
        found: list[Any | CellError | None] = [None] * len(rows)
        pending = set(range(len(rows)))
        for key in self.keys:
            wanted: dict[str, list[int]] = {}
            for i in sorted(pending):
                value = self.importer.match_value(key, rows[i])
                if value is None:
                    continue
                if (key, value) in self.written:
                    found[i] = self.importer.get(self.ctx, self.written[(key, value)])
                    pending.discard(i)
                else:
                    wanted.setdefault(value, []).append(i)
            if not wanted:
                continue
            existing = self.importer.find(self.ctx, key, set(wanted))
            for value, positions in wanted.items():
                records = existing.get(value, [])
                for i in positions:
                    pending.discard(i)
                    if len(records) > 1:
                        found[i] = CellError(
                            "AMBIGUOUS",
                            f"{len(records)} records you may see have this value",
                            key,
                        )
                    elif records:
                        found[i] = records[0]
        return found

    def again(self, row: Mapping[str, str]) -> Any | None:
        """The record an earlier row of this import wrote with the row's key, if any."""
        for key in self.keys:
            value = self.importer.match_value(key, row)
            if value is not None and (key, value) in self.written:
                return self.importer.get(self.ctx, self.written[(key, value)])
        return None

    def remember(self, row: Mapping[str, str], record: Any) -> None:
        for key in self.keys:
            value = self.importer.match_value(key, row)
            if value is not None:
                self.written[(key, value)] = record.id


@dataclass
class ImportReport:
    """What :func:`run_import` did: the stored run (its rows are ``ImportRow``s), the
    errors of the failed rows by row number (for the result workbook; every other row read
    was imported) and how the file's header fed the columns."""

    run: ImportRun
    failed: dict[int, list[dict[str, Any]]]
    header: HeaderMatch


class _Spool:
    """The rows' results, kept out of memory until they are stored: an import's memory
    stays flat whatever the file's length (a temporary file; pickled chunks)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in rows())
        self.counts = {o.value: 0 for o in Outcome}
        self.failed: dict[int, list[dict[str, Any]]] = {}

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            self.counts[result["outcome"]] += 1
            if result["errors"]:
                self.failed[result["row"]] = result["errors"]
        pickle.dump(results, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def rows(self) -> Iterator[dict[str, Any]]:
        self.file.seek(0)
        with self.file:
            while True:
                try:
                    yield from pickle.load(self.file)  # noqa: S301 (our own file)
                except EOFError:
                    return


def run_import(
    ctx: CallerContext,
    importer: Importer,
    header: Sequence[str | None],
    rows: Iterable[tuple[int, Sequence[str | None]]],
    options: ImportOptions,
    *,
    filename: str = "",
    file_id: int | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``rows`` (row number, cells) of a file whose first row is ``header``.

    Call it inside ``ctx.transaction()``; it flushes but never commits."""
    caller = ctx.require_caller()
    session = ctx.session
    columns = {c.key: c for c in importer.columns(ctx, options.variant)}
    if options.variant not in importer.variants and (importer.variants or options.variant):
        raise BadUserInput(f"no such variant: {options.variant!r}", field="variant")
    unknown_keys = [k for k in options.match_by if k not in columns or not columns[k].match]
    if unknown_keys:
        raise BadUserInput(f"not a match key: {unknown_keys[0]!r}", field="matchBy")
    if options.mode is not ImportMode.UPDATE and not importer.creatable(options.variant):
        raise BadUserInput(
            f"files of {options.variant!r} only update: use mode UPDATE", field="mode"
        )
    if options.mode is not ImportMode.CREATE and not options.match_by:
        raise BadUserInput("updating needs at least one match key", field="matchBy")
    for key in options.defaults:
        if key not in columns:
            raise BadUserInput(f"no such column for a default: {key!r}", field="defaults")
    match = match_header(
        list(columns.values()),
        header,
        options.mapping,
        options.defaults,
        require=options.mode is ImportMode.CREATE,
    )
    importer.check_writable(ctx, [k for k in match.keys if k] + list(options.defaults))

    run = ImportRun(
        tenant_id=caller.tenant_id,
        user_id=caller.user_id,
        entity=importer.entity,
        variant=options.variant,
        mode=options.mode.value,
        policy=options.policy.value,
        dry_run=options.dry_run,
        filename=filename[:255],
        file_id=file_id,
        job_id=job_id,
        unmatched_headers=list(match.unmatched),
    )
    spool = _Spool()
    matcher = _Matcher(ctx, importer, options.match_by)
    outer = session.begin_nested()
    done = 0
    for chunk in batched(rows, CHUNK):
        parsed = [(number, {**options.defaults, **match.row(cells)}) for number, cells in chunk]
        found: list[Any | CellError | None] = (
            matcher.chunk([values for _, values in parsed])
            if options.match_by
            else [None] * len(parsed)
        )
        spool.add(_chunk(ctx, importer, options, columns, matcher, parsed, found))
        done += len(parsed)
        session.flush()
        if progress is not None:
            progress(done)
    counts = spool.counts
    applied = not options.dry_run and not (
        options.policy is RowPolicy.ALL_OR_NOTHING and counts[Outcome.FAILED] > 0
    )
    if applied:
        outer.commit()
    else:
        outer.rollback()
    run.total = sum(counts.values())
    run.created, run.updated = counts[Outcome.CREATED], counts[Outcome.UPDATED]
    run.unchanged, run.failed = counts[Outcome.UNCHANGED], counts[Outcome.FAILED]
    run.applied = applied
    session.add(run)
    session.flush()
    for part in batched(spool.rows(), 1000):
        for result in part:
            result["run_id"] = run.id
            if not applied:  # nothing was written: no records, no images
                result["before"] = result["after_hash"] = None
                if result["outcome"] == Outcome.CREATED:
                    result["record_id"] = None
        session.connection().execute(insert(ImportRow), part)  # plain rows: no ORM needed
    return ImportReport(run, spool.failed, match)


def _chunk(
    ctx: CallerContext,
    importer: Importer,
    options: ImportOptions,
    columns: Mapping[str, ImportColumn],
    matcher: _Matcher,
    parsed: list[tuple[int, dict[str, str]]],
    found: list[Any | CellError | None],
) -> list[dict[str, Any]]:
    """One chunk's rows, in file order. New records go in bulk: each row is prepared
    (checked, nothing written), then the valid ones are created with their record events
    deferred and flushed together — one flush per chunk instead of one per row. If any of
    them fails at that point, the bulk is rolled back and those rows are replayed one by one
    (each under its own savepoint), so a bad row still costs only itself. Updates, and rows
    that name a record another row of the chunk creates, take the row-by-row path."""
    slots: list[dict[str, Any] | None] = [None] * len(parsed)
    bulk: list[tuple[int, Any]] = []
    creating: set[tuple[str, str]] = set()
    later: list[int] = []
    for i, ((number, values), record) in enumerate(zip(parsed, found, strict=True)):
        keys = {(k, v) for k in options.match_by if (v := importer.match_value(k, values))}
        if record is not None or options.mode is ImportMode.UPDATE:
            later.append(i)
            continue
        if keys & creating:  # the chunk creates it first: match it afterwards
            later.append(i)
            continue
        try:
            _require(columns, values)
            bulk.append((i, importer.prepare(ctx, options.variant, values)))
            creating |= keys
        except RowInvalid as exc:
            slots[i] = _result(number, Outcome.FAILED, errors=exc.errors, cells=values)
    if bulk and not _bulk_create(ctx, importer, options, matcher, parsed, bulk, slots):
        later = sorted(later + [i for i, _ in bulk])
    for i in later:
        number, values = parsed[i]
        record = found[i]
        if record is None and options.match_by:
            record = matcher.again(values)
        slots[i] = _one_row(ctx, importer, options, columns, matcher, number, values, record)
    return [slot for slot in slots if slot is not None]


def _bulk_create(
    ctx: CallerContext,
    importer: Importer,
    options: ImportOptions,
    matcher: _Matcher,
    parsed: list[tuple[int, dict[str, str]]],
    bulk: list[tuple[int, Any]],
    slots: list[dict[str, Any] | None],
) -> bool:
    """Create the prepared rows under one savepoint and one flush; ``False`` (and nothing
    kept) if any of them fails."""
    session = ctx.session
    savepoint = session.begin_nested()
    create_many: CreateMany | None = getattr(importer, "create_many", None)
    try:
        if create_many is not None:
            records = create_many(ctx, options.variant, [p for _, p in bulk])
            made = list(zip([i for i, _ in bulk], records, strict=True))
        else:
            with session.no_autoflush, events.deferred(ctx) as pending:
                made = [(i, importer.create(ctx, options.variant, p)) for i, p in bulk]
            session.flush()
            events.fire(ctx, pending)
        session.flush()
    except (GatewayError, RowInvalid, IntegrityError, DataError):
        savepoint.rollback()
        return False
    savepoint.commit()
    for i, record in made:
        number, values = parsed[i]
        slots[i] = _result(
            number,
            Outcome.CREATED,
            record_id=record.id,
            after_hash=fingerprint(importer.snapshot(ctx, record)),
        )
        matcher.remember(values, record)
    return True


def _require(columns: Mapping[str, ImportColumn], values: Mapping[str, str]) -> None:
    missing = [c for c in columns.values() if c.required and not values.get(c.key)]
    if missing:
        raise RowInvalid([CellError("REQUIRED", f"{c.label} is required", c.key) for c in missing])


def _result(number: int, outcome: Outcome, **given: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "row": number,
        "outcome": outcome.value,
        "record_id": None,
        "errors": None,
        "cells": None,
        "before": None,
        "after_hash": None,
        "undo": None,
    }
    result.update(given)
    if result["errors"] is not None:
        result["errors"] = [e.as_json() for e in result["errors"]]
        result["cells"] = dict(result["cells"] or {})
    return result


def _one_row(
    ctx: CallerContext,
    importer: Importer,
    options: ImportOptions,
    columns: Mapping[str, ImportColumn],
    matcher: _Matcher,
    number: int,
    values: Mapping[str, str],
    record: Any | CellError | None,
) -> dict[str, Any]:
    """One row under its own savepoint: an update, or a create replayed alone."""
    session = ctx.session
    savepoint = session.begin_nested()
    try:
        if isinstance(record, CellError):
            raise RowInvalid([record])
        if record is None and options.mode is ImportMode.UPDATE:
            raise RowInvalid([CellError("NOT_FOUND", "no record you may change matches this row")])
        if record is not None and options.mode is ImportMode.CREATE:
            raise RowInvalid(
                [CellError("CONFLICT", "a record with this value exists", options.match_by[0])]
            )
        before = None
        if record is None:
            _require(columns, values)
            target = importer.create(
                ctx, options.variant, importer.prepare(ctx, options.variant, values)
            )
            outcome = Outcome.CREATED
        else:
            target = record
            image = importer.snapshot(ctx, target)
            changed = importer.update(ctx, target, values)
            outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
            before = image if changed else None
        session.flush()
        after = (
            fingerprint(importer.snapshot(ctx, target))
            if outcome is not Outcome.UNCHANGED
            else None
        )
        savepoint.commit()
    except (GatewayError, RowInvalid, IntegrityError, DataError) as exc:
        savepoint.rollback()
        return _result(number, Outcome.FAILED, errors=_errors_of(exc, columns), cells=values)
    matcher.remember(values, target)
    return _result(number, outcome, record_id=target.id, before=before, after_hash=after)
