"""An import end to end, as a frontend does it: download the template, fill it, upload it
(POST /files), preview, dry run, import as a background job, read the report and the result
workbook, undo. 1,000 rows with 50 bad ones, on both engines (the "done when" of the import
issue)."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from gateway.jobs import run_pending
from plugins.contacts.models import Contact
from tests.test_files import upload

TEMPLATE = """query { downloadSheetTemplate(entity: "contact", variant: "company") {
  filename contentBase64 } }"""
PREVIEW = """query($f: ID!) { previewImport(fileId: $f, entity: "contact", variant: "company") {
  format headers { header column } missingRequired sample } }"""
START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  job { id status } errors { code message field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value }
  errors { code row column } resultFile { name downloadUrl }
  importRun { id total created failed applied
    rows(outcome: [FAILED], first: 100) { totalCount edges { node { row errors { column } } } } } } }"""
UNDO = """mutation($id: ID!) { undoImport(id: $id) { job { id } errors { code message } } }"""


def _count(gateway) -> int:
    with gateway.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Contact))


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Company", "Fiscal ID", "Email", "Phone", "City", "Discount %"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(n: int, bad_every: int = 0) -> list[list[object]]:
    """``n`` companies; with ``bad_every``, row ``i`` has a broken email when
    ``i % bad_every == 7``."""
    rows: list[list[object]] = []
    for i in range(n):
        bad = bool(bad_every) and i % bad_every == 7
        rows.append(
            [
                f"Flow {i:04d} SL",
                None,
                "broken@" if bad else f"flow{i}@example.test",
                "600 000 000",
                "Zaragoza",
                5,
            ]
        )
    return rows


def _run(gateway, client, file_id: str, **options) -> dict:
    r = client(
        START, {"input": {"fileId": file_id, "entity": "contact", "variant": "company", **options}}
    )
    assert r.errors == [], r.errors
    payload = r.data["startImport"]
    assert payload["errors"] == [], payload["errors"]
    run_pending(gateway)
    return client(JOB, {"id": payload["job"]["id"]}).data["job"]


