"""What an import is asked to do, and what a module provides so its records can be imported.

The kernel owns the run (header matching, modes, dry run, row policy, per-row results,
before-images, undo); a module owns its entity through an :class:`Importer`: which columns
exist, how a row becomes the service's input, how existing records are found, and how a
record is snapshotted and restored. Importers call the module's own services, so an import
sees and changes exactly what its user may — the same path as GraphQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from gateway.context import CallerContext


class ImportMode(StrEnum):
    CREATE = "CREATE"  # every row makes a new record
    UPDATE = "UPDATE"  # every row must match a record the caller may change
    CREATE_OR_UPDATE = "CREATE_OR_UPDATE"  # update the match, create otherwise


class RowPolicy(StrEnum):
    ONLY_VALID_ROWS = "ONLY_VALID_ROWS"  # write the good rows, report the bad ones
    ALL_OR_NOTHING = "ALL_OR_NOTHING"  # one bad row: nothing is written


class Outcome(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"  # matched, and the row would change nothing
    FAILED = "FAILED"


@dataclass(frozen=True)
class ImportColumn:
    """One column a file may carry: ``key`` is what the importer reads (the GraphQL field
    name), ``label`` the template's header; headers are also matched against ``aliases``."""

    key: str
    label: str
    required: bool = False
    #: Shown in templates' comments and in errors ("a date like 2026-01-31").
    format: str = ""
    #: May hold several values separated by commas (emails, phones, tags).
    multiple: bool = False
    aliases: tuple[str, ...] = ()
    #: A match key (fiscal ID, email, id): rows are matched to existing records by it.
    match: bool = False


@dataclass(frozen=True)
class CellError:
    """A problem with one row, on its cell when it has one (``column`` is a column key)."""

    code: str
    message: str
    column: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "column": self.column}


@dataclass(frozen=True)
class ImportOptions:
    entity: str
    variant: str = ""
    mode: ImportMode = ImportMode.CREATE
    policy: RowPolicy = RowPolicy.ONLY_VALID_ROWS
    dry_run: bool = False
    #: Match keys in order of preference (``fiscalId``, ``email``, ``id``…).
    match_by: tuple[str, ...] = ()
    #: Header → column key, for files whose headers the template did not write; a header
    #: mapped to ``""`` is ignored.
    mapping: Mapping[str, str] = field(default_factory=dict)
    #: Values every row gets unless the row sets them (the pre-filters chosen before the
    #: upload: managing company, user, source, segment…), by column key.
    defaults: Mapping[str, str] = field(default_factory=dict)


class Importer(Protocol):
    """A module's side of an import (registered with the ``crm_importers`` hook)."""

    #: The access-controlled entity key (``"contact"``); also the import's ``entity``.
    entity: str

    @property
    def variants(self) -> Sequence[str]:
        """Variants (``"company"``, ``"individual"``); empty: one kind only. Read-only, so
        a class attribute holding a tuple satisfies it."""
        ...

    def columns(self, ctx: CallerContext, variant: str) -> Sequence[ImportColumn]:
        """The columns a file of ``variant`` may carry (custom fields included)."""
        ...

    def creatable(self, variant: str) -> bool:
        """Whether a file of ``variant`` may create records (some only name existing ones)."""
        ...

    def check_writable(self, ctx: CallerContext, keys: Sequence[str]) -> None:
        """Refuse (``FORBIDDEN``, naming the column) a file whose columns the caller's
        field rules do not let them write — before any row is read."""
        ...

    def match_value(self, key: str, row: Mapping[str, str]) -> str | None:
        """The row's value for match key ``key`` in the form it is stored and compared in
        (an email lower-cased, a fiscal ID without spaces), or ``None``."""
        ...

    def find(self, ctx: CallerContext, key: str, values: set[str]) -> dict[str, list[Any]]:
        """The records ``ctx`` may see whose ``key`` is one of ``values`` (one query)."""
        ...

    def prepare(self, ctx: CallerContext, variant: str, row: Mapping[str, str]) -> Any:
        """A new record's input from a row, checked as far as it can be without writing:
        raises :class:`RowInvalid` with every problem of the row, changes nothing."""
        ...

    def create(self, ctx: CallerContext, variant: str, prepared: Any) -> Any:
        """Create a record from :meth:`prepare`'s input through the module's own create
        service. Imports call it for many rows before one flush (record events are deferred
        meanwhile); a failure rolls the chunk back and it is replayed row by row."""
        ...

    def update(self, ctx: CallerContext, record: Any, row: Mapping[str, str]) -> bool:
        """Update ``record`` from the row's non-empty cells; ``False`` if nothing changed."""
        ...

    def snapshot(self, ctx: CallerContext, record: Any) -> dict[str, Any]:
        """The record's importable state as JSON (the before-image of an update)."""
        ...

    def restore(self, ctx: CallerContext, record: Any, image: Mapping[str, Any]) -> None:
        """Put a before-image back (undo of an update), through the update service."""
        ...

    def delete(self, ctx: CallerContext, record: Any) -> None:
        """Remove a record the import created (undo), through the delete service."""
        ...

    def get(self, ctx: CallerContext, record_id: int) -> Any | None:
        """A record by id, if ``ctx`` may see it."""
        ...


