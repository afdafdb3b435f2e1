"""Inspecting an xlsx before any parser sees it: zip bombs, DTDs and what is not an xlsx.

Two passes with the standard library's ``zipfile``:

1. The directory: member count, declared uncompressed total, compression ratio per member,
   encrypted or exotic members, the parts an xlsx must have.
2. Every member decompressed as a stream (never held whole): ``zipfile`` stops at the
   declared size and checks the CRC, so a member lying about its size is refused here and
   the parsers afterwards (python-calamine's own zip reader included) only ever meet sizes
   already checked. The same pass refuses XML with a DTD (``<!DOCTYPE``/``<!ENTITY`` before
   the root element: no part of an xlsx has one; billion laughs need one) and finds, in the
   worksheet read, formula cells without a cached value.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml.ElementTree import fromstring

from gateway.sheets.table import BadFile, FileTooLarge, SheetLimits

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 1 << 20
#: The XML prolog read to look for a DTD: the root element must start before this.
PROLOG = 64 << 10
#: A formula cell with no cached value: ``<f>…</f>`` or ``<f …/>`` right before ``</c>``.
_BARE_FORMULA = re.compile(
    rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)([0-9]+)\"[^>]*>\s*"
    rb"<(?:\w+:)?f\b(?:[^>]*/>|[^>]*>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
#: An error cell (``t="e"``: #N/A, #DIV/0!…): openpyxl reads its text, calamine nothing.
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)([0-9]+)\"[^>]*?\bt=\"e\"")
_ERROR_CELL_T_FIRST = re.compile(rb"<(?:\w+:)?c\b[^>]*?\bt=\"e\"[^>]*?\br=\"([A-Z]+)([0-9]+)\"")
#: The sheet's extent, for the in-memory reader: rows by number, columns past Z.
#: (Patterns start with a literal so ``re`` can skip ahead: a leading ``\b`` made them 6x
#: slower on a 64 MB sheet.)
_ROW = re.compile(rb"row [^>]*?r=\"([0-9]+)\"")
_WIDE_CELL = re.compile(rb"r=\"([A-Z]{2,3})[0-9]")
_ROOT = re.compile(rb"<(?![?!])")
#: Parts a reader of the first sheet does not parse (other sheets, pictures).
_NOT_READ = ("xl/worksheets/", "xl/media/", "xl/drawings/", "xl/charts/", "xl/embeddings/")
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@dataclass
class Inspected:
    """What the inspection learnt: the first worksheet's part and size, and its formula
    cells without a cached value (row, column)."""

    sheet_part: str
    sheet_size: int
    #: Uncompressed bytes of what a reader of the first sheet parses: that sheet and every
    #: part but the other sheets and the media (shared strings, styles…).
    read_size: int = 0
    bare_formulas: list[tuple[int, int]] = field(default_factory=list)
    error_cells: list[tuple[int, int]] = field(default_factory=list)
    #: The highest row number and column number any cell or row names.
    last_row: int = 0
    last_column: int = 0


def refuse_non_zip(data: bytes) -> None:
    """Name what a non-zip upload is: an encrypted xlsx and an old .xls are both OLE files."""
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise BadFile(
                "the workbook is password-protected: save it without a password",
                reason="ENCRYPTED",
            )
        raise BadFile(
            "this is an old Excel 97-2003 (.xls) file: save it as .xlsx or CSV",
            reason="LEGACY_XLS",
        )
    if data.startswith(b"PK"):
        raise BadFile("the workbook is damaged (not a readable zip)", reason="CORRUPT")
    raise BadFile("the file is not an xlsx workbook", reason="NOT_A_SPREADSHEET")


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The part of the workbook's first worksheet (small XML, parsed with defusedxml)."""
    try:
        book = fromstring(archive.read("xl/workbook.xml"))
        rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError as exc:
        raise BadFile("the file is not an xlsx workbook", reason="NOT_A_SPREADSHEET") from exc
    sheet = book.find("m:sheets/m:sheet", _NS)
    if sheet is None:
        raise BadFile("the workbook has no sheet", reason="NO_SHEET")
    rid = sheet.get(f"{{{_NS['r']}}}id")
    for rel in rels.findall("p:Relationship", _NS):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            return posixpath.normpath(part)
    raise BadFile("the workbook's first sheet is missing", reason="NO_SHEET")


