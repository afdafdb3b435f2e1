"""The import's GraphQL surface, read side: which columns an entity's files may carry, and
the caller's import reports (an administrator sees every report of the organisation).

A report row names its record through the record's own access: ``record`` is the record
only while the caller may still see it (a client reassigned since reads as ``null``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select, select
from strawberry.types import Info

from gateway.errors import BadUserInput, ModuleDisabled
from gateway.graphql.common import global_id, parse_global_id
from gateway.graphql.connection import Connection
from gateway.graphql.node import Node
from gateway.imports.models import ImportRow, ImportRun
from gateway.imports.spec import Importer, ImportMode, Outcome, RowPolicy
from gateway.lists import Order, Window, list_records

strawberry.enum(
    ImportMode,
    name="ImportMode",
    description="CREATE: every row is a new record; UPDATE: every row must match a record you "
    "may change; CREATE_OR_UPDATE: update the match, create otherwise.",
)
strawberry.enum(
    RowPolicy,
    name="ImportRowPolicy",
    description="ONLY_VALID_ROWS writes the good rows and reports the bad ones; "
    "ALL_OR_NOTHING writes nothing when any row fails.",
)
strawberry.enum(Outcome, name="ImportOutcome")


def importer_for(info: Info, entity: str) -> Importer:
    """The importer of ``entity``, if its module is enabled for the caller's tenant."""
    ctx = info.context
    registry = ctx.gateway.registry
    importer = registry.importers.get(entity)
    if importer is None:
        raise BadUserInput(f"{entity!r} cannot be imported", field="entity")
    if registry.entity_module[entity] not in ctx.enabled_modules:
        raise ModuleDisabled(f"the module of {entity!r} is switched off", field="entity")
    return importer


@strawberry.type(name="ImportColumn", description="A column an import file may carry.")
class ImportColumnType:
    key: str = strawberry.field(description="What the mapping names (a field's name).")
    label: str = strawberry.field(description="The template's header.")
    required: bool = strawberry.field(description="Needed to create a record.")
    format: str
    multiple: bool = strawberry.field(description="Several values, separated by commas.")
    match: bool = strawberry.field(description="Can match rows to existing records.")


@strawberry.type(name="ImportCellError")
class CellErrorType:
    code: str
    message: str
    column: str | None = strawberry.field(description="The column key, if on one cell.")


@strawberry.type(name="ImportCell")
class ImportCellType:
    column: str = strawberry.field(description="The column key.")
    value: str


@strawberry.type(name="ImportRowResult", description="One row of an import file, as handled.")
class ImportRowType:
    record_row: strawberry.Private[ImportRow]

    @strawberry.field(description="The row's number in the file (the header is row 1).")
    def row(self) -> int:
        return self.record_row.row

    @strawberry.field
    def outcome(self) -> Outcome:
        return Outcome(self.record_row.outcome)

    @strawberry.field
    def errors(self) -> list[CellErrorType]:
        return [CellErrorType(**e) for e in self.record_row.errors or []]

    @strawberry.field(description="The row's cells, kept for failed rows (to fix and retry).")
    def cells(self) -> list[ImportCellType]:
        return [ImportCellType(column=k, value=v) for k, v in (self.record_row.cells or {}).items()]

    @strawberry.field(description="What undo did with this row's record, once undone.")
    def undo(self) -> str | None:
        return self.record_row.undo

    @strawberry.field(description="The record, while you may see it.")
    def record(self, info: Info) -> Node | None:
        record_id = self.record_row.record_id
        if record_id is None:
            return None
        run = info.context.loader("imports.runs", lambda ids: _runs(info, ids)).get(
            self.record_row.run_id
        )
        entity = info.context.gateway.registry.entities.get(run.entity) if run else None
        if entity is None or entity.graphql_factory is None:
            return None
        found = info.context.session.get(entity.model, record_id)
        return entity.graphql_factory(found) if found is not None else None


