"""Writing spreadsheets safely (openpyxl).

Spreadsheet cells are never formulas: openpyxl turns any string starting with ``=`` into a
live formula, and spreadsheet apps also evaluate strings starting with ``+``, ``-`` or ``@``
(CSV/formula injection). Every string goes in as an explicit text cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def put(cell: Cell, value: Any) -> None:
    """Write a value; strings always as text, never as a formula. Control characters a
    workbook cannot hold (stored before inputs refused them) show as U+FFFD instead of
    failing the whole export."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def add_sheet(
    workbook: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Worksheet:
    sheet = workbook.create_sheet(title)
    for col, name in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=col)
        put(cell, name)
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            put(sheet.cell(row=r, column=c), value)
    sheet.freeze_panes = "A2"
    return sheet


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
