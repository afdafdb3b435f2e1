"""Starting an import: look at the file first (``previewImport``: its headers, how they
would map, a few rows), then ``startImport`` — a dry run first if you want the exact counts
a real run would give — and, later, ``undoImport``. Both run as background jobs of the
caller (``Job.importRun`` is the report once it ran)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.errors import BadUserInput, GatewayError
from gateway.files.services import open_file
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.imports.graphql import importer_for
from gateway.imports.jobs import IMPORT_JOB, IMPORT_PERMISSION, UNDO_JOB
from gateway.imports.mapping import match_header
from gateway.imports.spec import ImportMode, RowPolicy
from gateway.imports.undo import find_run
from gateway.jobs.graphql import JobPayload, JobType
from gateway.jobs.service import defer_job
from gateway.sheets import read_table

#: Rows a preview shows.
PREVIEW_ROWS = 5


@strawberry.input(description='A header of the file and the column it feeds ("": none).')
class ImportMappingInput:
    header: str
    column: str


@strawberry.input(description="A value every row gets unless it sets its own (a pre-filter).")
class ImportDefaultInput:
    column: str
    value: str


@strawberry.input
class StartImportInput:
    file_id: strawberry.ID = strawberry.field(description="An uploaded file (POST /files).")
    entity: str = strawberry.field(description="What the rows are, e.g. contact.")
    variant: str = ""
    mode: ImportMode = ImportMode.CREATE
    policy: RowPolicy = RowPolicy.ONLY_VALID_ROWS
    dry_run: bool = strawberry.field(
        default=False, description="Do everything a run would do, report it, keep nothing."
    )
    match_by: list[str] = strawberry.field(
        default_factory=list,
        description="Column keys that match rows to existing records, in order (e.g. "
        "fiscalId, email, id); needed to update.",
    )
    mapping: list[ImportMappingInput] = strawberry.field(default_factory=list)
    defaults: list[ImportDefaultInput] = strawberry.field(
        default_factory=list,
        description="Chosen before the upload: e.g. the owner, source or segment of every row.",
    )


@strawberry.type(name="ImportHeader")
class ImportHeaderType:
    header: str
    column: str | None = strawberry.field(description="The column it would feed, if any.")


@strawberry.type(name="ImportPreview")
class ImportPreviewType:
    format: str = strawberry.field(description="xlsx or csv.")
    encoding: str | None
    delimiter: str | None
    headers: list[ImportHeaderType]
    missing_required: list[str] = strawberry.field(
        description="Labels of required columns nothing feeds (a file that creates needs them)."
    )
    sample: list[list[str | None]] = strawberry.field(description="The first rows, as read.")


def _mapping(given: list[ImportMappingInput]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in given:
        if item.header in mapping:
            raise BadUserInput(f"the header {item.header!r} is mapped twice", field="mapping")
        mapping[item.header] = item.column
    return mapping


@guarded(
    permission=IMPORT_PERMISSION,
    description="A file's headers, the columns they would feed (with your mapping) and its "
    "first rows: the mapping step before startImport.",
)
def preview_import(
    info: Info,
    file_id: strawberry.ID,
    entity: str,
    variant: str = "",
    mapping: list[ImportMappingInput] | None = None,
) -> ImportPreviewType:
    ctx = info.context
    ctx.require_caller()
    importer = importer_for(info, entity)
    columns = list(importer.columns(ctx, variant))
    if not columns:
        raise BadUserInput(f"no such variant: {variant!r}", field="variant")
    given = _mapping(mapping or [])
    source = open_file(ctx, file_id)
    table = read_table(source.content, source.name)
    header = [h or "" for h in table.header]
    match = match_header(columns, header, given, {}, require=False)
    fed = {key for key in match.keys if key}
    sample = [row.values for _, row in zip(range(PREVIEW_ROWS), table.rows, strict=False)]
    return ImportPreviewType(
        format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=[
            ImportHeaderType(header=h, column=k) for h, k in zip(header, match.keys, strict=True)
        ],
        missing_required=[c.label for c in columns if c.required and c.key not in fed],
        sample=sample,
    )


@guarded(
    permission=IMPORT_PERMISSION,
    description="Import a file as a background job of yours: rows are written through the "
    "module's own services with your access; the job's importRun is the report.",
)
def start_import(info: Info, input: StartImportInput) -> JobPayload:
    ctx = info.context
    ctx.require_caller()
    try:
        importer = importer_for(info, input.entity)
        columns = {c.key: c for c in importer.columns(ctx, input.variant)}
        if not columns:
            raise BadUserInput(f"no such variant: {input.variant!r}", field="variant")
        for key in input.match_by:
            if key not in columns or not columns[key].match:
                raise BadUserInput(f"not a match key: {key!r}", field="matchBy")
        if input.mode is not ImportMode.UPDATE and not importer.creatable(input.variant):
            raise BadUserInput(
                f"files of {input.variant!r} only update: use mode UPDATE", field="mode"
            )
        if input.mode is not ImportMode.CREATE and not input.match_by:
            raise BadUserInput("updating needs at least one match key", field="matchBy")
        defaults = {d.column: d.value for d in input.defaults}
        source = open_file(ctx, input.file_id)
        header = read_table(source.content, source.name).header
        mapping = _mapping(input.mapping)
        match = match_header(
            list(columns.values()),
            header,
            mapping,
            defaults,
            require=input.mode is ImportMode.CREATE,
        )
        importer.check_writable(ctx, [k for k in match.keys if k] + list(defaults))
    except GatewayError as exc:
        return JobPayload(errors=[UserError.from_exception(exc)])
    params: dict[str, Any] = {
        "file_id": source.id,
        "entity": input.entity,
        "variant": input.variant,
        "mode": input.mode.value,
        "policy": input.policy.value,
        "dry_run": input.dry_run,
        "match_by": list(input.match_by),
        "mapping": mapping,
        "defaults": defaults,
    }
    return mutate(
        ctx,
        JobPayload,
        lambda _session: defer_job(ctx, IMPORT_JOB, params),
        lambda job: JobPayload(job=JobType(record=job)),
    )


@guarded(
    permission=IMPORT_PERMISSION,
    description="Undo a whole import as a background job: records it created are removed and "
    "records it updated get their earlier values back, except those edited since (named in "
    "the job's errors and the report's rows, and left alone).",
)
def undo_import(info: Info, id: strawberry.ID) -> JobPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Any) -> Any:
        run = find_run(ctx, parse_global_id(id, "ImportRun"))
        if not run.applied:
            raise BadUserInput("this import wrote nothing (a dry run, or refused)", field="id")
        if run.undone_at is not None:
            raise BadUserInput("this import was already undone", field="id")
        return defer_job(ctx, UNDO_JOB, {"run_id": run.id})

    return mutate(ctx, JobPayload, work, lambda job: JobPayload(job=JobType(record=job)))


QUERY_FIELDS = [preview_import]
MUTATION_FIELDS = [start_import, undo_import]