def _runs(info: Info, ids: list[int]) -> dict[int, ImportRun]:
    return {
        r.id: r
        for r in info.context.session.scalars(select(ImportRun).where(ImportRun.id.in_(ids)))
    }


@strawberry.type(name="ImportRun", description="An import's report.")
class ImportRunType:
    record: strawberry.Private[ImportRun]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ImportRun", self.record.id)

    @strawberry.field
    def entity(self) -> str:
        return self.record.entity

    @strawberry.field
    def variant(self) -> str:
        return self.record.variant

    @strawberry.field
    def mode(self) -> ImportMode:
        return ImportMode(self.record.mode)

    @strawberry.field
    def policy(self) -> RowPolicy:
        return RowPolicy(self.record.policy)

    @strawberry.field
    def dry_run(self) -> bool:
        return self.record.dry_run

    @strawberry.field(description="True when the rows were written (not a dry run, not refused).")
    def applied(self) -> bool:
        return self.record.applied

    @strawberry.field
    def filename(self) -> str:
        return self.record.filename

    @strawberry.field
    def total(self) -> int:
        return self.record.total

    @strawberry.field
    def created(self) -> int:
        return self.record.created

    @strawberry.field
    def updated(self) -> int:
        return self.record.updated

    @strawberry.field
    def unchanged(self) -> int:
        return self.record.unchanged

    @strawberry.field
    def failed(self) -> int:
        return self.record.failed

    @strawberry.field(description="Headers of the file that fed no column.")
    def unmatched_headers(self) -> list[str]:
        return list(self.record.unmatched_headers or [])

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def undone_at(self) -> datetime | None:
        return self.record.undone_at

    @strawberry.field(description="The rows, in file order; by outcome if given.")
    def rows(
        self,
        info: Info,
        outcome: list[Outcome] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ImportRowType]:
        ctx = info.context
        stmt: Select[Any] = select(ImportRow).where(ImportRow.run_id == self.record.id)
        if outcome:
            stmt = stmt.where(ImportRow.outcome.in_([o.value for o in outcome]))
        listed = list_records(
            ctx,
            ImportRow,
            "ImportRowResult",
            stmt,
            order=Order(ImportRow.row, False),
            window=Window.of(ctx.gateway.settings, first, after, last, before),
        )
        return Connection.of(listed, lambda r: ImportRowType(record_row=r))


def visible_runs(info: Info) -> Select[Any]:
    """The caller's reports; an administrator's: the organisation's."""
    caller = info.context.require_caller()
    stmt = select(ImportRun).where(ImportRun.tenant_id == caller.tenant_id)
    return stmt if caller.is_admin else stmt.where(ImportRun.user_id == caller.user_id)


@strawberry.field(description="The columns a file of this entity and variant may carry.")
def import_columns(info: Info, entity: str, variant: str = "") -> list[ImportColumnType]:
    info.context.require_caller()
    importer = importer_for(info, entity)
    if variant not in importer.variants and (importer.variants or variant):
        raise BadUserInput(f"no such variant: {variant!r}", field="variant")
    return [
        ImportColumnType(
            key=c.key,
            label=c.label,
            required=c.required,
            format=c.format,
            multiple=c.multiple,
            match=c.match,
        )
        for c in importer.columns(info.context, variant)
    ]


@strawberry.field(description="Your imports, newest first (an administrator: everyone's).")
def import_runs(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ImportRunType]:
    ctx = info.context
    listed = list_records(
        ctx,
        ImportRun,
        "ImportRun",
        visible_runs(info),
        order=Order(ImportRun.id, True),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
    )
    return Connection.of(listed, lambda r: ImportRunType(record=r))


@strawberry.field(description="One of your imports' report.")
def import_run(info: Info, id: strawberry.ID) -> ImportRunType | None:
    pk = parse_global_id(id, "ImportRun")
    found = info.context.session.scalar(visible_runs(info).where(ImportRun.id == pk))
    return ImportRunType(record=found) if found is not None else None


QUERY_FIELDS = [import_columns, import_runs, import_run]
