"""The invoices module over HTTP, as the demo users: drafts and exact totals, issuing and
numbering, status rules, billing permissions, record access, PDF, Excel, email, duplicate,
the contact deletion veto and merge, dashboard figures, statement budgets."""

from __future__ import annotations

import base64
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from plugins.invoices import totals
from plugins.invoices.totals import LineSpec, TaxSpec

FIELDS = """id number status issueDate dueDate currency subtotal taxTotal total billingAddress
  deliveryAddress consigneeSameAsClient client { displayName } owner { email }
  lines { kind description quantity unitPrice discount netAmount taxAmount
          taxes { name rate amount } }
  taxes { name rate amount }"""
CREATE = f"""mutation($input: CreateInvoiceInput!) {{ createInvoice(input: $input) {{
  invoice {{ {FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateInvoiceInput!) {{ updateInvoice(id: $id, input: $input) {{
  invoice {{ {FIELDS} }} errors {{ code message field }} }} }}"""
ISSUE = """mutation($id: ID!, $n: String) { issueInvoice(id: $id, number: $n) {
  invoice { id number status issueDate dueDate } errors { code message field } } }"""
ISSUE_ON = """mutation($id: ID!, $n: String, $d: Date) {
  issueInvoice(id: $id, number: $n, issueDate: $d) {
  invoice { id number status issueDate dueDate } errors { code message field } } }"""
STATUS = """mutation($id: ID!, $s: InvoiceStatus!) { setInvoiceStatus(id: $id, status: $s) {
  invoice { status number } errors { code message field } } }"""
DELETE = "mutation($id: ID!) { deleteInvoice(id: $id) { deletedId errors { code message } } }"
SAVE_TAX = """mutation($i: InvoiceTaxInput!) { saveInvoiceTax(input: $i) { tax { id name }
  errors { code message field } } }"""
SAVE_ITEM = """mutation($i: InvoiceItemInput!) { saveInvoiceItem(input: $i) { item { id name }
  errors { code message field } } }"""
CONTACTS = "{ contacts(first: 100) { edges { node { id displayName } } } }"


def contact_id(client, name):
    edges = client(CONTACTS).data["contacts"]["edges"]
    return next(e["node"]["id"] for e in edges if e["node"]["displayName"] == name)


def create_contact(client, **fields):
    r = client(
        """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id }
        errors { code message } } }""",
        {"i": {"kind": "COMPANY", **fields}},
    )
    assert r.data["createContact"]["errors"] == [], r.body
    return r.data["createContact"]["contact"]["id"]


def catalogue(client):
    taxes = {
        t["name"]: t["id"] for t in client("{ invoiceTaxes { id name } }").data["invoiceTaxes"]
    }
    items = {
        i["name"]: i["id"] for i in client("{ invoiceItems { id name } }").data["invoiceItems"]
    }
    return taxes, items


def create(client, **fields):
    r = client(CREATE, {"input": fields})
    assert r.errors == [], r.errors
    payload = r.data["createInvoice"]
    assert payload["errors"] == [], payload
    return payload["invoice"]


def service_line(items, qty="1"):
    return {"itemId": items["Support hours"], "quantity": qty}


def issue(client, invoice_id, number=None, issue_date=None):
    if issue_date is None:
        r = client(ISSUE, {"id": invoice_id, "n": number})
    else:
        r = client(ISSUE_ON, {"id": invoice_id, "n": number, "d": issue_date})
    assert r.errors == [], r.errors
    return r.data["issueInvoice"]


# -- totals ----------------------------------------------------------------------------------


def test_tricky_lines_match_hand_computed_totals_to_the_cent(as_):
    manager = as_("manager")
    taxes, items = catalogue(manager)
    client = contact_id(manager, "Atlantic Foods S.A.")
    inv = create(
        manager,
        clientId=client,
        currency="EUR",
        lines=[
            # 3.333 x 19.99 x 0.875 = 58.29833625 → 58.30; VAT 21 % = 12.243 → 12.24
            {
                "itemId": items["Pallet scanner"],
                "quantity": "3.333",
                "unitPrice": "19.99",
                "discount": "12.5",
                "taxIds": [taxes["VAT"]],
            },
            # 0.125 x 1234.5678 = 154.320975 → 154.32; VAT 32.4072 → 32.41;
            # compound levy 1.5 % on 154.32 + 32.41 = 186.73 → 2.80095 → 2.80
            {
                "itemId": items["Route planning workshop"],
                "quantity": "0.125",
                "unitPrice": "1234.5678",
                "taxIds": [taxes["VAT"], taxes["Eco levy"]],
            },
            # 0.125 → 0.13 (half-up, not half-even); reduced VAT 0.013 → 0.01
            {
                "kind": "OTHER",
                "description": "Rounding probe",
                "quantity": "1",
                "unitPrice": "0.125",
                "taxIds": [taxes["Reduced VAT"]],
            },
            # 2.5 x 3.30 x 0.9 = 7.425 → 7.43, no tax
            {
                "kind": "OTHER",
                "description": "Untaxed",
                "quantity": "2.5",
                "unitPrice": "3.30",
                "discount": "10",
                "taxIds": [],
            },
        ],
    )
    nets = [Decimal(line["netAmount"]) for line in inv["lines"]]
    line_taxes = [Decimal(line["taxAmount"]) for line in inv["lines"]]
    assert nets == [Decimal("58.30"), Decimal("154.32"), Decimal("0.13"), Decimal("7.43")]
    assert line_taxes == [Decimal("12.24"), Decimal("35.21"), Decimal("0.01"), Decimal("0")]
    assert [t["amount"] for t in inv["lines"][1]["taxes"]] == ["32.41", "2.80"]
    assert Decimal(inv["subtotal"]) == Decimal("220.18")
    assert Decimal(inv["taxTotal"]) == Decimal("47.46")
    assert Decimal(inv["total"]) == Decimal("267.64")
    summary = {(t["name"], Decimal(t["rate"])): Decimal(t["amount"]) for t in inv["taxes"]}
    assert summary == {
        ("VAT", Decimal(21)): Decimal("44.65"),
        ("Eco levy", Decimal("1.5")): Decimal("2.80"),
        ("Reduced VAT", Decimal(10)): Decimal("0.01"),
    }


