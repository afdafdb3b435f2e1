"""A cell longer than its database column is an error on that cell, the same on both engines
(PostgreSQL refuses the INSERT, SQLite would store it): the other rows import, the job
succeeds."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.imports import text_lengths
from plugins.contacts.models import Contact
from plugins.leads.fields import LEAD_TEXT
from plugins.leads.models import Lead
from tests.test_files import upload
from tests.test_leads_import import _rows, _workbook
from tests.test_leads_import import _run as run_leads
from tests.test_leads_import import _send as send_leads

START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  job { id } errors { code message } } }"""
JOB = """query($id: ID!) { job(id: $id) { status importRun { created failed
  rows(outcome: [FAILED], first: 10) { edges { node { row errors { code column } } } } } } }"""


def test_contact_cells_longer_than_their_columns_fail_alone(gateway, demo, as_):
    from gateway.jobs import run_pending

    manager = as_("manager")
    header = ["Company", "City", "Fiscal ID", "Phone", "Website"]
    rows = [
        ["Fits One SL", "Soria", "X1", "600 000 000", "fits.example"],
        ["Long City SL", "c" * 101, None, None, None],  # row 3: city is VARCHAR(100)
        ["Long Id SL", None, "B-" + "1" * 40, None, None],  # row 4: 41 once separators go
        ["Long Phone SL", None, None, "+" + "1" * 40, None],  # row 5: phone VARCHAR(40)
        ["Long Both SL", "c" * 101, None, None, "w" * 201],  # row 6: two cells at once
        ["Fits Two SL", "c" * 100, "1" * 40, "1" * 40, "w" * 200],  # exactly at the limits
    ]
    sent = upload(manager, _workbook(header, rows), name="long.xlsx")
    r = manager(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    assert r.data["startImport"]["errors"] == [], r.data
    run_pending(gateway)
    job = manager(JOB, {"id": r.data["startImport"]["job"]["id"]}).data["job"]
    assert job["status"] == "SUCCEEDED", job
    report = job["importRun"]
    assert (report["created"], report["failed"]) == (2, 4)
    errors = {
        e["node"]["row"]: sorted((x["column"], x["code"]) for x in e["node"]["errors"])
        for e in report["rows"]["edges"]
    }
    assert errors == {
        3: [("city", "BAD_USER_INPUT")],
        4: [("fiscalId", "BAD_USER_INPUT")],
        5: [("phone", "BAD_USER_INPUT")],
        6: [("city", "BAD_USER_INPUT"), ("website", "BAD_USER_INPUT")],
    }
    with gateway.db.reading() as s:
        names = s.scalars(
            select(Contact.company_name).where(Contact.company_name.like("Fits % SL"))
        ).all()
        assert sorted(names) == ["Fits One SL", "Fits Two SL"]
        assert (
            s.scalar(
                select(func.count()).select_from(Contact).where(Contact.company_name.like("Long %"))
            )
            == 0
        )


def test_lead_cells_longer_than_their_columns_fail_alone(gateway, demo, as_):
    manager = as_("manager")
    file_id = send_leads(
        manager,
        ["Name", "Company", "Phone", "Source"],
        [
            ["Fits Lead", "c" * 200, "1" * 40, "s" * 80],
            ["Long Lead", "c" * 201, "+" + "1" * 40, "s" * 81],  # row 3: three cells
        ],
    )
    job = run_leads(manager, file_id, gateway)
    assert (job["importRun"]["created"], job["importRun"]["failed"]) == (1, 1)
    assert sorted((e["column"], e["code"]) for e in _rows(job)[3]["errors"]) == [
        ("company", "BAD_USER_INPUT"),
        ("phone", "BAD_USER_INPUT"),
        ("source", "BAD_USER_INPUT"),
    ]


def test_the_lead_field_table_limits_fit_the_columns():
    """The lead import checks text against the field table: never more than the column."""
    lengths = text_lengths(Lead)
    for attr, limit in LEAD_TEXT.items():
        assert attr not in lengths or limit <= lengths[attr], attr
