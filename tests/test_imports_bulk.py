"""Contacts created in bulk by an import (``services.create_contacts``: one INSERT per table)
are the contacts ``create_contact`` makes from the same input — same columns, same
dependent rows, same events — and what the import fingerprints for undo (computed from the
values written, not read back) is what a later read gives."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from gateway.context import CallerContext, Via
from gateway.identity.models import User
from gateway.imports import ImportOptions, ImportRow, run_import, undo_import
from gateway.imports.engine import fingerprint
from plugins.contacts import services
from plugins.contacts.imports import ContactImporter
from plugins.contacts.imports.parsing import contact_data
from plugins.contacts.models import Contact, ContactAssignment
from tests.plugins.audit.models import AuditEntry

IMPORTER = ContactImporter()
HEADER = [
    "Company", "Fiscal ID", "Fiscal ID type", "Email", "Phone", "Tags", "Discount %",
    "Latitude", "Longitude", "Contact type", "Category", "Industry",
    "Annual revenue (EUR)", "Wants the newsletter", "Managing company", "Branch",
    "Assigned user", "Country", "Currency",
]  # fmt: skip


def _row(i: int) -> list[str | None]:
    return [
        f"Bulk {i} S.L.", "B12345674" if i == 0 else None, "CIF" if i == 0 else None,
        f"bulk{i}@example.test, other{i}@example.test", "+34 600 000 001, 911 22 33 44",
        "customer, partner", "12.345", "40.4167754", "-3.70379", "Client", "POTENTIAL",
        "Food", "1234567.5", "true" if i % 2 else "false", "Demo Trading Iberia S.L.", "Madrid",
        "rep1@demo.test", "es", "usd",
    ]  # fmt: skip


def _ctx(gateway, email: str) -> CallerContext:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    return CallerContext.acting_for(gateway, user_id, via=Via.JOB)


def _stored(ctx: CallerContext, contact: Contact) -> dict:
    """Everything a contact is: its columns (but its key and times) and dependent rows."""
    values = {
        c.key: getattr(contact, c.key)
        for c in Contact.__table__.columns
        if c.key not in ("id", "created_at", "updated_at")
    }
    image = IMPORTER.snapshot(ctx, contact)
    assigned = ctx.session.scalars(
        select(ContactAssignment).where(ContactAssignment.contact_id == contact.id)
    )
    image["assignments"] = sorted(
        (a.company_id, a.branch_id, a.user_id, a.assigned_by_id) for a in assigned
    )
    image["digits"] = [p.digits for p in contact.phones]
    image["positions"] = [e.position for e in contact.emails]
    return {"values": values, "image": image}


def test_bulk_and_single_create_write_the_same_contact(gateway, demo, client_for):
    admin = client_for("admin@demo.test")
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    ctx = _ctx(gateway, "manager@demo.test")
    columns = {c.key: c for c in IMPORTER.columns(ctx, "company")}
    from gateway.imports.mapping import match_header

    match = match_header(list(columns.values()), HEADER, {}, {}, require=True)
    try:
        with ctx.transaction():
            data = [contact_data(ctx, "company", match.row(_row(i))) for i in range(2)]
            one = services.create_contact(ctx, data[0])
            drafts = services.create_contacts(ctx, data)
            ctx.session.flush()
            ctx.session.expire_all()
            single = _stored(ctx, ctx.session.get(Contact, one.id))
            bulk = _stored(ctx, ctx.session.get(Contact, drafts[0].id))
            assert bulk == single
            assert bulk["values"]["discount"] == Decimal("12.35")  # rounded as stored
            assert len(bulk["image"]["emails"]) == 2 and bulk["image"]["tags"] == [
                "customer",
                "partner",
            ]
            assert bulk["image"]["custom_fields"]["annual_revenue"] == "1234567.5"
            assert len(bulk["image"]["assignments"]) == 1
            # what the import fingerprints (the drafts) is what a read gives
            for draft in drafts:
                stored = ctx.session.get(Contact, draft.id)
                snapshot = IMPORTER.snapshot(ctx, stored)
                assert fingerprint(IMPORTER.snapshot(ctx, draft)) == fingerprint(snapshot)
            # one record event per contact, as create_contact fires
            logged = ctx.session.scalars(
                select(AuditEntry.record_id).where(
                    AuditEntry.entity == "contact", AuditEntry.kind == "created"
                )
            ).all()
            assert {one.id, *(d.id for d in drafts)} <= set(logged)
            ctx.session.rollback()
    finally:
        ctx.close()


def test_a_bulk_import_is_undone_whole(gateway, demo):
    """Every contact created in bulk is found unedited by undo (fingerprints agree)."""
    ctx = _ctx(gateway, "manager@demo.test")
    options = ImportOptions(entity="contact", variant="company")
    rows = [(i + 2, _row(i)) for i in range(30)]
    try:
        with ctx.transaction():
            run = run_import(ctx, IMPORTER, HEADER, rows, options).run
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
            report = undo_import(ctx, IMPORTER, run_id)
            assert report.counts == {"REMOVED": 30}
            left = ctx.session.scalars(select(Contact.id).where(Contact.id.in_(ids))).all()
            assert left == []
    finally:
        ctx.close()


def test_a_bulk_create_refused_by_access_writes_nothing(gateway, demo):
    """The flush's checks hold without the flush: an assistant may not own a contact."""
    ctx = _ctx(gateway, "manager@demo.test")
    options = ImportOptions(entity="contact", variant="company")
    header = ["Company", "Owner"]
    rows = [(2, ["Fine S.L.", "rep1@demo.test"]), (3, ["Refused S.L.", "assistant@demo.test"])]
    try:
        with ctx.transaction():
            report = run_import(ctx, IMPORTER, header, rows, options)
            outcomes = ctx.session.execute(
                select(ImportRow.row, ImportRow.outcome).where(ImportRow.run_id == report.run.id)
            ).all()
            assert sorted(outcomes) == [(2, "CREATED"), (3, "FAILED")]
            names = ctx.session.scalars(
                select(Contact.company_name).where(
                    Contact.company_name.in_(["Fine S.L.", "Refused S.L."])
                )
            ).all()
            assert names == ["Fine S.L."]
    finally:
        ctx.close()


def test_the_draft_mirrors_the_contact_columns():
    """A column added to ``Contact`` is declared on ``ContactDraft`` too (typed rules)."""
    from plugins.contacts.draft import COLLECTIONS, ContactDraft, columns

    declared = set(ContactDraft.__annotations__) - {*COLLECTIONS, "company"}
    assert declared == {attr for attr, _ in columns()}
    draft = ContactDraft()
    assert draft.currency == "EUR" and draft.id is None and "id" not in draft.row()
