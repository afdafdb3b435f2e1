"""Leads created in bulk by an import (``services.create_leads``: one INSERT per chunk) are
the leads ``create_lead`` makes from the same input — same columns, same audit entry — and
what the import fingerprints for undo (computed from the values written, not read back) is
what a later read gives. The bulk path is the one taken: INSERTs per chunk, not per row."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import event, select

from gateway.context import CallerContext, Via
from gateway.identity.models import User
from gateway.imports import ImportOptions, ImportRow, run_import, undo_import
from gateway.imports.engine import fingerprint
from plugins.leads import services
from plugins.leads.imports import LeadImporter
from plugins.leads.models import Lead, LeadStatus
from tests.test_leads_import import HEADER, _global_id, _run, _send

IMPORTER = LeadImporter()
HISTORY = """query($id: ID!) { recordHistory(recordId: $id) { edges { node {
  action via user { email } changes { field after } } } } }"""


def _ctx(gateway, email: str) -> CallerContext:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    return CallerContext.acting_for(gateway, user_id, via=Via.JOB)


def _columns(lead: Lead) -> dict:
    return {
        c.key: getattr(lead, c.key)
        for c in Lead.__table__.columns
        if c.key not in ("id", "created_at", "updated_at")
    }


def test_bulk_and_single_create_write_the_same_lead(gateway, demo):
    ctx = _ctx(gateway, "manager@demo.test")
    rep1 = ctx.session.scalar(select(User.id).where(User.email == "rep1@demo.test"))
    values = {
        "name": "Bulk Lead",
        "company": "Bulk SL",
        "email": "bulk@lead.test",
        "phone": "+34 600 000 001",
        "source": "Fair",
        "notes": "two\nlines",
        "access": "PUBLIC_READ",
    }
    try:
        with ctx.transaction():
            for owner in (rep1, None):
                one = services.create_lead(
                    ctx,
                    services.LeadData(values=dict(values)),
                    unmanaged=owner is None,
                    owner_id=owner,
                )
                made = services.create_leads(
                    ctx, [services.NewLead(services.LeadData(values=dict(values)), owner)] * 2
                )
                ctx.session.flush()
                ctx.session.expire_all()
                single = _columns(ctx.session.get(Lead, one.id))
                for lead in made:
                    stored = ctx.session.get(Lead, lead.id)
                    assert _columns(stored) == single
                    snapshot = IMPORTER.snapshot(ctx, stored)
                    assert fingerprint(IMPORTER.snapshot(ctx, lead)) == fingerprint(snapshot)
                status = LeadStatus.UNMANAGED if owner is None else LeadStatus.IN_PROGRESS
                assert single["status"] is status and single["owner_id"] == owner
            ctx.session.rollback()
    finally:
        ctx.close()


def test_a_bulk_import_is_undone_whole(gateway, demo):
    ctx = _ctx(gateway, "manager@demo.test")
    rows = [
        (i + 2, [f"Whole {i}", "Whole SL", f"whole{i}@lead.test", None, "Web", "rep1@demo.test"])
        for i in range(30)
    ]
    try:
        with ctx.transaction():
            run = run_import(ctx, IMPORTER, HEADER, rows, ImportOptions(entity="lead")).run
            run_id = run.id
            assert (run.created, run.failed) == (30, 0)
    finally:
        ctx.close()
    ctx = _ctx(gateway, "manager@demo.test")
    try:
        with ctx.transaction():
            ids = ctx.session.scalars(
                select(ImportRow.record_id).where(ImportRow.run_id == run_id)
            ).all()
            assert undo_import(ctx, IMPORTER, run_id).counts == {"REMOVED": 30}
            assert ctx.session.scalars(select(Lead.id).where(Lead.id.in_(ids))).all() == []
    finally:
        ctx.close()


def test_a_thousand_leads_go_in_by_chunks_not_rows_and_are_audited(gateway, demo, as_):
    manager = as_("manager")
    inserts: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO LEADS"):
            inserts.append(len(parameters) if executemany else 1)

    tag = uuid.uuid4().hex[:6]
    rows = [
        [f"Chunk {tag} {i}", "", f"c{i}.{tag}@lead.test", "", "Web", "rep1@demo.test"]
        for i in range(1000)
    ]
    rows[500][2] = "broken@"  # a bad row costs only itself, the bulk stays a bulk
    file_id = _send(manager, HEADER, rows)
    event.listen(gateway.db.engine, "before_cursor_execute", count)
    try:
        job = _run(manager, file_id, gateway)
    finally:
        event.remove(gateway.db.engine, "before_cursor_execute", count)
    assert (job["importRun"]["created"], job["importRun"]["failed"]) == (999, 1)
    # one executemany per chunk of 500 rows (a row-by-row path would send 999 INSERTs)
    assert len(inserts) <= 2 and sum(inserts) == 999
    # audited as an import of the manager's, like a lead made by hand
    lead_id = _global_id(manager, f"Chunk {tag} 999")
    r = manager(HISTORY, {"id": lead_id})
    assert r.errors == [], r.errors
    [created] = [e["node"] for e in r.data["recordHistory"]["edges"]]
    assert (created["action"], created["via"], created["user"]) == (
        "created",
        "import",
        {"email": "manager@demo.test"},
    )
    after = {c["field"]: json.loads(c["after"]) for c in created["changes"] if c["after"]}
    assert after["name"] == f"Chunk {tag} 999"
