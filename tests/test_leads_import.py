"""Lead import (MISSION L2) over HTTP, as a frontend does it: the template, an upload
(POST /files), the mapping preview, a dry run, the import as a job with bad rows reported
on their cells, undo — and the importing user's access: a rep never updates (nor learns of)
a lead they cannot see."""

from __future__ import annotations

import base64
import io

import openpyxl
from sqlalchemy import func, select

from gateway.jobs import run_pending
from plugins.leads.models import Lead, LeadStatus
from tests.test_files import upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = """query { downloadSheetTemplate(entity: "lead", variant: "") {
  filename contentBase64 } }"""
PREVIEW = """query($f: ID!) { previewImport(fileId: $f, entity: "lead") {
  format headers { header column } missingRequired } }"""
START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  job { id status } errors { code message field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value }
  importRun { id total created updated unchanged failed applied
    rows(first: 100) { edges { node { row outcome undo errors { code column message } } } } } } }"""
UNDO = """mutation($id: ID!) { undoImport(id: $id) { job { id } errors { code message } } }"""
UNDO_JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value } } }"""
CREATE_LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id } errors { code } } }"""
HEADER = ["Name", "Company", "Email", "Phone", "Source", "Owner"]


def _count(gateway, **where) -> int:
    with gateway.db.reading() as s:
        q = select(func.count()).select_from(Lead)
        for attr, value in where.items():
            q = q.where(getattr(Lead, attr) == value)
        return s.scalar(q)


def _lead(gateway, name: str) -> Lead | None:
    with gateway.db.reading() as s:
        found = s.scalar(select(Lead).where(Lead.name == name))
        if found is not None:
            s.expunge(found)
        return found


def _workbook(header: list[str], rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _send(client, header: list[str], rows: list[list[object]]) -> str:
    sent = upload(client, _workbook(header, rows), name="leads.xlsx", content_type=XLSX)
    assert sent.status_code == 201, sent.text
    return sent.json()["id"]


def _run(client, file_id: str, gateway, **options) -> dict:
    r = client(START, {"input": {"fileId": file_id, "entity": "lead", **options}})
    assert r.errors == [], r.errors
    payload = r.data["startImport"]
    assert payload["errors"] == [], payload["errors"]
    run_pending(gateway)
    job = client(JOB, {"id": payload["job"]["id"]}).data["job"]
    assert job["status"] == "SUCCEEDED", job
    return job


def _rows(job: dict) -> dict[int, dict]:
    return {e["node"]["row"]: e["node"] for e in job["importRun"]["rows"]["edges"]}


def _undo(client, run_id: str, gateway) -> dict[str, int]:
    r = client(UNDO, {"id": run_id}).data["undoImport"]
    assert r["errors"] == [], r["errors"]
    run_pending(gateway)
    job = client(UNDO_JOB, {"id": r["job"]["id"]}).data["job"]
    return {c["name"]: c["value"] for c in job["resultCounts"]}


def _global_id(client, name: str) -> str:
    r = client(
        """query($s: String) { leads(first: 5, filter: {search: $s}) {
        edges { node { id name } } } }""",
        {"s": name},
    )
    return next(e["node"]["id"] for e in r.data["leads"]["edges"] if e["node"]["name"] == name)


def test_every_template_header_feeds_an_import_column(gateway, demo, as_):
    manager = as_("manager")
    template = manager(TEMPLATE).data["downloadSheetTemplate"]
    assert template["filename"] == "lead-template.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(template["contentBase64"])))
    sheet = book.worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:2] == ["Name", "Company"] and "Owner" in header
    # the template, filled in and sent back as it is, imports
    sheet.append(["Tina Template", "Template SL", "tina@template.test"])
    out = io.BytesIO()
    book.save(out)
    sent = upload(manager, out.getvalue(), name="lead-template.xlsx", content_type=XLSX)
    preview = manager(PREVIEW, {"f": sent.json()["id"]}).data["previewImport"]
    assert preview["missingRequired"] == []
    assert [h["column"] for h in preview["headers"]] == [
        "name",
        "company",
        "email",
        "phone",
        "source",
        "notes",
        "owner",
        "access",
    ]
    job = _run(manager, sent.json()["id"], gateway)
    assert job["importRun"]["created"] == 1
    assert _lead(gateway, "Tina Template").status is LeadStatus.UNMANAGED


def test_bad_rows_on_their_cells_dry_run_import_and_undo(gateway, demo, as_):
    manager = as_("manager")  # may delete leads (undo), and rep1's by hierarchy
    good = [
        [
            f"Lead {i:02d}",
            "Import SL",
            f"lead{i}@import.test",
            "600 000 000",
            "Fair",
            "rep1@demo.test",
        ]
        for i in range(6)
    ]
    bad = [
        ["Bad Email", "", "broken@", "", "", "rep1@demo.test"],  # row 8
        ["", "No Name SL", "noname@import.test", "", "", ""],  # row 9: name required
        # row 10: every problem of the row at once
        ["All Wrong", "", "a@x.test, b@x.test", "abc", "", "nobody@demo.test"],
        ["Assistant Owned", "", "", "", "", "assistant@demo.test"],  # row 11
    ]
    file_id = _send(manager, HEADER, good + bad)
    before = _count(gateway)

    dry = _run(manager, file_id, gateway, dryRun=True)
    assert _count(gateway) == before  # a dry run writes nothing
    report = dry["importRun"]
    assert (report["created"], report["failed"], report["applied"]) == (6, 4, False)

    real = _run(manager, file_id, gateway)
    report = real["importRun"]
    assert (report["total"], report["created"], report["failed"]) == (10, 6, 4)
    assert report["applied"] is True
    assert _count(gateway) == before + 6
    rows = _rows(real)
    errors = {
        n: sorted((e["column"], e["code"]) for e in rows[n]["errors"]) for n in (8, 9, 10, 11)
    }
    assert errors[8] == [("email", "BAD_USER_INPUT")]
    assert errors[9] == [("name", "REQUIRED")]
    assert errors[10] == [
        ("email", "BAD_USER_INPUT"),
        ("owner", "NOT_FOUND"),
        ("phone", "BAD_USER_INPUT"),
    ]
    assert errors[11] == [("owner", "BAD_USER_INPUT")]
    lead = _lead(gateway, "Lead 03")
    assert lead is not None and lead.status is LeadStatus.IN_PROGRESS
    assert (lead.email, lead.source, lead.company) == ("lead3@import.test", "Fair", "Import SL")

    counts = _undo(manager, report["id"], gateway)
    assert counts.get("REMOVED") == 6
    assert _count(gateway) == before


def test_rows_without_owner_are_unmanaged_and_visible_to_everyone(gateway, demo, as_):
    admin, rep2 = as_("admin"), as_("rep2")
    file_id = _send(admin, ["Name", "Email"], [["Pool One", "pool1@import.test"]])
    job = _run(admin, file_id, gateway)
    lead = _lead(gateway, "Pool One")
    assert lead.owner_id is None and lead.status is LeadStatus.UNMANAGED
    r = rep2("""{ unmanagedLeads(first: 100) { edges { node { name } } } }""")
    assert "Pool One" in {e["node"]["name"] for e in r.data["unmanagedLeads"]["edges"]}
    assert _undo(admin, job["importRun"]["id"], gateway).get("REMOVED") == 1
    assert _lead(gateway, "Pool One") is None


def test_a_rep_cannot_update_a_lead_they_cannot_see(gateway, demo, as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    hidden = {"name": "Hidden Lead", "email": "hidden@import.test", "company": "Secret SL"}
    assert rep2(CREATE_LEAD, {"input": hidden}).data["createLead"]["errors"] == []
    hidden_id = _global_id(rep2, "Hidden Lead")

    by_email = _send(
        rep1, ["Email", "Company"], [["hidden@import.test", "Mine now"], ["none@x.test", "Z"]]
    )
    job = _run(rep1, by_email, gateway, mode="UPDATE", matchBy=["email"])
    rows = _rows(job)
    # the invisible lead and a missing one read exactly alike
    assert rows[2]["errors"] == rows[3]["errors"]
    assert [e["code"] for e in rows[2]["errors"]] == ["NOT_FOUND"]

    by_id = _send(rep1, ["ID", "Company"], [[hidden_id, "Mine now"]])
    job = _run(rep1, by_id, gateway, mode="CREATE_OR_UPDATE", matchBy=["id"])
    # not matched, so the row tries to create a lead, and has no name
    assert [e["code"] for e in _rows(job)[2]["errors"]] == ["REQUIRED"]
    job = _run(rep1, by_id, gateway, mode="UPDATE", matchBy=["id"])
    assert [e["code"] for e in _rows(job)[2]["errors"]] == ["NOT_FOUND"]
    assert _lead(gateway, "Hidden Lead").company == "Secret SL"


def test_updates_are_undone_from_their_before_images(gateway, demo, as_):
    rep1 = as_("rep1")
    mine = {"name": "Own Lead", "email": "own@import.test", "company": "Before SL"}
    assert rep1(CREATE_LEAD, {"input": mine}).data["createLead"]["errors"] == []
    other = {"name": "Edited Lead", "email": "edited@import.test", "company": "Before SL"}
    assert rep1(CREATE_LEAD, {"input": other}).data["createLead"]["errors"] == []
    file_id = _send(
        rep1,
        ["E-mail", "Company", "Notes", "Owner"],
        [
            ["OWN@import.test", "After SL", "called twice", "rep1@demo.test"],
            ["edited@import.test", "After SL", "", ""],
            ["own@import.test", "After SL", "", "rep2@demo.test"],  # no owner changes
        ],
    )
    job = _run(rep1, file_id, gateway, mode="UPDATE", matchBy=["email"])
    report = job["importRun"]
    assert (report["updated"], report["failed"]) == (2, 1)
    assert [(e["column"], e["code"]) for e in _rows(job)[4]["errors"]] == [
        ("owner", "BAD_USER_INPUT")
    ]
    own = _lead(gateway, "Own Lead")
    assert (own.company, own.notes) == ("After SL", "called twice")

    edited_id = _global_id(rep1, "Edited Lead")
    r = rep1(
        """mutation($id: ID!) { updateLead(id: $id, input: {phone: "600 111 222"}) {
        errors { code } } }""",
        {"id": edited_id},
    )
    assert r.data["updateLead"]["errors"] == []
    counts = _undo(rep1, report["id"], gateway)
    assert (counts.get("RESTORED"), counts.get("EDITED_SINCE")) == (1, 1)
    own = _lead(gateway, "Own Lead")
    assert (own.company, own.notes) == ("Before SL", "")
    assert _lead(gateway, "Edited Lead").company == "After SL"  # edited since: left alone


def test_a_rep_may_not_change_unmanaged_leads_by_import_either(gateway, demo, as_):
    """Like updateLead: an unmanaged lead is visible to every rep but theirs to change only
    once claimed."""
    rep1 = as_("rep1")
    pool = {"name": "Pool Lead", "email": "pool@import.test", "unmanaged": True}
    assert rep1(CREATE_LEAD, {"input": pool}).data["createLead"]["errors"] == []
    file_id = _send(rep1, ["Email", "Company"], [["pool@import.test", "Claimed SL"]])
    job = _run(rep1, file_id, gateway, mode="UPDATE", matchBy=["email"])
    assert [e["code"] for e in _rows(job)[2]["errors"]] == ["FORBIDDEN"]
    assert _lead(gateway, "Pool Lead").company == ""


def test_undo_never_deletes_what_its_user_could_not_delete_by_hand(gateway, demo, as_):
    """Demo reps may create and update leads but not delete them: their import's new leads
    stay (KEPT, named in the report), as deleteLead would refuse them."""
    rep1 = as_("rep1")
    file_id = _send(rep1, ["Name", "Owner"], [["Rep Lead", "rep1@demo.test"]])
    job = _run(rep1, file_id, gateway)
    assert _undo(rep1, job["importRun"]["id"], gateway).get("KEPT") == 1
    assert _lead(gateway, "Rep Lead") is not None


def test_a_closed_lead_is_not_updated_by_import(gateway, demo, as_):
    rep1 = as_("rep1")
    closed = {"name": "Closed Lead", "email": "closed@import.test"}
    assert rep1(CREATE_LEAD, {"input": closed}).data["createLead"]["errors"] == []
    r = rep1(
        """mutation($id: ID!) { markLeadUnsuitable(id: $id, reason: "no budget") {
        errors { code } } }""",
        {"id": _global_id(rep1, "Closed Lead")},
    )
    assert r.data["markLeadUnsuitable"]["errors"] == []
    file_id = _send(rep1, ["Email", "Notes"], [["closed@import.test", "try again"]])
    job = _run(rep1, file_id, gateway, mode="UPDATE", matchBy=["email"])
    assert [e["code"] for e in _rows(job)[2]["errors"]] == ["CONFLICT"]
    assert _lead(gateway, "Closed Lead").notes == ""