def test_rounding_follows_the_currency_minor_unit():
    assert totals.minor_unit("EUR") == Decimal("0.01")
    assert totals.minor_unit("JPY") == Decimal(1)
    assert totals.minor_unit("KWD") == Decimal("0.001")
    yen = totals.compute(
        [LineSpec(Decimal("1.5"), Decimal("333"), taxes=[TaxSpec("T", Decimal(10))])], "JPY"
    )
    assert (yen.subtotal, yen.tax_total, yen.total) == (Decimal(500), Decimal(50), Decimal(550))
    dinar = totals.compute([LineSpec(Decimal(1), Decimal("0.0005"))], "KWD")
    assert dinar.total == Decimal("0.001")


def test_defaults_come_from_the_client_and_settings(as_):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    client = create_contact(
        rep1,
        companyName="Billing Test S.L.",
        street="Gran Via 1",
        city="Madrid",
        postalCode="28013",
        country="ES",
        currency="USD",
    )
    r = rep1(CREATE, {"input": {"clientId": client, "lines": [service_line(items)]}})
    wrong = r.data["createInvoice"]["errors"][0]
    assert (wrong["field"], "priced in EUR" in wrong["message"]) == ("lines.0.unitPrice", True)
    inv = create(rep1, clientId=client, lines=[{**service_line(items), "unitPrice": "70"}])
    assert inv["billingAddress"] == "Gran Via 1\n28013 Madrid\nES"
    assert inv["deliveryAddress"] == inv["billingAddress"] and inv["consigneeSameAsClient"]
    assert inv["currency"] == "USD" and inv["status"] == "DRAFT" and inv["number"] is None
    assert inv["owner"] == {"email": "rep1@demo.test"}
    assert inv["lines"][0]["kind"] == "SERVICE" and inv["lines"][0]["taxes"][0]["name"] == "VAT"
    days = date.fromisoformat(inv["dueDate"]) - date.fromisoformat(inv["issueDate"])
    assert days.days == 30
    r = rep1("""query($id: ID!) { invoice(id: $id) { terms } }""", {"id": inv["id"]}).data[
        "invoice"
    ]
    assert r["terms"].startswith("Bank transfer")
    other = create_contact(rep1, companyName="Consignee S.L.", city="Sevilla", country="ES")
    upd = rep1(
        UPDATE,
        {
            "id": inv["id"],
            "input": {"consigneeId": other, "dueTerm": "DATE", "dueDate": "2099-01-31"},
        },
    )
    upd = upd.data["updateInvoice"]
    assert upd["errors"] == []
    assert upd["invoice"]["deliveryAddress"] == "Sevilla\nES"
    assert not upd["invoice"]["consigneeSameAsClient"]
    assert upd["invoice"]["dueDate"] == "2099-01-31"


# -- issuing, numbering, status --------------------------------------------------------------


def test_numbers_are_given_at_issue_without_gaps_and_billed_invoices_are_frozen(as_):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    a = create(rep1, clientId=client, lines=[service_line(items)])
    dropped = create(rep1, clientId=client, lines=[service_line(items)])
    b = create(rep1, clientId=client, lines=[service_line(items)])
    assert rep1(DELETE, {"id": dropped["id"]}).data["deleteInvoice"]["errors"] == []
    first = issue(rep1, a["id"])
    second = issue(rep1, b["id"])
    # The demo issued INV0000001 and INV0000002; the deleted draft took no number.
    assert (first["invoice"]["number"], second["invoice"]["number"]) == ("INV0000003", "INV0000004")
    assert first["invoice"]["status"] == "BILLED"
    again = issue(rep1, a["id"])
    assert again["errors"][0]["code"] == "CONFLICT"
    edit = rep1(UPDATE, {"id": a["id"], "input": {"orderNumber": "PO-1"}}).data["updateInvoice"]
    assert edit["invoice"] is None and edit["errors"][0]["code"] == "CONFLICT"
    assert "only draft" in edit["errors"][0]["message"]
    gone = rep1(DELETE, {"id": a["id"]}).data["deleteInvoice"]
    assert gone["errors"][0]["code"] == "CONFLICT"


def test_status_changes_follow_the_rules(as_):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    inv = create(
        rep1, clientId=contact_id(rep1, "Iberia Logistics S.L."), lines=[service_line(items)]
    )
    assert (
        rep1(STATUS, {"id": inv["id"], "s": "PAID"}).data["setInvoiceStatus"]["errors"][0]["code"]
        == "CONFLICT"
    )
    billed = rep1(STATUS, {"id": inv["id"], "s": "BILLED"}).data["setInvoiceStatus"]
    assert billed["invoice"]["status"] == "BILLED" and billed["invoice"]["number"]
    for status in ("PAID", "BILLED", "REJECTED", "BILLED"):
        r = rep1(STATUS, {"id": inv["id"], "s": status}).data["setInvoiceStatus"]
        assert r["errors"] == [] and r["invoice"]["status"] == status
    back = rep1(STATUS, {"id": inv["id"], "s": "DRAFT"}).data["setInvoiceStatus"]
    assert back["errors"][0]["code"] == "CONFLICT"


