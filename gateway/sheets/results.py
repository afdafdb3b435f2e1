"""The result workbook of an import: "Imported", "With errors" and "Summary".

Written in openpyxl's write-only mode, so a 100k-row result keeps memory flat. Every
value goes through :func:`gateway.excel.put` (strings as text: a cell starting with
``=``, ``+``, ``-`` or ``@`` never becomes a formula). On "With errors", each error sits on
its own cell as a comment with a fill, and all of a row's errors are also listed in a last
"Errors" column (errors about no column in particular only there).

The "Imported" rows — usually all of a file's rows — are written as sheet XML directly and
streamed into openpyxl's workbook (:func:`_splice_rows`): openpyxl's cell objects cost
more than the import itself (~0.15 ms a row). The XML is what openpyxl writes for them:
inline text cells (never a formula), the file's row number first.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from gateway.excel import cell_value, put, to_bytes
from gateway.iterables import batched
from gateway.sheets.table import Cell, column_letter

ERROR_FILL = PatternFill("solid", start_color="F8CBAD")
#: Bad cells that also get their message as a comment. openpyxl keeps comments in memory
#: until the file is saved, so past this many rows a bad cell is only filled (its message
#: stays in the row's "Errors" column): memory stays bounded for a file of bad rows.
MAX_COMMENTED_ROWS = 5_000


@dataclass(frozen=True)
class CellError:
    #: 1-based column of the file's header; ``None``: the row as a whole.
    column: int | None
    message: str


@dataclass(frozen=True)
class FailedRow:
    number: int
    values: Sequence[Cell]
    errors: Sequence[CellError]


def _cell(sheet: Any, value: Any, *, bold: bool = False) -> Any:
    cell = WriteOnlyCell(sheet)
    put(cell, value)
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_results(
    header: Sequence[Cell],
    imported: Iterable[tuple[int, Sequence[Cell]]],
    failed: Iterable[FailedRow],
    summary: Sequence[tuple[str, int]],
) -> bytes:
    """The three sheets; ``imported`` and ``failed`` are streamed (row number, values)."""
    workbook = Workbook(write_only=True)
    titles = ["Row", *[h or "" for h in header]]

    ok = workbook.create_sheet("Imported")  # the first sheet: xl/worksheets/sheet1.xml
    ok.freeze_panes = "A2"
    ok.append([_cell(ok, t, bold=True) for t in titles])  # rows: _splice_rows

    bad = workbook.create_sheet("With errors")
    bad.freeze_panes = "A2"
    bad.append([_cell(bad, t, bold=True) for t in [*titles, "Errors"]])
    for index, row in enumerate(failed):
        by_column: dict[int, list[str]] = {}
        for error in row.errors:
            if error.column is not None:
                by_column.setdefault(error.column, []).append(error.message)
        cells = [_cell(bad, row.number)]
        width = max(len(row.values), max(by_column, default=0))
        for column in range(1, width + 1):
            value = row.values[column - 1] if column <= len(row.values) else None
            cell = _cell(bad, value)
            if column in by_column:
                if index < MAX_COMMENTED_ROWS:
                    cell.comment = Comment("\n".join(by_column[column]), "CRM")
                cell.fill = ERROR_FILL
            cells.append(cell)
        cells += [_cell(bad, None) for _ in range(len(header) - width)]
        cells.append(_cell(bad, "; ".join(e.message for e in row.errors)))
        bad.append(cells)

    totals = workbook.create_sheet("Summary")
    totals.append([_cell(totals, "", bold=True), _cell(totals, "Rows", bold=True)])
    for label, count in summary:
        totals.append([_cell(totals, label), _cell(totals, count)])
    return _splice_rows(to_bytes(workbook), "xl/worksheets/sheet1.xml", imported)


def _text_cell(reference: str, value: Cell) -> str:
    text = cell_value(value if isinstance(value, str) else str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{reference}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _rows_xml(rows: Iterable[tuple[int, Sequence[Cell]]], first: int) -> Iterable[bytes]:
    """Sheet rows from row ``first``: the file's row number, then its cells as text."""
    letters: list[str] = []
    index = first
    for part in batched(rows, 1000):
        xml = []
        for number, values in part:
            while len(letters) <= len(values):
                letters.append(column_letter(len(letters) + 1))
            r = str(index)
            xml.append(f'<row r="{r}"><c r="A{r}" t="n"><v>{int(number)}</v></c>')
            xml.extend(
                _text_cell(letters[column] + r, value)
                for column, value in enumerate(values, 1)
                if value is not None and value != ""
            )
            xml.append("</row>")
            index += 1
        yield "".join(xml).encode()


def _splice_rows(workbook: bytes, part: str, rows: Iterable[tuple[int, Sequence[Cell]]]) -> bytes:
    """``workbook`` with ``rows`` streamed into worksheet ``part`` after its header row."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != part:
                target.writestr(info, data)
                continue
            head, end, tail = data.partition(b"</sheetData>")
            assert end, "openpyxl wrote a sheet without sheetData"
            with target.open(part, "w", force_zip64=True) as stream:
                stream.write(head)
                for chunk in _rows_xml(rows, first=2):
                    stream.write(chunk)
                stream.write(end + tail)
    return out.getvalue()
