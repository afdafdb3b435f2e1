"""Which reader reads a sheet, and what a hostile or oversized one gets: a big but honest
sheet (100k client rows, far past the old 16 MB cap) is read by the fast reader; a sheet
whose grid would make it allocate too much streams instead; a zip bomb, too many columns
and too many rows answer typed errors — before any job, or as the job's error with
nothing written."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from gateway.jobs import run_pending
from gateway.sheets import SheetLimits, read_table
from gateway.sheets.xlsx import fast_read_memory
from gateway.sheets.zipcheck import inspect_xlsx
from plugins.contacts.models import Contact
from tests.test_files import upload
from tests.test_sheets_read import replace_sheet, xlsx

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  job { id } errors { code message } } }"""
JOB = "query($id: ID!) { job(id: $id) { status errors { code message } } }"


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet(rows: list[str]) -> str:
    return f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>{"".join(rows)}</sheetData></worksheet>'


def _clients(count: int) -> bytes:
    """The benchmark's client sheet (8 columns, inline text), written directly as XML."""
    header = ["Company", "Email", "Phone", "City", "Country", "Source", "Segment", "Discount"]
    rows = [
        '<row r="1">'
        + "".join(_cell(f"{c}1", h) for c, h in zip("ABCDEFGH", header, strict=True))
        + "</row>"
    ]
    for i in range(count):
        n = i + 2
        values = [
            f"Client {i} S.L.", f"client{i}@example.test", f"+34 600 {i % 1000:03d} {i % 997:03d}",
            ("Madrid", "Sevilla", "Bilbao", "Valencia")[i % 4], "ES", ("Web", "Fair")[i % 2], "SME",
        ]  # fmt: skip
        cells = "".join(_cell(f"{c}{n}", v) for c, v in zip("ABCDEFG", values, strict=True))
        rows.append(f'<row r="{n}">{cells}<c r="H{n}"><v>{(i % 40) / 4}</v></c></row>')
    return replace_sheet(xlsx([["x"]]), _sheet(rows))


@pytest.mark.engine_agnostic
def test_a_100k_row_client_sheet_is_read_by_the_fast_reader():
    data = _clients(100_000)
    found = inspect_xlsx(data, SheetLimits())
    assert found.sheet_size > 16 << 20  # past the old blunt cap, which sent it to openpyxl
    assert fast_read_memory(found) <= SheetLimits().fast_read_memory
    table = read_table(data, "clients.xlsx")
    assert table.reader == "calamine"
    last = None
    for last in table.rows:  # noqa: B007
        pass
    assert last is not None and last.number == 100_001
    assert last.values[:2] == ["Client 99999 S.L.", "client99999@example.test"]


@pytest.mark.engine_agnostic
def test_a_grid_too_big_to_hold_streams_instead():
    """One cell far away, within the caps: the fast reader would allocate the whole
    rectangle (190,000 x 200 cells), so openpyxl streams it."""
    header = _cell("A1", "Name") + _cell("GR1", "Last")
    sheet = _sheet(
        [f'<row r="1">{header}</row>', f'<row r="190000">{_cell("A190000", "far")}</row>']
    )
    data = replace_sheet(xlsx([["x"]]), sheet)
    found = inspect_xlsx(data, SheetLimits())
    assert fast_read_memory(found) > SheetLimits().fast_read_memory
    table = read_table(data, "sparse.xlsx")
    assert table.reader == "openpyxl"
    assert [(r.number, r.values[0], len(r.values)) for r in table.rows] == [(190000, "far", 200)]


def _start(client, data: bytes, name: str) -> dict:
    sent = upload(client, data, name=name)
    assert sent.status_code == 201, sent.text
    r = client(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    assert r.errors == [], r.errors
    return r.data["startImport"]


def test_a_zip_bomb_and_too_many_columns_are_refused_before_any_job(gateway, demo, as_):
    manager = as_("manager")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        source = zipfile.ZipFile(io.BytesIO(xlsx([["Company"], ["A"]])))
        for info in source.infolist():
            z.writestr(info.filename, source.read(info))
        z.writestr("xl/media/image1.xml", b"<x/>" + b"\0" * (64 << 20))  # ~1000x
    payload = _start(manager, bomb.getvalue(), "bomb.xlsx")
    assert payload["job"] is None
    assert [e["code"] for e in payload["errors"]] == ["FILE_TOO_LARGE"]
    assert "expands" in payload["errors"][0]["message"]

    wide = xlsx([[f"Column {i}" for i in range(201)]])
    payload = _start(manager, wide, "wide.xlsx")
    assert payload["job"] is None
    assert [e["code"] for e in payload["errors"]] == ["FILE_TOO_LARGE"]
    assert "201 columns" in payload["errors"][0]["message"]


def test_too_many_rows_fail_the_job_with_a_typed_error_and_write_nothing(gateway, demo, as_):
    manager = as_("manager")
    limit = SheetLimits().max_rows
    rows = [f'<row r="1">{_cell("A1", "Company")}</row>']
    rows += [
        f'<row r="{n}">{_cell(f"A{n}", f"Too many {n:06d}")}</row>' for n in range(2, limit + 3)
    ]
    data = replace_sheet(xlsx([["x"]]), _sheet(rows))
    with gateway.db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Contact))
    payload = _start(manager, data, "long.xlsx")
    assert payload["errors"] == [], payload
    run_pending(gateway)
    job = manager(JOB, {"id": payload["job"]["id"]}).data["job"]
    assert job["status"] == "FAILED"
    assert [e["code"] for e in job["errors"]] == ["FILE_TOO_LARGE"]
    assert f"more than {limit}" in job["errors"][0]["message"]
    with gateway.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == before
