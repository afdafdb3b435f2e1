"""What reading a spreadsheet gives: limits, typed errors and the streamed table.

A file is refused with a :class:`BadFile` (what it is not) or a :class:`FileTooLarge`
(which limit it passes, named in ``limit``), never silently truncated. Row and column
numbers in errors and rows are the ones a spreadsheet program shows (1-based).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import ErrorCode, GatewayError

Cell = str | None


class BadFile(GatewayError):
    """Not readable as a spreadsheet; ``reason`` says why (NOT_A_SPREADSHEET, ENCRYPTED,
    LEGACY_XLS, XML_DTD, CORRUPT, ENCODING, NO_SHEET, EMPTY)."""

    code = ErrorCode.BAD_FILE

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, reason=reason, **details)
        self.reason = reason


class FileTooLarge(GatewayError):
    """Past one of the :class:`SheetLimits`; ``limit`` names it, ``max`` gives its value."""

    code = ErrorCode.FILE_TOO_LARGE

    def __init__(self, message: str, *, limit: str, max: int, **details: Any) -> None:
        super().__init__(message, limit=limit, max=max, **details)
        self.limit = limit


@dataclass(frozen=True)
class SheetLimits:
    """How much of a file the gateway will read. The zip limits are checked on the zip's
    directory and then on the decompressed bytes themselves, before any parser runs."""

    #: Size of the uploaded file.
    max_bytes: int = 64 << 20
    #: Data rows (the header not counted).
    max_rows: int = 200_000
    max_columns: int = 200
    #: Characters in one cell (Excel's own limit is 32,767).
    max_cell_chars: int = 32_767
    #: Sum of the zip members' uncompressed sizes (xlsx).
    max_uncompressed: int = 512 << 20
    #: Uncompressed / compressed size of any member above ``ratio_floor`` bytes; real
    #: sheets compress 5-30 times, bombs hundreds or thousands.
    max_ratio: int = 200
    ratio_floor: int = 1 << 20
    #: Members in the zip (a real workbook has a dozen or two).
    max_members: int = 1_000
    #: Memory the fast reader (python-calamine, which holds the sheet) may take, estimated
    #: before it runs from what the inspection measured (``xlsx.fast_read_memory``: the
    #: sheet's grid — its extent, however sparse — and its text). A sheet within the row and
    #: column caps and this budget is read fast (a 100k-row, 8-column client sheet: ~150 MiB
    #: estimated, +80 MiB measured; 200k rows ~300 MiB estimated); any other streams through
    #: openpyxl with flat memory.
    #: So no file, however crafted, makes the reader allocate more than this.
    fast_read_memory: int = 384 << 20


@dataclass(frozen=True)
class Row:
    #: The row's number in the file (header = the number of its own row).
    number: int
    #: One value per column of the header (missing cells are ``None``; never longer).
    values: list[Cell]


@dataclass(frozen=True)
class CellNote:
    """Something the reader noticed about one cell without refusing the file."""

    row: int
    column: int
    message: str


@dataclass
class Table:
    """A sheet's header and its data rows, streamed: iterate ``rows`` once. Blank rows are
    skipped (their numbers are not reused). ``notes`` fills up as rows are read (e.g. a
    formula without a cached value, read as empty)."""

    header: list[Cell]
    rows: Iterator[Row]
    #: ``xlsx`` or ``csv``; for CSV also the encoding and delimiter found.
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    #: For xlsx, the engine that reads it: ``calamine`` (fast, holds the sheet) or
    #: ``openpyxl`` (streams).
    reader: str | None = None
    notes: list[CellNote] = field(default_factory=list)


def column_letter(column: int) -> str:
    """1 → A, 27 → AA (for messages)."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_cells(values: list[Cell], number: int, limits: SheetLimits) -> list[Cell]:
    """``values`` without trailing empty cells, refused past the column or cell limits."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    if end > limits.max_columns:
        raise FileTooLarge(
            f"row {number} has {end} columns; the limit is {limits.max_columns}",
            limit="columns",
            max=limits.max_columns,
            row=number,
            column=end,
        )
    for index in range(end):
        value = values[index]
        if value is not None and len(value) > limits.max_cell_chars:
            raise FileTooLarge(
                f"cell {column_letter(index + 1)}{number} has {len(value)} characters; "
                f"the limit is {limits.max_cell_chars}",
                limit="cellChars",
                max=limits.max_cell_chars,
                row=number,
                column=index + 1,
            )
    return values[:end]


def too_many_rows(limits: SheetLimits, number: int) -> FileTooLarge:
    return FileTooLarge(
        f"the file has more than {limits.max_rows} data rows (row {number})",
        limit="rows",
        max=limits.max_rows,
        row=number,
    )


def tabulate(raw: Iterator[tuple[int, list[Cell]]], limits: SheetLimits, **table: Any) -> Table:
    """A :class:`Table` from ``(row number, cells)`` pairs: the first non-blank row is the
    header; later rows are checked and cut or padded to the header's width. Cells beyond the
    header's last column are an error, not dropped: they would be silently lost."""
    header: list[Cell] | None = None
    for number, values in raw:
        values = check_cells(values, number, limits)
        if values:
            header = values
            break
    if header is None:
        raise BadFile("the file has no header row", reason="EMPTY")
    width = len(header)

    def rows() -> Iterator[Row]:
        count = 0
        for number, values in raw:
            values = check_cells(values, number, limits)
            if not values:
                continue
            if len(values) > width:
                raise BadFile(
                    f"cell {column_letter(len(values))}{number} is beyond the header's last "
                    f"column ({column_letter(width)})",
                    reason="BEYOND_HEADER",
                    row=number,
                    column=len(values),
                )
            count += 1
            if count > limits.max_rows:
                raise too_many_rows(limits, number)
            yield Row(number, values + [None] * (width - len(values)))

    return Table(header=header, rows=rows(), **table)