class CreateMany(Protocol):
    """An importer's optional ``create_many(ctx, variant, prepared)``: records for many
    :meth:`Importer.prepare` inputs at once through the module's bulk create service (the
    same rules as :meth:`Importer.create`, one INSERT per table), their record events fired.
    The records returned hold exactly what was written: the import fingerprints them for
    undo without reading them back. Without it, rows are created one by one and flushed
    together."""

    def __call__(self, ctx: CallerContext, variant: str, prepared: Sequence[Any]) -> list[Any]: ...


class Preload(Protocol):
    """An importer's optional ``preload(ctx, record_ids)``: load those records, and what
    :meth:`Importer.snapshot` reads of them, into the session in a few statements (as
    ``ctx`` may see them), so that undoing an import does not read each record and its
    relations one by one. :meth:`Importer.get` then finds them in the session, as long as
    the caller holds the list returned (a session holds its records weakly)."""

    def __call__(self, ctx: CallerContext, record_ids: Sequence[int]) -> Sequence[Any]: ...


class RowInvalid(Exception):
    """A row the importer refuses, with every problem found on it (not just the first)."""

    def __init__(self, errors: Sequence[CellError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def records_by_id(
    ctx: CallerContext, model: type[Any], type_name: str, values: set[str]
) -> dict[str, list[Any]]:
    """An importer's ``find`` for the ``id`` match key: each value (a global ID of
    ``type_name`` or a plain key) → the record ``ctx`` may see, in one query. Values that
    are not IDs match nothing."""
    from sqlalchemy import select

    from gateway.errors import BadUserInput
    from gateway.graphql.common import parse_global_id

    by_pk: dict[int, str] = {}
    for value in values:
        try:
            pk = int(value) if value.isdigit() else parse_global_id(value, type_name)
        except (BadUserInput, ValueError):
            continue
        by_pk[pk] = value
    found: dict[str, list[Any]] = {}
    for record in ctx.session.scalars(select(model).where(model.id.in_(by_pk))):
        found.setdefault(by_pk[record.id], []).append(record)
    return found


def text_lengths(model: type[Any]) -> dict[str, int]:
    """Attribute → the length of its ``String(n)`` column, for an importer to check each
    cell against before any INSERT: PostgreSQL refuses a longer value (the statement fails),
    SQLite would store it — a per-cell error either way, the same on both engines."""
    from sqlalchemy import String, inspect

    return {
        prop.key: column.type.length
        for prop in inspect(model).column_attrs
        if isinstance((column := prop.columns[0]).type, String) and column.type.length
    }