def _check_directory(archive: zipfile.ZipFile, limits: SheetLimits) -> None:
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise FileTooLarge(
            f"the workbook has {len(members)} parts; the limit is {limits.max_members}",
            limit="members",
            max=limits.max_members,
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed:
        raise FileTooLarge(
            f"the workbook unpacks to {total} bytes; the limit is {limits.max_uncompressed}",
            limit="uncompressedBytes",
            max=limits.max_uncompressed,
        )
    for m in members:
        if m.flag_bits & 0x1:
            raise BadFile("the workbook is encrypted", reason="ENCRYPTED")
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadFile(f"part {m.filename} uses an unknown compression", reason="CORRUPT")
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise FileTooLarge(
                f"part {m.filename} expands {ratio:.0f} times; the limit is {limits.max_ratio}",
                limit="compressionRatio",
                max=limits.max_ratio,
            )


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, found: Inspected | None) -> None:
    """Stream one member: its prolog must hold no DTD; in the worksheet, note formulas
    without a cached value (chunks overlap so a cell split across two is seen whole)."""
    prolog, in_prolog = b"", True
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            if in_prolog:
                prolog += chunk
                root = _ROOT.search(prolog)
                head = prolog[: root.start()] if root else prolog
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise BadFile(f"part {info.filename} declares a DTD", reason="XML_DTD")
                if root is not None:
                    in_prolog, prolog = False, b""
                elif len(prolog) > PROLOG:
                    raise BadFile(f"part {info.filename} is not XML", reason="CORRUPT")
            if found is not None:
                window = tail + chunk
                cut = window.rfind(b"</c>")
                end = cut + 4 if cut >= 0 else 0
                _note_cells(found, window[:end])
                tail = window[cut + 4 :] if cut >= 0 else window
                if len(tail) > CHUNK:  # no cell end for a whole chunk: keep only a margin
                    tail = tail[-4096:]


def _note_cells(found: Inspected, xml: bytes) -> None:
    """Record, from whole cells of the worksheet's XML, what :class:`Inspected` holds."""
    if b"<f" in xml or b":f" in xml:
        for m in _BARE_FORMULA.finditer(xml):
            found.bare_formulas.append((int(m.group(2)), _column_number(m.group(1))))
    if b'"e"' in xml:
        for pattern in (_ERROR_CELL, _ERROR_CELL_T_FIRST):
            for m in pattern.finditer(xml):
                found.error_cells.append((int(m.group(2)), _column_number(m.group(1))))
    rows = _ROW.findall(xml)
    if rows:
        found.last_row = max(found.last_row, max(int(r) for r in rows))
    wide = _WIDE_CELL.findall(xml)
    if wide:
        found.last_column = max(found.last_column, max(_column_number(c) for c in wide))
    else:
        found.last_column = max(found.last_column, 26 if b'r="' in xml else 0)


def inspect_xlsx(data: bytes, limits: SheetLimits) -> Inspected:
    """Check an xlsx's zip before parsing (see the module doc); refuse with a typed error."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        refuse_non_zip(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_directory(archive, limits)
            part = _first_sheet(archive)
            try:
                sheet = archive.getinfo(part)
            except KeyError as exc:
                raise BadFile("the workbook's first sheet is missing", reason="NO_SHEET") from exc
            found = Inspected(
                sheet_part=part,
                sheet_size=sheet.file_size,
                read_size=sum(
                    info.file_size
                    for info in archive.infolist()
                    if info is sheet or not info.filename.startswith(_NOT_READ)
                ),
            )
            for info in archive.infolist():
                if not info.is_dir():
                    _scan(archive, info, found if info is sheet else None)
            return found
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise BadFile(f"the workbook is damaged ({exc})", reason="CORRUPT") from exc
    except Exception as exc:  # defusedxml's refusals and XML syntax errors of the small parts
        if isinstance(exc, BadFile | FileTooLarge):
            raise
        raise BadFile(f"the workbook is damaged ({type(exc).__name__})", reason="CORRUPT") from exc
