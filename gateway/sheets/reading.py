"""``read_table``: one entry point for every uploaded spreadsheet, whatever its format."""

from __future__ import annotations

from gateway.sheets.csvread import read_csv
from gateway.sheets.table import BadFile, FileTooLarge, SheetLimits, Table
from gateway.sheets.xlsx import read_xlsx
from gateway.sheets.zipcheck import OLE_MAGIC, refuse_non_zip

ZIP_MAGIC = b"PK\x03\x04"


def read_table(data: bytes, filename: str, limits: SheetLimits | None = None) -> Table:
    """The header and streamed rows of ``data`` (an xlsx's first sheet, or a CSV).

    The format comes from the content, not only the name: a zip is read as xlsx, an OLE
    file is refused as encrypted or .xls, anything else with a ``.csv``/``.txt`` name as
    CSV. Every refusal is a :class:`BadFile` or :class:`FileTooLarge`; rows past a limit
    raise while streaming, so a consumer must treat the whole read as one unit (write
    nothing until it ends, or roll back).
    """
    limits = limits or SheetLimits()
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"the file has {len(data)} bytes; the limit is {limits.max_bytes}",
            limit="bytes",
            max=limits.max_bytes,
        )
    if not data:
        raise BadFile("the file is empty", reason="EMPTY")
    name = filename.lower()
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(data, limits)
    if data.startswith(OLE_MAGIC) or name.endswith((".xlsx", ".xlsm", ".xls")):
        refuse_non_zip(data)
    if name.endswith((".csv", ".txt", ".tsv")):
        return read_csv(data, limits)
    raise BadFile(
        f"{filename!r} is neither an xlsx workbook nor a CSV file", reason="NOT_A_SPREADSHEET"
    )
