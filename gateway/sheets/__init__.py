"""Spreadsheets in and out: hostile-file-proof reading (xlsx and CSV), templates with
validations from the tenant's catalogues, and the result workbook of an import.

Reading: :func:`read_table` (``reading.py``) → :class:`Table` (``table.py``); the zip is
inspected first (``zipcheck.py``), then read by ``xlsx.py`` or ``csvread.py``.
"""

from __future__ import annotations

from gateway.sheets.reading import read_table
from gateway.sheets.results import CellError, FailedRow, write_results
from gateway.sheets.table import (
    BadFile,
    Cell,
    CellNote,
    FileTooLarge,
    Row,
    SheetLimits,
    Table,
    column_letter,
)
from gateway.sheets.template import SheetColumn, SheetTemplate, render_template
from gateway.sheets.xlsx import require_defusedxml

require_defusedxml()

__all__ = [
    "BadFile",
    "Cell",
    "CellError",
    "CellNote",
    "FailedRow",
    "FileTooLarge",
    "Row",
    "SheetColumn",
    "SheetLimits",
    "SheetTemplate",
    "Table",
    "column_letter",
    "read_table",
    "render_template",
    "write_results",
]
