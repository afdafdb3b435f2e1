"""The kernel import engine with the contacts importer, run as a job would run it (a
``CallerContext`` acting for the importing user): modes, dry run, row policy, per-row errors
on their cells, undo with before-images, and the importing user's access."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.context import CallerContext, Via
from gateway.identity.models import User
from gateway.imports import (
    ImportMode,
    ImportOptions,
    ImportRow,
    RowPolicy,
    run_import,
    undo_import,
)
from plugins.contacts.imports import ContactImporter
from plugins.contacts.models import Contact

IMPORTER = ContactImporter()
HEADER = ["Company", "Fiscal ID", "Email", "Phone", "City", "Tags", "Discount %"]


def _pk(gateway, email: str) -> int:
    with gateway.db.reading() as s:
        return s.scalar(select(User.id).where(User.email == email))


def _count(gateway, **where) -> int:
    with gateway.db.reading() as s:
        q = select(func.count()).select_from(Contact)
        for attr, value in where.items():
            q = q.where(getattr(Contact, attr) == value)
        return s.scalar(q)


def _run(gateway, who: str, header, rows, **options):
    ctx = CallerContext.acting_for(gateway, _pk(gateway, who), via=Via.JOB)
    opts = ImportOptions(entity="contact", variant=options.pop("variant", "company"), **options)
    try:
        with ctx.transaction():
            run = run_import(ctx, IMPORTER, header, list(enumerate(rows, start=2)), opts).run
            report = {
                "id": run.id,
                "applied": run.applied,
                "counts": (run.total, run.created, run.updated, run.unchanged, run.failed),
                "unmatched": run.unmatched_headers,
            }
            rows_out = ctx.session.scalars(
                select(ImportRow).where(ImportRow.run_id == run.id).order_by(ImportRow.row)
            ).all()
            report["rows"] = [(r.row, r.outcome, r.errors, r.record_id) for r in rows_out]
        return report
    finally:
        ctx.close()


def _undo(gateway, who: str, run_id: int):
    ctx = CallerContext.acting_for(gateway, _pk(gateway, who), via=Via.JOB)
    try:
        with ctx.transaction():
            return undo_import(ctx, IMPORTER, run_id)
    finally:
        ctx.close()


def _rows(n: int, bad_every: int = 0, prefix: str = "Imp"):
    rows = []
    for i in range(n):
        bad = bad_every and i % bad_every == 0
        rows.append(
            [
                f"{prefix} {i:04d} SL",
                None,
                "not-an-email" if bad else f"{prefix.lower()}{i}@example.test",
                "600 000 000",
                "Madrid",
                None,
                "150" if bad else "5",
            ]
        )
    return rows


def test_only_valid_rows_imports_the_good_ones_and_reports_the_bad_on_their_cells(gateway, demo):
    before = _count(gateway)
    report = _run(gateway, "admin@demo.test", HEADER, _rows(1000, bad_every=20))
    assert report["applied"] is True
    assert report["counts"] == (1000, 950, 0, 0, 50)
    assert _count(gateway) == before + 950
    failed = [r for r in report["rows"] if r[1] == "FAILED"]
    assert [r[0] for r in failed] == [i + 2 for i in range(0, 1000, 20)]
    for _row, _outcome, errors, record_id in failed:
        assert record_id is None
        assert {e["column"] for e in errors} == {"email", "discount"}


def test_dry_run_writes_nothing_and_reports_what_a_run_would_do(gateway, demo):
    before = _count(gateway)
    dry = _run(gateway, "admin@demo.test", HEADER, _rows(100, bad_every=10), dry_run=True)
    assert dry["applied"] is False
    assert _count(gateway) == before
    real = _run(gateway, "admin@demo.test", HEADER, _rows(100, bad_every=10))
    assert dry["counts"] == real["counts"] == (100, 90, 0, 0, 10)
    assert [r[:3] for r in dry["rows"]] == [r[:3] for r in real["rows"]]


def test_all_or_nothing_writes_nothing_when_one_row_fails(gateway, demo):
    before = _count(gateway)
    report = _run(
        gateway, "admin@demo.test", HEADER, _rows(30, bad_every=29), policy=RowPolicy.ALL_OR_NOTHING
    )
    assert report["applied"] is False
    assert report["counts"][4] == 2
    assert _count(gateway) == before


def test_update_by_fiscal_id_then_undo_restores_except_rows_edited_since(gateway, demo):
    header = ["Company", "Fiscal ID", "City"]
    rows = [[f"Undo {i} SL", f"B0000000{i}", "Sevilla"] for i in range(3)]
    created = _run(gateway, "admin@demo.test", header, rows)
    assert created["counts"] == (3, 3, 0, 0, 0)
    ids = [r[3] for r in created["rows"]]

    updated = _run(
        gateway,
        "admin@demo.test",
        ["Fiscal ID", "City"],
        [[f"B0000000{i}", "Bilbao"] for i in range(3)] + [["B99999999", "Lugo"]],
        mode=ImportMode.CREATE_OR_UPDATE,
        match_by=("fiscalId",),
    )
    assert updated["counts"] == (4, 0, 3, 0, 1)  # the new one lacks its required name
    assert updated["rows"][3][2] == [
        {"code": "REQUIRED", "message": "Company is required", "column": "companyName"}
    ]

    # someone edits the second contact after the import
    with gateway.db.session(write=True) as s, s.begin():
        s.get(Contact, ids[1]).city = "Cádiz"

    report = _undo(gateway, "admin@demo.test", updated["id"])
    assert report.counts.get("RESTORED") == 2
    assert [(row, rid, what) for row, rid, what, _ in report.left_alone] == [
        (3, ids[1], "EDITED_SINCE")
    ]
    with gateway.db.reading() as s:
        cities = [s.get(Contact, i).city for i in ids]
    assert cities == ["Sevilla", "Cádiz", "Sevilla"]

    again = _undo(gateway, "admin@demo.test", created["id"])
    assert again.counts.get("REMOVED") == 2
    assert [what for _, _, what, _ in again.left_alone] == ["EDITED_SINCE"]
    assert _count(gateway, id=ids[0]) == 0 and _count(gateway, id=ids[1]) == 1


def test_a_rep_cannot_update_or_even_detect_what_they_cannot_see(gateway, demo):
    with gateway.db.reading() as s:
        hidden = s.scalars(
            select(Contact).where(
                Contact.owner_id == _pk(gateway, "rep2@demo.test"), Contact.access == "PRIVATE"
            )
        ).first()
        assert hidden is not None
        hidden_id = hidden.id
    report = _run(
        gateway,
        "rep1@demo.test",
        ["ID", "City"],
        [[str(hidden_id), "Nowhere"], ["999999", "Nowhere"]],
        mode=ImportMode.UPDATE,
        match_by=("id",),
    )
    assert report["counts"] == (2, 0, 0, 0, 2)
    # the hidden record and the missing one fail alike
    assert report["rows"][0][2] == report["rows"][1][2]
    with gateway.db.reading() as s:
        assert s.get(Contact, hidden_id).city != "Nowhere"


def test_missing_required_column_refuses_the_file(gateway, demo):
    from gateway.errors import BadUserInput

    with pytest.raises(BadUserInput, match="lacks required columns: Company"):
        _run(gateway, "admin@demo.test", ["City"], [["Madrid"]])


def test_several_emails_and_phones_in_one_cell(gateway, demo):
    report = _run(
        gateway,
        "admin@demo.test",
        ["Company", "Email", "Phone"],
        [["Multi SL", "a@multi.test, b@multi.test", "600 111 222; 911 222 333"]],
    )
    assert report["counts"][1] == 1
    with gateway.db.reading() as s:
        contact = s.get(Contact, report["rows"][0][3])
        assert [e.address for e in contact.emails] == ["a@multi.test", "b@multi.test"]
        assert len(contact.phones) == 2


def test_hook_crm_importers(registry):
    importer = registry.importers["contact"]
    assert isinstance(importer, ContactImporter)
    assert importer.variants == ("company", "individual", "documents")


@pytest.mark.parametrize("variant", ["company", "individual", "documents"])
def test_every_template_header_feeds_an_import_column(gateway, demo, variant):
    import io

    import openpyxl

    from gateway.imports import match_header
    from gateway.sheets.template import render_template
    from plugins.contacts.templates import TEMPLATES

    template = next(t for t in TEMPLATES if t.variant == variant)
    ctx = CallerContext.acting_for(gateway, _pk(gateway, "admin@demo.test"), via=Via.JOB)
    try:
        book = openpyxl.load_workbook(io.BytesIO(render_template(ctx, template)))
        header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
        columns = IMPORTER.columns(ctx, variant)
        match = match_header(columns, header, {}, {}, require=variant != "documents")
    finally:
        ctx.close()
    assert match.unmatched == ()
    assert None not in match.keys


def test_documents_files_tag_and_set_source_without_touching_other_tags(gateway, demo):
    header = ["Company", "Fiscal ID", "Tags"]
    made = _run(gateway, "admin@demo.test", header, [["Tagged SL", "B76543210", "customer"]])
    assert made["counts"][1] == 1
    report = _run(
        gateway,
        "admin@demo.test",
        ["Fiscal ID"],
        [["B76543210"], ["B00000000"]],
        variant="documents",
        mode=ImportMode.UPDATE,
        match_by=("fiscalId",),
        defaults={"addTags": "VIP", "source": "Fair 2026", "segment": "Retail"},
    )
    assert report["counts"] == (2, 0, 1, 0, 1)
    with gateway.db.reading() as s:
        contact = s.get(Contact, made["rows"][0][3])
        assert sorted(link.tag.name for link in contact.tag_links) == ["VIP", "customer"]
        assert (contact.source, contact.segment) == ("Fair 2026", "Retail")


def test_documents_files_only_update(gateway, demo):
    from gateway.errors import BadUserInput

    with pytest.raises(BadUserInput, match="only update"):
        _run(gateway, "admin@demo.test", ["Fiscal ID"], [["B76543210"]], variant="documents")


def test_assign_by_document_numbers_then_undo(gateway, demo):
    """M3: a documents file assigns the clients to a user for a managing company; the user
    then sees them; undo takes the assignment back."""
    made = _run(gateway, "admin@demo.test", ["Company", "Fiscal ID"], [["Assign SL", "B11111111"]])
    contact_id = made["rows"][0][3]
    report = _run(
        gateway,
        "admin@demo.test",
        ["Fiscal ID"],
        [["B11111111"]],
        variant="documents",
        mode=ImportMode.UPDATE,
        match_by=("fiscalId",),
        defaults={
            "managingCompany": "Demo Trading Iberia S.L.",
            "branch": "Madrid",
            "assignedUser": "rep2@demo.test",
        },
    )
    assert report["counts"] == (1, 0, 1, 0, 0)
    rep2 = CallerContext.acting_for(gateway, _pk(gateway, "rep2@demo.test"), via=Via.JOB)
    try:
        assert rep2.session.get(Contact, contact_id) is not None
    finally:
        rep2.close()
    bad = _run(
        gateway,
        "admin@demo.test",
        ["Fiscal ID", "Managing company", "Assigned user"],
        [["B11111111", "Nowhere Ltd", "ghost@demo.test"]],
        variant="documents",
        mode=ImportMode.UPDATE,
        match_by=("fiscalId",),
    )
    assert {e["column"] for e in bad["rows"][0][2]} == {"managingCompany", "assignedUser"}

    _undo(gateway, "admin@demo.test", report["id"])
    with gateway.db.reading() as s:
        assert s.get(Contact, contact_id).assignments == []


def test_a_reps_import_never_reveals_a_record_they_cannot_see(gateway, demo):
    """Results, errors and counts are the same whether a hidden record exists or not."""
    from plugins.contacts.models import ContactEmail, ContactKind

    rep2 = _pk(gateway, "rep2@demo.test")
    with gateway.db.reading() as s:
        hidden = s.scalars(
            select(Contact).where(
                Contact.owner_id == rep2,
                Contact.access == "PRIVATE",
                Contact.kind == ContactKind.COMPANY,
            )
        ).first()
        assert hidden is not None
        hidden_name = hidden.company_name
        hidden_email = s.scalar(
            select(ContactEmail.address).where(ContactEmail.contact_id == hidden.id)
        )
    assert hidden_email is not None
    # CREATE with a match key: a visible match would be CONFLICT; a hidden one is no match.
    created = _run(
        gateway,
        "rep1@demo.test",
        ["Company", "Email"],
        [["Shadow SL", hidden_email], ["Shadow Two SL", "nobody@nowhere.test"]],
        match_by=("email",),
    )
    assert [r[1] for r in created["rows"]] == ["CREATED", "CREATED"]
    # A person's company named by a hidden company's name reads as a missing one.
    people = _run(
        gateway,
        "rep1@demo.test",
        ["First name", "Company"],
        [["Ana", hidden_name], ["Luis", "No Such Company Ltd"]],
        variant="individual",
    )
    errors = [r[2] for r in people["rows"]]
    assert errors[0][0]["code"] == errors[1][0]["code"] == "NOT_FOUND"
    assert errors[0][0]["message"].replace(hidden_name, "X") == errors[1][0]["message"].replace(
        "No Such Company Ltd", "X"
    )