def test_manual_numbers_need_the_permission_and_must_be_unique(as_):
    backoffice, rep1 = as_("backoffice"), as_("rep1")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    a = create(rep1, clientId=client, lines=[service_line(items)])
    assert issue(rep1, a["id"], "MAN-1")["errors"][0]["code"] == "FORBIDDEN"
    b = create(backoffice, clientId=client, lines=[service_line(items)])
    assert issue(backoffice, b["id"], "MAN-1")["invoice"]["number"] == "MAN-1"
    c = create(backoffice, clientId=client, lines=[service_line(items)])
    taken = issue(backoffice, c["id"], "INV0000001")["errors"][0]
    assert (taken["code"], taken["field"]) == ("CONFLICT", "number")
    # Changing the format: the next number cannot go back over issued ones.
    series = backoffice("{ invoiceSeries { id nextNumber nextFormatted } }").data["invoiceSeries"][
        0
    ]
    assert series["nextFormatted"] == "INV0000003"
    save = """mutation($id: ID, $i: InvoiceSeriesInput!) { saveInvoiceSeries(id: $id, input: $i) {
      series { nextFormatted } errors { code field } } }"""
    low = backoffice(save, {"id": series["id"], "i": {"nextNumber": 2}}).data["saveInvoiceSeries"]
    assert low["errors"][0]["field"] == "nextNumber"
    ok = backoffice(save, {"id": series["id"], "i": {"prefix": "F-2026-", "padding": 4}})
    assert ok.data["saveInvoiceSeries"]["series"]["nextFormatted"] == "F-2026-0003"
    assert issue(backoffice, c["id"])["invoice"]["number"] == "F-2026-0003"
    assert rep1(save, {"id": series["id"], "i": {"padding": 5}}).codes == ["FORBIDDEN"]


# -- permissions and access -----------------------------------------------------------------


def test_each_kind_of_line_needs_its_billing_permission(as_):
    rep1, assistant = as_("rep1"), as_("assistant")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    other = rep1(
        CREATE,
        {
            "input": {
                "clientId": client,
                "lines": [{"kind": "OTHER", "description": "Misc", "unitPrice": "5"}],
            }
        },
    ).data["createInvoice"]
    assert other["errors"][0]["code"] == "FORBIDDEN"
    assert "invoices.bill_other" in other["errors"][0]["message"]
    owner = rep1("{ me { user { id } } }").data["me"]["user"]["id"]
    article = assistant(
        CREATE,
        {
            "input": {
                "clientId": client,
                "ownerId": owner,
                "lines": [{"itemId": items["Pallet scanner"]}],
            }
        },
    ).data["createInvoice"]
    assert article["errors"][0]["code"] == "FORBIDDEN"
    assert "invoices.bill_articles" in article["errors"][0]["message"]
    service = assistant(
        CREATE, {"input": {"clientId": client, "ownerId": owner, "lines": [service_line(items)]}}
    ).data["createInvoice"]
    assert service["errors"] == [] and service["invoice"]["owner"] == {"email": "rep1@demo.test"}
    free = rep1(
        CREATE,
        {
            "input": {
                "clientId": client,
                "lines": [{"kind": "SERVICE", "description": "no item", "unitPrice": "1"}],
            }
        },
    ).data["createInvoice"]
    assert free["errors"][0]["field"] == "lines.0.itemId"


def test_field_rules_apply_to_invoices(as_):
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Invoice", fieldName: "lines", mode: READ_ONLY}]}) { errors { code } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == []
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    r = rep1(CREATE, {"input": {"clientId": client, "lines": [service_line(items)]}})
    assert r.data["createInvoice"]["errors"][0]["code"] == "FORBIDDEN"
    assert "Invoice.lines" in r.data["createInvoice"]["errors"][0]["message"]
    assert create(rep1, clientId=client, orderNumber="PO-9")["lines"] == []


