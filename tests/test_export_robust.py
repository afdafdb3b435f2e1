"""Exports, PDFs and mail work whatever text the database already holds (issue 12, item 7).

Inputs now refuse control characters, but older rows may hold them: one such character
made ``exportContacts``/``exportInvoices`` fail for everyone who could see the record. The
rows here are written straight through the ORM, as old data would be; every document must
still be produced, showing each character it cannot carry as U+FFFD ("?" in the PDF's
Windows-1252 font), and no spreadsheet cell may be a formula.
"""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from gateway import excel
from gateway.identity.models import Profile, ProfileKind
from gateway.tenancy.models import Tenant
from gateway.testing import GraphQLClient
from gateway.text import printable
from plugins.contacts.models import (
    Contact,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    Tag,
)
from plugins.invoices.models import Invoice, InvoiceSettings, InvoiceStatus

#: Characters XML, PDF text or mail headers cannot carry. PostgreSQL itself refuses NUL in
#: text, so only SQLite can hold it.
CONTROL = "\x01\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f\x85\x9f\ufffe\uffff"


def _bad(gateway) -> str:
    return CONTROL + ("\x00" if gateway.db.is_sqlite else "")


def dirty(text: str, gateway) -> str:
    """``text`` followed by control characters (and NUL where it can be stored)."""
    return text + _bad(gateway)


def shown(text: str, gateway) -> str:
    """How a document shows ``dirty(text)``: one U+FFFD per character it cannot carry."""
    return text + "\ufffd" * len(_bad(gateway))


def workbook(response, name):
    assert response.errors == [], response.errors
    content = response.data[name]["contentBase64"]
    return openpyxl.load_workbook(io.BytesIO(base64.b64decode(content)))


def rows_of(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]


def no_formulas(book) -> None:
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def no_control_characters(text: str) -> None:
    assert printable(text) == text, repr(text)


@pytest.fixture
def dirty_rows(gateway, demo):
    """A contact of rep1 (public, with tags, emails, phones, a 100k description), rep1's
    billed demo invoice, the company profile and a profile, all holding control characters."""
    tenant = demo["demo"]
    rep1 = tenant.users["rep1@demo.test"]
    d = lambda text: dirty(text, gateway)  # noqa: E731
    with gateway.db.transaction() as session:
        tag = Tag(tenant_id=tenant.id, name=d("=cmd|' /C calc'!A0"))
        contact = Contact(
            tenant_id=tenant.id,
            kind=ContactKind.PERSON,
            first_name=d("=Ada"),
            last_name=d("Lovelace"),
            company_name=d("Engines"),
            fiscal_id=d("B12345678"),
            city=d("London"),
            country="GB",
            source=d("web"),
            segment=d("+SUM(A1:A9)"),
            zone=d("@north"),
            description=d("Analytical ") * 10_000,
            owner_id=rep1.id,
            access="PUBLIC_READ",
        )
        contact.emails = [ContactEmail(tenant_id=tenant.id, address="ada@example.com")]
        contact.phones = [ContactPhone(tenant_id=tenant.id, number=d("+44 20 7946 0000"))]
        session.add_all([tag, contact])
        session.flush()
        session.add(ContactTagLink(tenant_id=tenant.id, contact_id=contact.id, tag_id=tag.id))
        invoice = session.scalar(
            select(Invoice).where(
                Invoice.tenant_id == tenant.id, Invoice.status == InvoiceStatus.BILLED
            )
        )
        invoice.contact_id = contact.id
        invoice.order_number = d("-PO-77")
        invoice.billing_address = d("1 Engine Row\nLondon")
        invoice.delivery_address = d("2 Mill Lane\nLeeds")
        invoice.terms = d("Pay within 30 days")
        invoice.notes = d("Handle with care")
        invoice.lines[0].description = d("=Difference engine")
        invoice.lines[0].taxes[0].name = d("VAT")
        settings = session.get_one(InvoiceSettings, tenant.id)
        settings.company_name = d("Demo Works Ltd")
        settings.address = d("Calle Mayor 1")
        settings.fiscal_id = d("B00000000")
        session.get_one(Tenant, tenant.id).name = d("Demo Trading Ltd")
        session.add(
            Profile(tenant_id=tenant.id, name=d("Night shift"), kind=ProfileKind.STRUCTURAL)
        )
        return {"invoice": invoice.id, "number": invoice.number_text}


def test_contact_export_shows_control_characters_as_replacement_characters(
    as_, gateway, dirty_rows
):
    s = lambda text: shown(text, gateway)  # noqa: E731
    for who in ("rep1", "rep2", "admin"):  # owner, public reader, administrator
        book = workbook(as_(who)("{ exportContacts { contentBase64 } }"), "exportContacts")
        no_formulas(book)
        name = f"{s('=Ada')} {s('Lovelace')}"
        (row,) = [r for r in rows_of(book["Contacts"]) if r["Name"] == name]
        assert row["Company"] == s("Engines") and row["Fiscal ID"] == s("B12345678")
        assert (row["City"], row["Source"], row["Segment"], row["Zone"]) == (
            s("London"),
            s("web"),
            s("+SUM(A1:A9)"),
            s("@north"),
        )
        assert row["Phone"] == s("+44 20 7946 0000")
        assert row["Tags"] == s("=cmd|' /C calc'!A0")
        if who != "rep2":  # full-access field: blank for a public reader
            # cut at Excel's limit of 32,767 characters per cell, marked with an ellipsis
            assert len(row["Description"]) == excel.CELL_LIMIT
            assert row["Description"].startswith(s("Analytical ") + s("Analytical "))
            assert row["Description"].endswith("…")