def test_a_thousand_rows_fifty_bad_dry_run_import_and_undo(gateway, demo, as_):
    manager = as_("manager")
    template = manager(TEMPLATE).data["downloadSheetTemplate"]
    assert template["filename"].endswith(".xlsx")

    sent = upload(
        manager,
        _workbook(_rows(1000, bad_every=20)),
        name="clients.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert sent.status_code == 201, sent.text
    file_id = sent.json()["id"]

    preview = manager(PREVIEW, {"f": file_id}).data["previewImport"]
    assert preview["format"] == "xlsx" and preview["missingRequired"] == []
    assert {h["header"]: h["column"] for h in preview["headers"]}["Discount %"] == "discount"
    assert preview["sample"][0][0] == "Flow 0000 SL"

    before = _count(gateway)
    dry = _run(gateway, manager, file_id, dryRun=True)
    assert dry["status"] == "SUCCEEDED"
    assert _count(gateway) == before  # a dry run writes nothing
    counts = {c["name"]: c["value"] for c in dry["resultCounts"]}
    assert (counts["created"], counts["failed"], counts["written"]) == (950, 50, 0)

    real = _run(gateway, manager, file_id)
    assert real["status"] == "SUCCEEDED"
    counts = {c["name"]: c["value"] for c in real["resultCounts"]}
    assert (counts["created"], counts["failed"], counts["written"]) == (950, 50, 950)
    assert _count(gateway) == before + 950
    report = real["importRun"]
    assert (report["total"], report["created"], report["failed"]) == (1000, 950, 50)
    failed = report["rows"]["edges"]
    assert report["rows"]["totalCount"] == 50
    assert [e["node"]["row"] for e in failed] == [i + 2 for i in range(1000) if i % 20 == 7]
    assert all(e["node"]["errors"] == [{"column": "email"}] for e in failed)

    # the result workbook: each error on its own cell (the Email column, C + 1 for "Row")
    link = real["resultFile"]["downloadUrl"]
    book = openpyxl.load_workbook(io.BytesIO(manager.http.get(link).content))
    assert book.sheetnames == ["Imported", "With errors", "Summary"]
    bad = book["With errors"]
    assert bad.max_row == 51
    assert bad.cell(2, 1).value == 9 and bad.cell(2, 4).comment is not None
    assert book["Imported"].max_row == 951

    # one imported client edited since: undo names it and leaves it alone
    search = """query($s: String) { contacts(search: $s) { edges { node { id } } } }"""
    [edge] = manager(search, {"s": "flow500@example.test"}).data["contacts"]["edges"]
    edit = """mutation($id: ID!) { updateContact(id: $id, input: {city: "Huesca"}) {
      errors { code } } }"""
    assert manager(edit, {"id": edge["node"]["id"]}).data["updateContact"]["errors"] == []
    undone = manager(UNDO, {"id": report["id"]}).data["undoImport"]
    assert undone["errors"] == []
    run_pending(gateway)
    assert _count(gateway) == before + 1
    undo_job = manager(
        """query($id: ID!) { job(id: $id) { status resultCounts { name value }
        errors { code row } } }""",
        {"id": undone["job"]["id"]},
    ).data["job"]
    assert {c["name"]: c["value"] for c in undo_job["resultCounts"]} == {
        "REMOVED": 949,
        "EDITED_SINCE": 1,
    }
    assert undo_job["errors"] == [{"code": "EDITED_SINCE", "row": 502}]
    with gateway.db.reading() as s:
        assert s.scalar(select(Contact.city).where(Contact.company_name == "Flow 0500 SL")) == (
            "Huesca"
        )
    again = manager(UNDO, {"id": report["id"]}).data["undoImport"]
    assert [e["code"] for e in again["errors"]] == ["BAD_USER_INPUT"]


def test_nobody_else_reads_or_undoes_an_import(gateway, demo, as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    sent = upload(rep1, _workbook(_rows(3, bad_every=100)), name="mine.xlsx")
    job = _run(gateway, rep1, sent.json()["id"])
    run_id = job["importRun"]["id"]
    assert rep2(UNDO, {"id": run_id}).data["undoImport"]["errors"][0]["code"] == "NOT_FOUND"
    r = rep2(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    assert r.data["startImport"]["errors"][0]["code"] == "NOT_FOUND"


def test_an_assistant_without_the_permission_cannot_import(gateway, demo, as_):
    r = as_("assistant")(START, {"input": {"fileId": "x", "entity": "contact"}})
    assert r.codes == ["FORBIDDEN"]


def test_a_file_that_is_not_a_spreadsheet_is_refused_before_any_job(gateway, demo, as_):
    manager = as_("manager")
    sent = upload(manager, b"PK\x03\x04 this is no zip at all", name="clients.xlsx")
    r = manager(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    payload = r.data["startImport"]
    assert payload["job"] is None
    assert [e["code"] for e in payload["errors"]] == ["BAD_FILE"]


def test_a_csv_with_semicolons_in_windows_1252_imports(gateway, demo, as_):
    manager = as_("manager")
    body = "Company;Email;City\r\nCañas S.L.;canas@example.test;Logroño\r\n".encode("cp1252")
    sent = upload(manager, body, name="clientes.csv")
    job = _run(gateway, manager, sent.json()["id"])
    assert job["status"] == "SUCCEEDED"
    assert {c["name"]: c["value"] for c in job["resultCounts"]}["created"] == 1
    with gateway.db.reading() as s:
        assert (
            s.scalar(select(Contact.city).where(Contact.company_name == "Cañas S.L.")) == "Logroño"
        )


def test_an_import_whose_module_was_switched_off_meanwhile_is_refused(gateway, demo, as_):
    manager, admin = as_("manager"), as_("admin")
    before = _count(gateway)
    sent = upload(manager, _workbook(_rows(3)), name="late.xlsx")
    r = manager(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    job_id = r.data["startImport"]["job"]["id"]
    for module in ("calendar", "consent", "invoices", "leads", "contacts"):  # dependents first
        off = admin(
            "mutation($m: String!) { setModuleEnabled(name: $m, enabled: false) { errors { code } } }",
            {"m": module},
        )
        assert off.errors == [] and off.data["setModuleEnabled"]["errors"] == [], off.body
    run_pending(gateway)
    job = manager("query($id: ID!) { job(id: $id) { status errors { code } } }", {"id": job_id})
    assert job.data["job"]["status"] == "FAILED"
    assert [e["code"] for e in job.data["job"]["errors"]] == ["MODULE_DISABLED"]
    assert _count(gateway) == before
