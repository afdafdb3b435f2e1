"""Importing records from spreadsheets: the kernel's run, report and undo; modules provide an
:class:`~gateway.imports.spec.Importer` per entity (see ``docs/architecture.md``, Imports)."""

from gateway.imports.engine import fingerprint, run_import
from gateway.imports.mapping import HeaderMatch, fold, match_header, suggest
from gateway.imports.models import ImportRow, ImportRun
from gateway.imports.spec import (
    CellError,
    ImportColumn,
    Importer,
    ImportMode,
    ImportOptions,
    Outcome,
    RowInvalid,
    RowPolicy,
    records_by_id,
    text_lengths,
)
from gateway.imports.undo import UndoReport, UndoResult, find_run, undo_import

__all__ = [
    "CellError",
    "HeaderMatch",
    "ImportColumn",
    "ImportMode",
    "ImportOptions",
    "ImportRow",
    "ImportRun",
    "Importer",
    "Outcome",
    "RowInvalid",
    "RowPolicy",
    "UndoReport",
    "UndoResult",
    "find_run",
    "fingerprint",
    "fold",
    "match_header",
    "records_by_id",
    "run_import",
    "suggest",
    "text_lengths",
    "undo_import",
]
