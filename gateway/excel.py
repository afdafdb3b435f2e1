"""Writing spreadsheets safely (openpyxl).

Spreadsheet cells are never formulas: openpyxl turns any string starting with ``=`` into a
live formula, and spreadsheet apps also evaluate strings starting with ``+``, ``-`` or ``@``
(CSV/formula injection). Every string goes in as an explicit text cell.

Cells hold whatever the database holds without breaking the file (``cell_value``): strings
show the characters XML cannot carry as U+FFFD (``gateway.text.printable``) and are cut at
Excel's 32,767 characters; numbers that are not finite and dates Excel cannot show (before 1900)
become text; date-times are written in UTC.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from gateway.text import printable

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The most characters an Excel cell holds; longer text makes Excel "repair" the file.
CELL_LIMIT = 32767
#: Excel's 1900 date system starts here; earlier dates would be negative serial numbers.
FIRST_EXCEL_DATE = date(1900, 1, 1)


def _not_finite(value: Decimal | float) -> str:
    """NaN (signalling or not) or an infinity, as text: a NaN cell would not open."""
    if value.is_nan() if isinstance(value, Decimal) else math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def cell_value(value: Any) -> Any:
    """``value`` as a cell can hold it, whatever the database held (see the module doc)."""
    if isinstance(value, str):
        text = printable(value)
        return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"
    if isinstance(value, Decimal) and not value.is_finite():
        return _not_finite(value)
    if isinstance(value, float) and not math.isfinite(value):
        return _not_finite(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value if value.date() >= FIRST_EXCEL_DATE else value.isoformat()
    if isinstance(value, date):
        return value if value >= FIRST_EXCEL_DATE else value.isoformat()
    return value


def put(cell: Cell, value: Any) -> None:
    """Write a value; strings always as text, never as a formula."""
    value = cell_value(value)
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
