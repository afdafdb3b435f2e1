"""Reading CSV as spreadsheet programs write it.

Encodings, in the order they are recognised: a byte-order mark (UTF-8, UTF-16 LE/BE — Excel's
"Unicode text" and "CSV UTF-8"), else UTF-8 if every byte decodes, else Windows-1252 (Excel's
"CSV" on western Windows), else Latin-1 (which decodes any byte). The check decodes in
chunks, so nothing but the uploaded bytes is held whole. The delimiter (``,``, ``;`` or tab)
is the one that occurs most often outside quotes in the header line. Quoted fields may hold
newlines and doubled quotes (RFC 4180). Row numbers count records, as a spreadsheet program
shows them after opening the file, not physical lines.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from gateway.sheets.table import BadFile, Cell, SheetLimits, Table, tabulate

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
DELIMITERS = (",", ";", "\t")
CHUNK = 1 << 20


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), CHUNK):
            decoder.decode(data[start : start + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return encoding
    for encoding in ("utf-8", "cp1252"):
        if _decodes(data, encoding):
            return encoding
    return "latin-1"


def sniff_delimiter(line: str) -> str:
    """The delimiter found most often outside quotes in ``line`` (``,`` when none is)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_line(text: io.TextIOBase) -> str:
    """The header line (quoted newlines included) without consuming the stream."""
    line = ""
    while True:
        part = text.readline()
        line += part
        if not part or line.count('"') % 2 == 0:
            return line


def read_csv(data: bytes, limits: SheetLimits) -> Table:
    encoding = detect_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    try:
        header_line = _first_line(text)
        text.seek(0)
    except UnicodeDecodeError as exc:  # UTF-16 with an odd byte count
        raise BadFile("the file's text encoding is damaged", reason="ENCODING") from exc
    if "\x00" in header_line:
        raise BadFile("the file is not text (it holds NUL characters)", reason="NOT_A_SPREADSHEET")
    delimiter = sniff_delimiter(header_line)
    reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)

    def cells() -> Iterator[tuple[int, list[Cell]]]:
        number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field past csv's own limit, a NUL…
                raise BadFile(
                    f"record {number + 1} cannot be read: {exc}",
                    reason="CORRUPT",
                    row=number + 1,
                ) from exc
            except UnicodeDecodeError as exc:
                raise BadFile(
                    "the file's text encoding is damaged", reason="ENCODING", row=number + 1
                ) from exc
            number += 1
            yield number, [value if value != "" else None for value in record]

    return tabulate(cells(), limits, format="csv", encoding=encoding, delimiter=delimiter)
