"""Reading uploaded spreadsheets: both xlsx engines agree, CSV as spreadsheet programs
write it, and every hostile file is refused with a typed error before a parser runs."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from gateway.sheets import BadFile, FileTooLarge, SheetLimits, read_table
from gateway.sheets.xlsx import read_xlsx


def xlsx(rows, *, start="A1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    col0 = ord(start[0]) - 64
    row0 = int(start[1:])
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.cell(row=row0 + r, column=col0 + c, value=value)
    wb.create_sheet("Other")["A1"] = "ignored"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_all(data: bytes, name: str = "f.xlsx", **limits):
    table = read_table(data, name, SheetLimits(**limits))
    return table, [(r.number, r.values) for r in table.rows]


ROWS = [
    ["Name", "Employees", "Discount", "Since", "Called", "Active", "Code"],
    ["Ana", 12, 7.5, date(2021, 3, 4), datetime(2024, 5, 6, 7, 8, 9), True, "=1+1"],
    [None, None, None, None, None, None, None],
    ["Bea", 0, -0.1, date(1999, 12, 31), None, False, "+34"],
]


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_both_engines_read_the_same_text(engine):
    data = xlsx(ROWS, start="B3")
    table = read_xlsx(data, SheetLimits(), engine=engine)
    rows = [(r.number, r.values) for r in table.rows]
    assert table.header == [None, *ROWS[0]]
    assert rows == [
        (4, [None, "Ana", "12", "7.5", "2021-03-04", "2024-05-06T07:08:09", "TRUE", None]),
        (6, [None, "Bea", "0", "-0.1", "1999-12-31", None, "FALSE", "+34"]),
    ]
    # openpyxl wrote "=1+1" as a formula without a saved value: empty, and noted.
    assert [(n.row, n.column) for n in table.notes] == [(4, 8)]


def test_formulas_are_read_as_cached_values_and_bare_ones_reported():
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
        '<row r="1"><c r="A1" t="inlineStr"><is><t>A</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>B</t></is></c><c r="C1" t="inlineStr"><is><t>C</t></is></c></row>'
        '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c><c r="B2"><f>NOW()</f></c>'
        '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        "</sheetData></worksheet>"
    )
    data = replace_sheet(xlsx([["x"]]), sheet)
    for engine in ("calamine", "openpyxl"):
        table = read_xlsx(data, SheetLimits(), engine=engine)
        assert [r.values for r in table.rows] == [["2", None, None]], engine
        assert [(n.row, n.column) for n in table.notes] == [(2, 2), (2, 3)]
        assert "formula" in table.notes[0].message


def replace_sheet(data: bytes, sheet_xml: str, extra: dict[str, bytes] | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = sheet_xml.encode()
            dst.writestr(info.filename, body)
        for name, body in (extra or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol4;</t></is></c></row></sheetData></worksheet>'
)


def test_billion_laughs_is_refused_before_parsing():
    data = replace_sheet(xlsx([["x"]]), BILLION_LAUGHS)
    with pytest.raises(BadFile) as caught:
        read_all(data)
    assert caught.value.extensions["reason"] == "XML_DTD"


def test_openpyxl_itself_parses_through_defusedxml():
    """The second line of defence: even past the inspection, openpyxl refuses entities."""
    import defusedxml
    from openpyxl.xml import functions

    assert functions.iterparse.__module__.startswith("defusedxml")
    data = replace_sheet(xlsx([["x"]]), BILLION_LAUGHS)
    with pytest.raises(ValueError, match="Unable to read workbook") as caught:  # wrapped
        load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    assert isinstance(
        caught.value.__cause__ or caught.value.__context__, defusedxml.DefusedXmlException
    )


def test_zip_bombs_are_refused_from_the_directory_and_the_bytes():
    huge = b"<x/>" + b" " * (20 << 20)
    data = replace_sheet(xlsx([["x"]]), "x", extra={"xl/media/pad.xml": huge})
    with pytest.raises(FileTooLarge) as caught:
        read_all(data)
    assert caught.value.extensions["limit"] == "compressionRatio"
    with pytest.raises(FileTooLarge) as caught:
        read_all(data, max_uncompressed=10 << 20)
    assert caught.value.extensions["limit"] == "uncompressedBytes"
    many = replace_sheet(xlsx([["x"]]), "x", extra={f"p/{i}.xml": b"<a/>" for i in range(30)})
    with pytest.raises(FileTooLarge) as caught:
        read_all(many, max_members=20)
    assert caught.value.extensions["limit"] == "members"


def test_a_member_lying_about_its_size_is_refused():
    data = bytearray(xlsx([["name"], ["a"]]))
    # Shrink the declared size of the sheet in the central directory (offset 24 of its
    # entry): zipfile stops there and the CRC no longer matches.
    name = b"xl/worksheets/sheet1.xml"
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    data[at + 24 : at + 28] = (10).to_bytes(4, "little")
    with pytest.raises(BadFile) as caught:
        read_all(bytes(data))
    assert caught.value.extensions["reason"] == "CORRUPT"


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xls", "LEGACY_XLS"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
            "secret.xlsx",
            "ENCRYPTED",
        ),
        (b"hello, this is not a zip", "fake.xlsx", "NOT_A_SPREADSHEET"),
        (b"%PDF-1.7", "doc.pdf", "NOT_A_SPREADSHEET"),
        (b"PK\x03\x04broken", "broken.xlsx", "CORRUPT"),
        (b"", "empty.csv", "EMPTY"),
    ],
)
def test_what_is_not_a_readable_spreadsheet_is_named(data, name, reason):
    with pytest.raises(BadFile) as caught:
        read_all(data, name)
    assert caught.value.extensions["code"] == "BAD_FILE"
    assert caught.value.extensions["reason"] == reason


def test_a_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(BadFile) as caught:
        read_all(out.getvalue())
    assert caught.value.extensions["reason"] == "NOT_A_SPREADSHEET"


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_row_column_and_cell_caps_name_the_limit(engine):
    limits = SheetLimits(max_rows=2, max_columns=3, max_cell_chars=5)
    data = xlsx([["a", "b"], ["1"], ["2"], ["3"]])
    table = read_xlsx(data, limits, engine=engine)
    with pytest.raises(FileTooLarge) as caught:
        list(table.rows)
    assert caught.value.extensions == {
        "code": "FILE_TOO_LARGE", "limit": "rows", "max": 2, "row": 4
    }  # fmt: skip
    with pytest.raises(FileTooLarge) as caught:
        read_xlsx(xlsx([["a", "b", "c", "d"]]), limits, engine=engine)
    assert caught.value.extensions["limit"] == "columns"
    table = read_xlsx(xlsx([["a"], ["123456"]]), limits, engine=engine)
    with pytest.raises(FileTooLarge) as caught:
        list(table.rows)
    assert (caught.value.extensions["limit"], caught.value.extensions["column"]) == ("cellChars", 1)


def test_file_size_cap():
    with pytest.raises(FileTooLarge) as caught:
        read_all(b"a,b\n" * 100, "f.csv", max_bytes=50)
    assert caught.value.extensions["limit"] == "bytes"


def test_a_sparse_sheet_is_streamed_not_held():
    """A cell far away would make the in-memory reader allocate the whole rectangle."""
    from gateway.sheets.zipcheck import inspect_xlsx

    wb = Workbook()
    wb.active["A1"] = "h"
    wb.active["XFD1000000"] = "far"
    buf = io.BytesIO()
    wb.save(buf)
    found = inspect_xlsx(buf.getvalue(), SheetLimits())
    assert (found.last_row, found.last_column) == (1000000, 16384)
    with pytest.raises(FileTooLarge):
        read_all(buf.getvalue())


CSV_TEXT = 'Name;City;Note\r\n"Núñez, José";Sevilla;"two\r\nlines"\r\n;;\r\nBjörk;Reykjavík;"say ""hi"""\r\n'


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"), "utf-8-sig"),
        (CSV_TEXT.encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + CSV_TEXT.encode("utf-16-be"), "utf-16"),
        (CSV_TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_csv_encodings_delimiters_and_quoted_newlines(encoded, encoding):
    table, rows = read_all(encoded, "clients.csv")
    assert (table.encoding, table.delimiter) == (encoding, ";")
    assert table.header == ["Name", "City", "Note"]
    assert rows == [
        (2, ["Núñez, José", "Sevilla", "two\r\nlines"]),
        (4, ["Björk", "Reykjavík", 'say "hi"']),
    ]


def test_csv_comma_and_latin1():
    data = "a,b\n1,\x81x\n".encode("latin-1")  # 0x81 is undefined in Windows-1252
    table, rows = read_all(data, "x.csv")
    assert (table.encoding, table.delimiter) == ("latin-1", ",")
    assert rows == [(2, ["1", "\x81x"])]


def test_csv_cells_beyond_the_header_are_an_error_not_dropped():
    table = read_table(b"a,b\n1,2,3\n", "x.csv")
    with pytest.raises(BadFile) as caught:
        list(table.rows)
    assert caught.value.extensions["row"] == 2
    assert caught.value.extensions["column"] == 3
