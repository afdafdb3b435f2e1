"""Imports and their undo as background jobs (``core.import``, ``core.undo_import``).

Each runs as the user who started it, in one transaction: the records, the report and the
result workbook commit together or not at all — a worker killed mid-import leaves nothing,
and the job is retried from the start."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import Any

from gateway.audit import trail as audit_trail
from gateway.context import CallerContext, Via
from gateway.contract import JobKind
from gateway.errors import ModuleDisabled
from gateway.excel import XLSX_MIME
from gateway.files.models import FilePurpose
from gateway.files.services import open_file, store_file
from gateway.imports.engine import ImportReport, run_import
from gateway.imports.spec import Importer, ImportMode, ImportOptions, RowPolicy
from gateway.imports.tape import RowTape
from gateway.imports.undo import undo_import
from gateway.jobs.handle import JobError, JobHandle, JobResult
from gateway.sheets import FailedRow, read_table, write_results
from gateway.sheets.results import CellError as ResultCellError

IMPORT_JOB = "core.import"
UNDO_JOB = "core.undo_import"
#: Starting an import or an undo (besides the entity's own create/update/delete rights).
IMPORT_PERMISSION = "core.imports.run"
#: Per-row errors copied into the job's own errors (the report has them all).
JOB_ERRORS = 100


def options_of(params: Mapping[str, Any]) -> ImportOptions:
    return ImportOptions(
        entity=params["entity"],
        variant=params.get("variant", ""),
        mode=ImportMode(params.get("mode", ImportMode.CREATE)),
        policy=RowPolicy(params.get("policy", RowPolicy.ONLY_VALID_ROWS)),
        dry_run=bool(params.get("dry_run", False)),
        match_by=tuple(params.get("match_by", ())),
        mapping=dict(params.get("mapping", {})),
        defaults=dict(params.get("defaults", {})),
    )


def importer_of(ctx: CallerContext, entity: str) -> Importer:
    """The entity's importer, if its module is (still) on for the user's organisation: a
    module switched off between the upload and the run refuses the job."""
    registry = ctx.gateway.registry
    if registry.entity_module.get(entity) not in ctx.enabled_modules:
        raise ModuleDisabled(f"the module of {entity!r} is switched off", field="entity")
    importer: Importer = registry.importers[entity]
    return importer


def _run_import(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    ctx.session.info[audit_trail.VIA] = Via.IMPORT.value  # the audit trail's path
    options = options_of(params)
    importer = importer_of(ctx, options.entity)
    source = open_file(ctx, params["file_id"])
    content, filename = source.content, source.name
    table = read_table(content, filename)
    header = table.header
    tape = RowTape()
    try:
        # The whole file is read (onto the disk tape) before any row is imported: a file
        # refused while reading (too many rows, cells beyond the header…) fails the job
        # at once with its typed error, and the reader's memory is gone before the writes.
        tape.fill((row.number, row.values) for row in table.rows)
        del table
        report = run_import(
            ctx,
            importer,
            header,
            tape.replay(),
            options,
            filename=filename,
            file_id=source.id,
            job_id=job.id,
            progress=job.progress,
        )
        workbook = _workbook(tape, header, report)
    finally:
        tape.close()
    results = store_file(
        ctx,
        f"{PurePath(filename).stem} - results.xlsx",
        XLSX_MIME,
        workbook,
        FilePurpose.GENERATED,
    )
    run = report.run
    run.result_file_id = results.id
    errors = [
        JobError(e["code"], e["message"], number, e["column"])
        for number, found in sorted(report.failed.items())
        for e in found
    ][:JOB_ERRORS]
    return JobResult(
        counts={
            "total": run.total,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "failed": run.failed,
            "written": run.created + run.updated if run.applied else 0,
        },
        file_id=results.id,
        errors=errors,
    )


def _workbook(tape: RowTape, header: list[str | None], report: ImportReport) -> bytes:
    """Imported / With errors / Summary, from two replays of the rows the import read
    (kept on disk, not in memory): each error on the cell of the column it names."""
    position = {key: i + 1 for i, key in enumerate(report.header.keys) if key is not None}
    failed_rows = report.failed

    def imported() -> Iterator[tuple[int, list[str | None]]]:
        for number, values in tape.replay():
            if number not in failed_rows:
                yield number, values

    def failed() -> Iterator[FailedRow]:
        for number, values in tape.replay():
            found = failed_rows.get(number)
            if found is not None:
                errors = [
                    ResultCellError(position.get(e["column"] or ""), e["message"]) for e in found
                ]
                yield FailedRow(number, values, errors)

    run = report.run
    summary = [
        ("Rows", run.total),
        ("Created", run.created),
        ("Updated", run.updated),
        ("Unchanged", run.unchanged),
        ("With errors", run.failed),
        ("Written", run.created + run.updated if run.applied else 0),
    ]
    return write_results(header, imported(), failed(), summary)


def _undo(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    ctx.session.info[audit_trail.VIA] = Via.IMPORT.value
    ctx.session.info[audit_trail.REASON] = "undo_import"
    from gateway.imports.undo import find_run

    run = find_run(ctx, int(params["run_id"]))
    importer = importer_of(ctx, run.entity)
    report = undo_import(ctx, importer, run.id, progress=job.progress)
    return JobResult(
        counts=dict(report.counts),
        errors=[
            JobError(what, f"record {record_id} was left alone ({what.lower()})", row)
            for row, record_id, what, _outcome in report.left_alone
        ][:JOB_ERRORS],
    )


KINDS = [
    JobKind(IMPORT_JOB, _run_import, title="Import records", permission=IMPORT_PERMISSION),
    JobKind(UNDO_JOB, _undo, title="Undo an import", permission=IMPORT_PERMISSION),
]