def test_invoices_follow_record_access(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    _taxes, items = catalogue(rep1)
    inv = create(
        rep1, clientId=contact_id(rep1, "Iberia Logistics S.L."), lines=[service_line(items)]
    )
    query = "query($id: ID!) { invoice(id: $id) { id } node(id: $id) { id } }"
    assert rep2(query, {"id": inv["id"]}).data == {"invoice": None, "node": None}
    assert manager(query, {"id": inv["id"]}).data["invoice"] == {"id": inv["id"]}
    r = rep2(UPDATE, {"id": inv["id"], "input": {"notes": "x"}}).data["updateInvoice"]
    assert r["errors"][0]["code"] == "NOT_FOUND"
    listed = "{ invoices(first: 50) { totalCount edges { node { id } } } }"
    rep2_ids = {e["node"]["id"] for e in rep2(listed).data["invoices"]["edges"]}
    assert inv["id"] not in rep2_ids
    assert rep2(listed).data["invoices"]["totalCount"] == len(rep2_ids)
    # A client the caller cannot see cannot be invoiced.
    hidden = contact_id(rep1, "Iberia Logistics S.L.")
    r = rep2(CREATE, {"input": {"clientId": hidden, "lines": [service_line(items)]}})
    assert r.data["createInvoice"]["errors"][0]["code"] == "NOT_FOUND"


def test_catalogues_are_managed_with_the_settings_permission(as_):
    rep1, admin = as_("rep1"), as_("admin")
    assert rep1(SAVE_TAX, {"i": {"name": "X", "rate": "5"}}).codes == ["FORBIDDEN"]
    tax = admin(SAVE_TAX, {"i": {"name": "Surcharge", "rate": "5.2", "compound": True}})
    assert tax.data["saveInvoiceTax"]["errors"] == []
    dup = admin(SAVE_TAX, {"i": {"name": "Surcharge", "rate": "1"}}).data["saveInvoiceTax"]
    assert dup["errors"][0]["code"] == "CONFLICT"
    bad = admin(SAVE_TAX, {"i": {"name": "Bad", "rate": "120"}}).data["saveInvoiceTax"]
    assert bad["errors"][0]["field"] == "rate"
    item = admin(
        SAVE_ITEM,
        {
            "i": {
                "kind": "ARTICLE",
                "name": "Widget",
                "price": "9.99",
                "taxId": tax.data["saveInvoiceTax"]["tax"]["id"],
            }
        },
    )
    assert item.data["saveInvoiceItem"]["errors"] == []
    settings = admin(
        """mutation { updateInvoiceSettings(input: {companyName: "Demo Billing S.L.",
        fiscalId: "B99999999", defaultTerms: "30 days"}) { settings { companyName defaultTerms }
        errors { code } } }"""
    ).data["updateInvoiceSettings"]
    assert settings["settings"] == {"companyName": "Demo Billing S.L.", "defaultTerms": "30 days"}
    # Removing catalogue entries leaves the lines that used them intact.
    taxes, items = catalogue(admin)
    inv = create(
        admin,
        clientId=contact_id(admin, "Atlantic Foods S.A."),
        lines=[{"itemId": items["Widget"]}],
    )
    remove = "mutation($id: ID!) { %s(id: $id) { ok errors { code } } }"
    assert admin(remove % "deleteInvoiceItem", {"id": items["Widget"]}).data["deleteInvoiceItem"][
        "ok"
    ]
    assert admin(remove % "deleteInvoiceTax", {"id": taxes["Surcharge"]}).data["deleteInvoiceTax"][
        "ok"
    ]
    assert rep1(remove % "deleteInvoiceTax", {"id": taxes["VAT"]}).codes == ["FORBIDDEN"]
    line = admin(
        "query($id: ID!) { invoice(id: $id) { lines { itemId description taxes { name amount } } total } }",
        {"id": inv["id"]},
    ).data["invoice"]
    assert (
        line["lines"][0]["itemId"] is None and line["lines"][0]["taxes"][0]["name"] == "Surcharge"
    )
    assert line["total"] == inv["total"]


# -- documents and sending ------------------------------------------------------------------


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_pdf_renders_with_company_lines_and_totals_in_the_invoice_language(as_):
    manager, admin = as_("manager"), as_("admin")
    logo = admin(
        "mutation($d: String!) { setOrganizationLogo(dataUrl: $d) { errors { code message } } }",
        {"d": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    )
    assert logo.errors == [] and logo.data["setOrganizationLogo"]["errors"] == []
    _taxes, items = catalogue(manager)
    inv = create(
        manager,
        clientId=contact_id(manager, "Atlantic Foods S.A."),
        language="es",
        notes="Gracias por su confianza",
        lines=[service_line(items, "2"), {"itemId": items["Pallet scanner"], "discount": "10"}],
    )
    issued = issue(manager, inv["id"])["invoice"]
    r = manager(
        "query($id: ID!) { invoicePdf(id: $id) { filename mimeType contentBase64 } }",
        {"id": inv["id"]},
    )
    assert r.errors == [], r.errors
    doc = r.data["invoicePdf"]
    assert doc["filename"] == f"{issued['number']}.pdf" and doc["mimeType"] == "application/pdf"
    content = base64.b64decode(doc["contentBase64"])
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Factura" in text and issued["number"] in text
    assert "Demo S.L." in text and "Atlantic Foods S.A." in text
    assert "Support, per hour" in text and "Base imponible" in text
    # 2 x 65 = 130.00; 389.90 x 0.9 = 350.91; VAT 27.30 + 73.69 = 100.99; total 581.90
    assert "581,90" in text and "100,99" in text and "480,91" in text
    assert "Gracias por su confianza" in text
    assert any(page.images for page in reader.pages)  # the logo
    shown = manager("{ invoiceSettings { logo } }").data["invoiceSettings"]["logo"]
    assert shown.startswith("data:image/png;base64,")


def test_export_lists_visible_invoices_as_values_never_formulas(as_):
    manager = as_("manager")
    _taxes, items = catalogue(manager)
    create(
        manager,
        clientId=contact_id(manager, "Atlantic Foods S.A."),
        orderNumber="=1+1",
        lines=[{"itemId": items["Support hours"], "description": '=HYPERLINK("x")'}],
    )
    r = manager("{ exportInvoices { filename contentBase64 } }")
    assert r.errors == [], r.errors
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportInvoices"]["contentBase64"]))
    )
    sheet, lines = book["Invoices"], book["Lines"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Number", "Status", "Date"]
    cells = [c for row in sheet.iter_rows() for c in row] + [
        c for row in lines.iter_rows() for c in row
    ]
    assert all(c.data_type != "f" for c in cells)
    assert "=1+1" in [c.value for c in cells]
    assert sheet.max_row >= 3  # the demo's visible invoices plus the new one
    assert as_("rep1")("{ exportInvoices { filename } }").codes == ["FORBIDDEN"]
    # The director's private invoice is not the manager's to see: not exported either.
    director = as_("director")
    create(
        director,
        clientId=contact_id(director, "Hannah Becker"),
        orderNumber="PO-DIRECTOR-ONLY",
        lines=[service_line(items)],
    )
    again = export_book(manager)
    values = [c.value for row in again["Invoices"].iter_rows() for c in row]
    assert "PO-DIRECTOR-ONLY" not in values
    assert "PO-DIRECTOR-ONLY" in [
        c.value for row in export_book(as_("admin"))["Invoices"].iter_rows() for c in row
    ]


def export_book(client):
    r = client("{ exportInvoices { contentBase64 } }")
    assert r.errors == [], r.errors
    return openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportInvoices"]["contentBase64"]))
    )


def pdf_text(client, invoice_id):
    r = client(
        "query($id: ID!) { invoicePdf(id: $id) { contentBase64 } }",
        {"id": invoice_id},
    )
    assert r.errors == [], r.errors
    reader = PdfReader(io.BytesIO(base64.b64decode(r.data["invoicePdf"]["contentBase64"])))
    return " ".join(page.extract_text() for page in reader.pages)


def set_field_rules(admin, profile_name, rules):
    profiles = admin("{ profiles { id name } }").data["profiles"]
    profile = next(p["id"] for p in profiles if p["name"] == profile_name)
    r = admin(
        """mutation($id: ID!, $rules: [FieldRuleInput!]!) { updateProfile(id: $id,
        input: {fieldRules: $rules}) { errors { code message } } }""",
        {
            "id": profile,
            "rules": [{"typeName": t, "fieldName": f, "mode": m} for t, f, m in rules],
        },
    )
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body


def public_invoice(rep1, items, access="PUBLIC_WRITE", **fields):
    """rep1's invoice to Marco Rossi (a contact every rep may read), open to others only
    through a public access level."""
    return create(
        rep1,
        clientId=contact_id(rep1, "Marco Rossi"),
        access=access,
        notes="Internal: margin 40 %",
        lines=[service_line(items)],
        **fields,
    )


def test_pdf_leaves_the_notes_out_for_callers_with_public_access_only(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    _taxes, items = catalogue(rep1)
    inv = public_invoice(rep1, items)
    assert "margin 40" in pdf_text(rep1, inv["id"])
    seen = pdf_text(rep2, inv["id"])
    assert "Marco Rossi" in seen and "margin 40" not in seen
    assert rep2("query($id: ID!) { invoice(id: $id) { notes } }", {"id": inv["id"]}).codes == [
        "FORBIDDEN"
    ]


def test_pdf_and_export_leave_hidden_fields_out(as_):
    manager, admin = as_("manager"), as_("admin")
    _taxes, items = catalogue(manager)
    inv = create(
        manager,
        clientId=contact_id(manager, "Iberia Logistics S.L."),
        lines=[{**service_line(items), "unitPrice": "65"}],
    )
    assert inv["total"] == "78.65"
    before = pdf_text(manager, inv["id"])
    assert "B12345674" in before and "78.65" in before
    set_field_rules(
        admin,
        "Sales manager",
        [
            ("Invoice", "total", "HIDDEN"),
            ("Contact", "fiscalId", "HIDDEN"),
            ("InvoiceLine", "unitPrice", "HIDDEN"),
        ],
    )
    after = pdf_text(manager, inv["id"])
    assert "Iberia Logistics S.L." in after
    assert "B12345674" not in after and "78.65" not in after
    book = export_book(manager)
    assert "Total" not in [c.value for c in book["Invoices"][1]]
    # Amounts computed from the hidden unit price would reveal it (@derivedFrom): left out too.
    assert "Subtotal" not in [c.value for c in book["Invoices"][1]]
    assert "Order number" in [c.value for c in book["Invoices"][1]]
    assert "Unit price" not in [c.value for c in book["Lines"][1]]
    assert "Net amount" not in [c.value for c in book["Lines"][1]]
    assert "Quantity" in [c.value for c in book["Lines"][1]]
    assert "Total" in [c.value for c in export_book(admin)["Invoices"][1]]


DUPLICATE = """mutation($id: ID!) { duplicateInvoice(id: $id) {
  invoice { id notes orderNumber } errors { code field message } } }"""


def test_duplicate_needs_what_creating_needs(as_):
    rep1, rep2, admin = as_("rep1"), as_("rep2"), as_("admin")
    _taxes, items = catalogue(rep1)
    # Public access to the source: the copy is made, without the full-access notes.
    inv = public_invoice(rep1, items, access="PUBLIC_READ", orderNumber="PO-3")
    copy = rep2(DUPLICATE, {"id": inv["id"]}).data["duplicateInvoice"]
    assert copy["errors"] == [] and copy["invoice"]["notes"] == ""
    assert copy["invoice"]["orderNumber"] == "PO-3"
    own = rep1(DUPLICATE, {"id": inv["id"]}).data["duplicateInvoice"]
    assert own["invoice"]["notes"] == "Internal: margin 40 %"
    # A client the caller cannot see cannot be invoiced, not even by copying.
    private_client = create(
        rep1,
        clientId=contact_id(rep1, "Iberia Logistics S.L."),
        access="PUBLIC_READ",
        lines=[service_line(items)],
    )
    r = rep2(DUPLICATE, {"id": private_client["id"]}).data["duplicateInvoice"]
    assert (r["errors"][0]["code"], r["errors"][0]["field"]) == ("NOT_FOUND", "client")
    # Field rules apply to the copied values as they would on create.
    set_field_rules(admin, "Sales rep", [("Invoice", "orderNumber", "READ_ONLY")])
    r = rep2(DUPLICATE, {"id": inv["id"]}).data["duplicateInvoice"]
    assert r["errors"][0]["code"] == "FORBIDDEN"
    assert "Invoice.orderNumber" in r["errors"][0]["message"]


SEND = """mutation($id: ID!, $to: String, $subject: String) {
  sendInvoice(id: $id, to: $to, subject: $subject) {
  sentTo invoice { sentAt } errors { code message field } } }"""


def test_send_by_public_access_leaves_the_notes_out(demo, mail_app):
    from gateway.testing import GraphQLClient

    http, inbox = mail_app
    rep1 = GraphQLClient(http).login("rep1@demo.test")
    rep2 = GraphQLClient(http).login("rep2@demo.test")
    _taxes, items = catalogue(rep1)
    inv = public_invoice(rep1, items)
    issue(rep1, inv["id"])
    sent = rep2(SEND, {"id": inv["id"], "to": "buyer@example.com"}).data["sendInvoice"]
    assert sent["errors"] == [] and sent["sentTo"] == "buyer@example.com"
    (message,) = inbox.messages
    assert "margin 40" not in message.get_body(("plain",)).get_content()
    (attachment,) = message.iter_attachments()
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Marco Rossi" in text and "margin 40" not in text
    rep1(SEND, {"id": inv["id"], "to": "buyer@example.com"})
    assert "margin 40" in inbox.messages[1].get_body(("plain",)).get_content()


def test_send_refuses_header_injection_and_reports_smtp_failures(gateway, demo):
    import socket
    from dataclasses import replace

    from starlette.testclient import TestClient

    from gateway.app import Gateway, create_app
    from gateway.testing import GraphQLClient

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = replace(gateway.settings, smtp_host="127.0.0.1", smtp_port=port)
    broken = Gateway(settings=settings, db=gateway.db, registry=gateway.registry)
    with TestClient(create_app(broken)) as http:
        manager = GraphQLClient(http).login("manager@demo.test")
        _taxes, items = catalogue(manager)
        inv = create(
            manager,
            clientId=contact_id(manager, "Atlantic Foods S.A."),
            lines=[service_line(items)],
        )
        issue(manager, inv["id"])
        r = manager(SEND, {"id": inv["id"], "subject": "Hi\r\nBcc: all@example.com"})
        # refused at the edge: a one-line text input holds no line breaks (input_checks)
        (error,) = r.errors
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "subject"}
        r = manager(SEND, {"id": inv["id"]})
        assert r.errors == [], r.body
        (error,) = r.data["sendInvoice"]["errors"]
        assert error["code"] == "CONFLICT" and "mail server" in error["message"]
        sent_at = manager("query($id: ID!) { invoice(id: $id) { sentAt } }", {"id": inv["id"]})
        assert sent_at.data["invoice"]["sentAt"] is None


def test_send_invoice_mails_the_pdf_over_smtp(demo, mail_app):
    from gateway.testing import GraphQLClient

    http, inbox = mail_app
    manager = GraphQLClient(http).login("manager@demo.test")
    _taxes, items = catalogue(manager)
    inv = create(
        manager,
        clientId=contact_id(manager, "Atlantic Foods S.A."),
        notes="Thanks for your business",
        lines=[service_line(items)],
    )
    send = """mutation($id: ID!, $to: String) { sendInvoice(id: $id, to: $to) { sentTo
      invoice { sentAt } errors { code message } } }"""
    draft = manager(send, {"id": inv["id"]}).data["sendInvoice"]
    assert draft["errors"][0]["code"] == "CONFLICT"
    number = issue(manager, inv["id"])["invoice"]["number"]
    sent = manager(send, {"id": inv["id"]}).data["sendInvoice"]
    assert sent["errors"] == [] and sent["sentTo"] == "hello@atlantic.example"
    assert sent["invoice"]["sentAt"]
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "hello@atlantic.example" and number in message["Subject"]
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{number}.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    pdf_text = PdfReader(io.BytesIO(attachments[0].get_content())).pages[0].extract_text()
    assert number in pdf_text
    assert "Thanks for your business" in message.get_body(("plain",)).get_content()


def test_send_without_smtp_is_a_clear_error(as_):
    manager = as_("manager")
    _taxes, items = catalogue(manager)
    inv = create(
        manager, clientId=contact_id(manager, "Atlantic Foods S.A."), lines=[service_line(items)]
    )
    issue(manager, inv["id"])
    r = manager(
        "mutation($id: ID!) { sendInvoice(id: $id) { errors { code message } } }", {"id": inv["id"]}
    )
    assert r.data["sendInvoice"]["errors"][0]["code"] == "CONFLICT"
    assert "CRM_SMTP_HOST" in r.data["sendInvoice"]["errors"][0]["message"]


def test_duplicate_makes_a_new_draft_with_the_same_lines(as_):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    inv = create(
        rep1,
        clientId=contact_id(rep1, "Iberia Logistics S.L."),
        orderNumber="PO-7",
        lines=[service_line(items, "3"), {"itemId": items["Pallet scanner"]}],
    )
    issue(rep1, inv["id"])
    r = rep1(
        f"mutation($id: ID!) {{ duplicateInvoice(id: $id) {{ invoice {{ {FIELDS} }} errors {{ code }} }} }}",
        {"id": inv["id"]},
    ).data["duplicateInvoice"]
    assert r["errors"] == []
    copy = r["invoice"]
    assert copy["id"] != inv["id"] and copy["status"] == "DRAFT" and copy["number"] is None
    assert copy["total"] == inv["total"] and len(copy["lines"]) == 2


def test_issuing_dates_the_invoice_today_and_keeps_dates_in_series_order(as_):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    stale = create(rep1, clientId=client, issueDate="2020-01-01", lines=[service_line(items)])
    issued = issue(rep1, stale["id"])
    assert issued["errors"] == []
    today = date.fromisoformat(issued["invoice"]["issueDate"])
    assert abs((today - date.today()).days) <= 1  # the tenant's today, not the draft's date
    assert issued["invoice"]["dueDate"] > issued["invoice"]["issueDate"]  # 30 days from today
    earlier = create(rep1, clientId=client, lines=[service_line(items)])
    r = issue(rep1, earlier["id"], issue_date="2020-01-01")
    assert (r["errors"][0]["code"], r["errors"][0]["field"]) == ("BAD_USER_INPUT", "issueDate")
    r = issue(rep1, earlier["id"], issue_date=today.isoformat())
    assert r["errors"] == [] and r["invoice"]["issueDate"] == today.isoformat()


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"unitPrice": "1000000000000"}, "lines.0.unitPrice"),
        ({"quantity": "1000000000"}, "lines.0.quantity"),
        ({"discount": "12.34567"}, "lines.0.discount"),
        ({"quantity": "999999999", "unitPrice": "999999999999"}, "lines.0"),
    ],
)
def test_bad_numbers_are_bad_user_input(as_, line, field):
    manager = as_("manager")
    _taxes, items = catalogue(manager)
    r = manager(
        CREATE,
        {
            "input": {
                "clientId": contact_id(manager, "Atlantic Foods S.A."),
                "lines": [{**service_line(items), **line}],
            }
        },
    )
    assert r.errors == [], r.body
    (error,) = r.data["createInvoice"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"unitPrice": "NaN"}, "input.lines.0.unitPrice"),
        ({"unitPrice": "Infinity"}, "input.lines.0.unitPrice"),
        ({"quantity": "-Infinity"}, "input.lines.0.quantity"),
        ({"discount": "NaN"}, "input.lines.0.discount"),
    ],
)
def test_values_no_number_takes_are_refused_at_the_edge(as_, line, field):
    """NaN and infinities are refused by the Decimal scalar (gateway.graphql.scalars)."""
    manager = as_("manager")
    _taxes, items = catalogue(manager)
    r = manager(
        CREATE,
        {
            "input": {
                "clientId": contact_id(manager, "Atlantic Foods S.A."),
                "lines": [{**service_line(items), **line}],
            }
        },
    )
    (error,) = r.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_bad_catalogue_numbers_are_bad_user_input(as_):
    admin = as_("admin")
    for rate in (None, "NaN", "Infinity", "5.12345"):
        r = admin(SAVE_TAX, {"i": {"name": "T", "rate": rate}})
        if rate in ("NaN", "Infinity"):  # refused at the edge (the Decimal scalar)
            assert [e["extensions"] for e in r.errors] == [
                {"code": "BAD_USER_INPUT", "field": "input.rate"}
            ]
            continue
        assert r.errors == [], r.body
        (error,) = r.data["saveInvoiceTax"]["errors"]
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "rate")
    for price in ("NaN", "-Infinity", "1e12"):
        r = admin(SAVE_ITEM, {"i": {"kind": "ARTICLE", "name": "W", "price": price}})
        if price != "1e12":  # refused at the edge (the Decimal scalar)
            assert [e["extensions"] for e in r.errors] == [
                {"code": "BAD_USER_INPUT", "field": "input.price"}
            ]
            continue
        assert r.errors == [], r.body
        (error,) = r.data["saveInvoiceItem"]["errors"]
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "price")