def test_invoice_export_pdf_and_mail_show_control_characters_as_replacement_characters(
    demo, gateway, mail_app, dirty_rows
):
    s = lambda text: shown(text, gateway)  # noqa: E731
    http, inbox = mail_app
    rep1, manager, admin = (
        GraphQLClient(http).login(f"{who}@demo.test") for who in ("rep1", "manager", "admin")
    )
    number = dirty_rows["number"]
    for client in (manager, admin):  # rep1's manager, the administrator (both may export)
        book = workbook(client("{ exportInvoices { contentBase64 } }"), "exportInvoices")
        no_formulas(book)
        (row,) = [r for r in rows_of(book["Invoices"]) if r["Number"] == number]
        assert row["Order number"] == s("-PO-77")
        assert row["Client"] == f"{s('=Ada')} {s('Lovelace')}"
        lines = [r for r in rows_of(book["Lines"]) if r["Invoice"] == number]
        assert lines[0]["Description"] == s("=Difference engine")
    from gateway.graphql.common import global_id

    invoice_id = global_id("Invoice", dirty_rows["invoice"])
    for client in (rep1, manager, admin):
        r = client(
            "query($id: ID!) { invoicePdf(id: $id) { filename contentBase64 } }", {"id": invoice_id}
        )
        assert r.errors == [], r.errors
        assert r.data["invoicePdf"]["filename"] == f"{number}.pdf"
        reader = PdfReader(io.BytesIO(base64.b64decode(r.data["invoicePdf"]["contentBase64"])))
        text = " ".join(page.extract_text() for page in reader.pages)
        for printed in (
            "Demo Works Ltd" + "?" * len(_bad(gateway)),
            "Ada",
            "Lovelace",
            "Difference engine",
            "21 %",
            "-PO-77",
            "1 Engine Row",
            "2 Mill Lane",
            "Pay within 30 days",
            "Handle with care",
        ):
            assert printed in text, printed
        no_control_characters(text.replace("\n", " "))
    sent = rep1(
        """mutation($id: ID!) { sendInvoice(id: $id) { sentTo errors { code message field } } }""",
        {"id": invoice_id},
    ).data["sendInvoice"]
    assert sent == {"sentTo": "ada@example.com", "errors": []}
    (message,) = inbox.messages
    assert message["Subject"] == f"Invoice {number} — {s('Demo Works Ltd')}"
    body = message.get_body(("plain",)).get_content()
    assert s("Handle with care") in body
    no_control_characters(body)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{number}.pdf"


def test_invitation_mail_and_profile_export_survive_control_characters(
    demo, gateway, mail_app, dirty_rows
):
    http, inbox = mail_app
    admin = GraphQLClient(http).login("admin@demo.test")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    sent = admin(
        """mutation($p: ID!) { inviteUser(email: "newbie@example.com", profileId: $p) {
        errors { code message } } }""",
        {"p": profiles["Sales rep"]},
    )
    assert sent.errors == [] and sent.data["inviteUser"]["errors"] == [], sent.body
    (message,) = inbox.messages
    assert message["Subject"].endswith(f"invites you to {shown('Demo Trading Ltd', gateway)}")
    no_control_characters(message.get_content())
    book = workbook(admin("{ exportProfiles { contentBase64 } }"), "exportProfiles")
    no_formulas(book)
    assert shown("Night shift", gateway) in [r["Profile"] for r in rows_of(book["Profiles"])]


def test_a_stored_recipient_with_control_characters_is_refused_not_rewritten(
    as_, gateway, demo, dirty_rows
):
    with gateway.db.transaction() as session:
        email = session.scalar(
            select(ContactEmail).where(ContactEmail.address == "ada@example.com")
        )
        email.address = "ada\x07@example.com"
    from gateway.graphql.common import global_id

    r = as_("rep1")(
        """mutation($id: ID!) { sendInvoice(id: $id) { sentTo errors { code field } } }""",
        {"id": global_id("Invoice", dirty_rows["invoice"])},
    )
    assert r.errors == [], r.errors
    assert r.data["sendInvoice"] == {
        "sentTo": None,
        "errors": [{"code": "BAD_USER_INPUT", "field": "to"}],
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("NaN"), "NaN"),
        (Decimal("sNaN"), "NaN"),
        (Decimal("-Infinity"), "-Infinity"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (date(1, 1, 1), "0001-01-01"),
        (datetime(1899, 12, 31, 23, 0), "1899-12-31T23:00:00"),
        ("\ud800lone\udfff", "\ufffdlone\ufffd"),
        ("tab\tand\nlines", "tab\tand\nlines"),
    ],
)
def test_cells_hold_values_a_spreadsheet_cannot(value, shown):
    book = excel.new_workbook()
    excel.add_sheet(book, "S", ["Value"], [[value]])
    sheet = openpyxl.load_workbook(io.BytesIO(excel.to_bytes(book)))["S"]
    assert sheet["A2"].value == shown and sheet["A2"].data_type == "s"


def test_aware_date_times_are_written_in_utc():
    from datetime import UTC, timedelta, timezone

    book = excel.new_workbook()
    moment = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    excel.add_sheet(book, "S", ["When"], [[moment]])
    sheet = openpyxl.load_workbook(io.BytesIO(excel.to_bytes(book)))["S"]
    assert sheet["A2"].value == moment.astimezone(UTC).replace(tzinfo=None)
