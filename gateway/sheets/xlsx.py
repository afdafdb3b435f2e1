"""Reading an xlsx's first worksheet as text cells, after :mod:`.zipcheck` passed it.

Two engines give the same cells (``tests/test_sheets_read.py`` reads files with both):

- **python-calamine** (Rust) reads 100k rows about 15 times faster than openpyxl
  (``bench/sheets_read.py``, ``bench/RESULTS.md``) but holds the sheet in memory: a dense
  grid of its extent (32 bytes a cell, empty or not) and the cells' text (at most about
  1.5 times the XML it parses — the sheet, shared strings, styles —, measured). It is used
  when the extent (last row and last column, from the inspection, which has already
  refused zip bombs) is within the row and column caps and that estimate within
  ``SheetLimits.fast_read_memory`` (:func:`fast_read_memory`): a sparse sheet with one far
  cell, or a huge one, streams instead — memory is bounded by what the reader would
  allocate, not by the file's size.
- **openpyxl** ``read_only=True, data_only=True`` streams any other sheet with flat memory.
  Its XML goes through defusedxml: openpyxl switches to it when defusedxml is installed and
  ``OPENPYXL_DEFUSEDXML`` is not ``False``; :func:`require_defusedxml` refuses to start
  otherwise. (No part of an accepted xlsx has a DTD anyway: :mod:`.zipcheck`.)

Formula cells are read as their cached value, never evaluated; a formula without one reads
empty and is noted, and so is an error cell (``#N/A``…), which reads empty too.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from gateway.sheets.table import BadFile, Cell, CellNote, SheetLimits, Table, tabulate
from gateway.sheets.zipcheck import Inspected, inspect_xlsx


def require_defusedxml() -> None:
    """Fail start-up if openpyxl would parse XML without defusedxml (DESIGN §6)."""
    from openpyxl.xml import functions

    for name in ("iterparse", "fromstring"):
        parser = getattr(functions, name)
        module = getattr(parser, "__module__", "") or ""
        if name == "fromstring" and module.startswith("lxml"):
            continue  # openpyxl's lxml parser is built with resolve_entities=False
        if not module.startswith("defusedxml"):
            raise RuntimeError(
                f"openpyxl parses XML with {module}.{name}, not defusedxml: install defusedxml "
                "and leave OPENPYXL_DEFUSEDXML unset"
            )


def as_text(value: Any) -> Cell:
    """A cell's value as the text an import reads: numbers without a spurious ``.0``,
    dates in ISO 8601 (a date-time at midnight is a date), booleans as TRUE/FALSE."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


#: What python-calamine holds per cell of the sheet's extent (its ``Data`` enum) and per
#: byte of XML it parses (the cells' values; 100k client rows: +80 MiB for 43 MiB of XML
#: and 0.9 M cells, ``bench/RESULTS.md``), rounded up.
CELL_BYTES = 32
XML_FACTOR = 1.5


def fast_read_memory(found: Inspected) -> int:
    """The bytes python-calamine would hold for the inspected sheet (an upper estimate)."""
    cells = found.last_row * max(found.last_column, 1)
    return int(CELL_BYTES * cells + XML_FACTOR * found.read_size)


def _fits_memory(found: Inspected, limits: SheetLimits) -> bool:
    return (
        found.last_row <= limits.max_rows + 1_000
        and found.last_column <= limits.max_columns
        and fast_read_memory(found) <= limits.fast_read_memory
    )


def _calamine_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine's own errors (CalamineError, …) name no stable type
        raise BadFile("the workbook is damaged", reason="CORRUPT") from exc
    start = sheet.start
    # iter_rows gives rows from the first row of the sheet, columns from the first used one.
    pad = [None] * (start[1] if start else 0)
    for index, row in enumerate(sheet.iter_rows()):
        yield index + 1, pad + list(row)


def _openpyxl_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise BadFile("the workbook is damaged", reason="CORRUPT") from exc
    sheet.reset_dimensions()  # the stored dimension may be wrong: never trust it to stop early
    try:
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            yield index + 1, list(row)
    finally:
        workbook.close()


def read_xlsx(data: bytes, limits: SheetLimits, *, engine: str | None = None) -> Table:
    """The first worksheet of an xlsx (see the module doc). ``engine`` forces one
    (``"calamine"`` or ``"openpyxl"``: tests and the benchmark)."""
    found = inspect_xlsx(data, limits)
    if engine is None:
        engine = "calamine" if _fits_memory(found, limits) else "openpyxl"
    source = _calamine_rows(data) if engine == "calamine" else _openpyxl_rows(data)
    blanked: dict[int, dict[int, str]] = {}
    for row, column in found.bare_formulas:
        blanked.setdefault(row, {})[column] = "a formula without a saved value, read as empty"
    for row, column in found.error_cells:
        blanked.setdefault(row, {})[column] = "an error value (#N/A…), read as empty"
    notes = [
        CellNote(row, column, message)
        for row, columns in sorted(blanked.items())
        for column, message in sorted(columns.items())
    ]

    def cells() -> Iterator[tuple[int, list[Cell]]]:
        for number, values in source:
            texts = [as_text(v) for v in values]
            for column in blanked.get(number, ()):
                if column <= len(texts):
                    texts[column - 1] = None
            yield number, texts

    return tabulate(cells(), limits, format="xlsx", notes=notes, reader=engine)