def test_unique_races_are_conflicts_not_server_errors(as_, monkeypatch):
    """What a concurrent writer would do between the check and the insert, simulated by
    skipping the check: the database's unique constraint answers CONFLICT."""
    from plugins.invoices import services

    backoffice, admin = as_("backoffice"), as_("admin")
    _taxes, items = catalogue(backoffice)
    inv = create(
        backoffice,
        clientId=contact_id(backoffice, "Atlantic Foods S.A."),
        lines=[service_line(items)],
    )
    monkeypatch.setattr(services, "_number_taken", lambda *_: False)
    r = issue(backoffice, inv["id"], "INV0000001")
    assert (r["errors"][0]["code"], r["errors"][0]["field"]) == ("CONFLICT", "number")
    monkeypatch.setattr(services, "_name", lambda _s, _m, value, _l, _e: value)
    r = admin(SAVE_TAX, {"i": {"name": "VAT", "rate": "5"}})
    assert r.errors == [], r.body
    (error,) = r.data["saveInvoiceTax"]["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "name")


def test_editing_with_an_invisible_consignee_falls_back_to_the_billing_address(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    _taxes, items = catalogue(rep1)
    inv = create(
        rep1,
        clientId=contact_id(rep1, "Marco Rossi"),
        consigneeId=contact_id(rep1, "Lucía Fernández"),  # rep1's private contact
        access="PUBLIC_WRITE",
        lines=[service_line(items)],
    )
    r = rep2(UPDATE, {"id": inv["id"], "input": {"clientId": contact_id(rep2, "Ana Sousa")}})
    assert r.errors == [], r.body
    payload = r.data["updateInvoice"]
    assert payload["errors"] == []
    assert payload["invoice"]["deliveryAddress"] == payload["invoice"]["billingAddress"]


# -- other modules --------------------------------------------------------------------------


def test_a_contact_with_invoices_cannot_be_deleted(as_):
    rep1 = as_("manager")
    _taxes, items = catalogue(rep1)
    client = create_contact(rep1, companyName="Keep Me S.L.")
    inv = create(rep1, clientId=client, lines=[service_line(items)])
    delete = "mutation($id: ID!) { deleteContact(id: $id) { deletedId errors { code message } } }"
    r = rep1(delete, {"id": client}).data["deleteContact"]
    assert r["deletedId"] is None and r["errors"][0]["code"] == "CONFLICT"
    assert "invoices: the contact has invoices" in r["errors"][0]["message"]
    rep1(DELETE, {"id": inv["id"]})
    assert rep1(delete, {"id": client}).data["deleteContact"]["errors"] == []


def test_with_invoices_switched_off_deleting_their_client_is_a_conflict(as_):
    """The veto hook does not run for a module that is off; the foreign key still holds,
    and the caller gets CONFLICT rather than a server error."""
    manager, admin = as_("manager"), as_("admin")
    _taxes, items = catalogue(manager)
    client = create_contact(manager, companyName="Still Billed S.L.")
    create(manager, clientId=client, lines=[service_line(items)])
    off = admin(
        'mutation { setModuleEnabled(name: "invoices", enabled: false) { errors { code } } }'
    )
    assert off.data["setModuleEnabled"]["errors"] == []
    delete = "mutation($id: ID!) { deleteContact(id: $id) { deletedId errors { code message } } }"
    r = manager(delete, {"id": client})
    assert r.errors == [], r.errors
    payload = r.data["deleteContact"]
    assert payload["deletedId"] is None and payload["errors"][0]["code"] == "CONFLICT"
    names = manager("{ contacts(first: 100) { edges { node { displayName } } } }")
    assert "Still Billed S.L." in [
        e["node"]["displayName"] for e in names.data["contacts"]["edges"]
    ]


def test_merging_contacts_moves_their_invoices(as_):
    manager = as_("manager")
    _taxes, items = catalogue(manager)
    kept = create_contact(manager, companyName="Merge Target S.L.")
    merged = create_contact(manager, companyName="Merge Target SL")
    inv = create(manager, clientId=merged, lines=[service_line(items)])
    r = manager(
        "mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) { errors { code message } } }",
        {"k": kept, "m": merged},
    )
    assert r.data["mergeContacts"]["errors"] == [], r.body
    after = manager("query($id: ID!) { invoice(id: $id) { client { id } } }", {"id": inv["id"]})
    assert after.data["invoice"]["client"]["id"] == kept


def test_dashboard_figures_per_currency(as_):
    manager, admin = as_("manager"), as_("admin")
    _taxes, items = catalogue(manager)
    # An overdue invoice: dated in 2020 at issue, in a series of its own (the default
    # series already has later invoices, and dates follow the numbers).
    series = admin(
        """mutation { saveInvoiceSeries(input: {name: "Legacy", prefix: "L"}) {
        series { id } errors { code } } }"""
    ).data["saveInvoiceSeries"]["series"]["id"]
    inv = create(
        manager,
        clientId=contact_id(manager, "Atlantic Foods S.A."),
        currency="USD",
        seriesId=series,
        dueTerm="ON_RECEIPT",
        lines=[{**service_line(items), "unitPrice": "65"}],
    )
    assert issue(manager, inv["id"], issue_date="2020-01-01")["errors"] == []
    r = manager('{ dashboard(modules: ["invoices"]) { figures { key amount currency } } }')
    assert r.errors == [], r.errors
    figures = {
        (f["key"], f["currency"]): Decimal(f["amount"]) for f in r.data["dashboard"]["figures"]
    }
    assert figures[("invoices.billedThisMonth", "USD")] == Decimal("78.65")
    assert figures[("invoices.unpaid", "USD")] == Decimal("78.65")
    assert figures[("invoices.overdue", "USD")] == Decimal("78.65")
    # rep2 sees none of the manager's invoices
    r2 = as_("rep2")('{ dashboard(modules: ["invoices"]) { figures { key currency } } }')
    assert all(f["currency"] != "USD" for f in r2.data["dashboard"]["figures"])


# -- statement budget -------------------------------------------------------------------------


LIST = """query($n: Int) { invoices(first: $n) { totalCount edges { node { id number total
  owner { email } client { displayName email owner { email } }
  lines { description netAmount taxes { name amount } } taxes { name amount } } } } }"""


def seed_invoices(gateway, demo, count):
    from sqlalchemy import select

    from plugins.contacts.models import Contact
    from plugins.invoices.models import Invoice, InvoiceLine, InvoiceLineTax

    tenant = demo["demo"]
    owners = [tenant.users[e].id for e in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test")]
    with gateway.db.transaction() as s:
        clients = list(s.scalars(select(Contact.id).where(Contact.tenant_id == tenant.id)))
        for i in range(count):
            s.add(
                Invoice(
                    tenant_id=tenant.id,
                    issue_date=date(2026, 1, 1),
                    due_date=date(2026, 1, 31),
                    contact_id=clients[i % len(clients)],
                    owner_id=owners[i % 3],
                    access="PUBLIC_READ" if i % 5 == 0 else "PRIVATE",
                    total=Decimal("12.10"),
                    lines=[
                        InvoiceLine(
                            tenant_id=tenant.id,
                            kind="OTHER",
                            description=f"l{i}",
                            quantity=Decimal(1),
                            unit_price=Decimal(10),
                            net_amount=Decimal(10),
                            tax_amount=Decimal("2.10"),
                            taxes=[
                                InvoiceLineTax(
                                    tenant_id=tenant.id,
                                    name="VAT",
                                    rate=Decimal(21),
                                    amount=Decimal("2.10"),
                                )
                            ],
                        )
                    ],
                )
            )


@pytest.mark.parametrize("who", ["manager@demo.test", "rep1@demo.test", "backoffice@demo.test"])
def test_invoice_list_statement_count_does_not_grow_with_page_size(
    demo, gateway, client_for, sql_log, who
):
    seed_invoices(gateway, demo, 650)
    client = client_for(who)
    counts = {}
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    client(LIST, {"n": 1})
    for size in (10, 200):
        with sql_log:
            r = client(LIST, {"n": size})
        assert r.errors == [], r.errors
        assert len(r.data["invoices"]["edges"]) == size
        counts[size] = len(sql_log.statements)
    print(who, "STATEMENTS", counts)
    assert counts[10] == counts[200], counts
    # auth + scope + page + count + lines + line taxes + clients + client emails + users
    assert counts[10] <= 14, sql_log.statements
