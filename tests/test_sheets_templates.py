"""Templates over GraphQL (listed and rendered per caller, read back with openpyxl) and the
result workbook of an import."""

from __future__ import annotations

import base64
import io

from openpyxl import load_workbook

from gateway.sheets import CellError, FailedRow, write_results

LIST = "{ sheetTemplates { entity variant title columns { header key required kind format } } }"
DOWNLOAD = """query($e: String!, $v: String!) { downloadSheetTemplate(entity: $e, variant: $v) {
  filename mimeType contentBase64 } }"""


def _workbook(client, entity="contact", variant="company"):
    r = client(DOWNLOAD, {"e": entity, "v": variant})
    assert r.errors == [], r.errors
    found = r.data["downloadSheetTemplate"]
    assert found["filename"] == f"{entity}-{variant}-template.xlsx"
    return load_workbook(io.BytesIO(base64.b64decode(found["contentBase64"])))


def _list_values(wb, header):
    """The values a column's drop-down offers, following its range into the Lists sheet."""
    data = wb.worksheets[0]
    column = next(c.column_letter for c in data[1] if c.value == header)
    for dv in data.data_validations.dataValidation:
        if any(str(r).startswith(f"{column}2:") for r in dv.sqref.ranges):
            formula = dv.formula1
            if formula.startswith('"'):
                return formula.strip('"').split(",")
            sheet, cells = formula.split("!")
            start, end = cells.replace("$", "").split(":")
            return [c.value for row in wb[sheet][start:end] for c in row if c.value]
    return None


def test_hook_crm_sheet_templates(as_):
    """Contacts contributes "contact / company" and "contact / individual"."""
    found = as_("admin")(LIST).data["sheetTemplates"]
    pairs = {(t["entity"], t["variant"]) for t in found}
    assert {("contact", "company"), ("contact", "individual")} <= pairs
    company = next(t for t in found if t["variant"] == "company")
    first = company["columns"][0]
    assert (first["header"], first["key"], first["required"]) == ("Company", "companyName", True)
    keys = [c["key"] for c in company["columns"]]
    assert {"emails", "phones", "tags", "owner", "country", "source", "segment"} <= set(keys)


def test_a_template_renders_colours_comments_legend_and_lists(as_):
    admin = as_("admin")
    admin('mutation { createTag(name: "Template tag") { errors { code } } }')
    admin('mutation { createContactType(name: "Distributor") { errors { code } } }')
    wb = _workbook(admin)
    data = wb.worksheets[0]
    assert wb.sheetnames == [data.title, "Lists", "Legend"]
    assert wb["Lists"].sheet_state == "hidden"
    assert data.freeze_panes == "A2"
    headers = {c.value: c for c in data[1]}
    required, optional = headers["Company"], headers["City"]
    assert required.fill.fgColor.rgb != optional.fill.fgColor.rgb
    legend = wb["Legend"]
    colours = {legend["A3"].fill.fgColor.rgb: legend["A3"].value,
               legend["A4"].fill.fgColor.rgb: legend["A4"].value}  # fmt: skip
    assert colours[required.fill.fgColor.rgb] == "Required column"
    assert colours[optional.fill.fgColor.rgb] == "Optional column"
    assert "Required." in required.comment.text
    assert "ISO code" in headers["Country"].comment.text
    assert "Template tag" in _list_values(wb, "Tags")
    assert "Distributor" in _list_values(wb, "Contact type")
    assert "rep1@demo.test" in _list_values(wb, "Manager")
    assert "assistant@demo.test" not in _list_values(wb, "Manager")
    assert "ES" in _list_values(wb, "Country")
    assert _list_values(wb, "Fiscal ID type") == ["CIF", "NIF", "NIE", "OTHER"]


def test_catalogues_are_the_callers_tenant_only(as_, client_for):
    as_("admin")('mutation { createTag(name: "Demo only") { errors { code } } }')
    acme = client_for("admin@acme.test")
    acme('mutation { createTag(name: "Acme only") { errors { code } } }')
    demo_wb, acme_wb = _workbook(as_("admin")), _workbook(acme)
    assert "Demo only" in _list_values(demo_wb, "Tags")
    assert "Acme only" not in _list_values(demo_wb, "Tags")
    assert "Acme only" in _list_values(acme_wb, "Tags")
    assert "Demo only" not in _list_values(acme_wb, "Tags")
    users = _list_values(acme_wb, "Manager")
    assert "admin@acme.test" in users
    assert not any(u.endswith("@demo.test") for u in users)


def test_sources_offered_are_those_of_contacts_the_caller_sees(as_):
    admin = as_("admin")
    made = admin(
        'mutation { createContact(input: {kind: COMPANY, companyName: "Hidden source Ltd", '
        'source: "Secret fair"}) { contact { id } errors { code } } }'
    )
    assert made.data["createContact"]["errors"] == []
    assert "Secret fair" in _list_values(_workbook(admin), "Source")
    assert "Secret fair" not in (_list_values(_workbook(as_("rep2")), "Source") or [])


def test_unknown_template_is_not_found_and_signed_out_is_refused(as_, gql):
    r = as_("rep1")(DOWNLOAD, {"e": "contact", "v": "martian"})
    assert r.codes == ["NOT_FOUND"]
    assert gql(LIST).codes == ["UNAUTHENTICATED"]


def test_individual_template(as_):
    wb = _workbook(as_("rep1"), variant="individual")
    headers = [c.value for c in wb.worksheets[0][1]]
    assert headers[:3] == ["First name", "Last name", "Client kind"]
    assert _list_values(wb, "Client kind") == ["INDIVIDUAL", "SELF_EMPLOYED"]


def test_result_workbook_puts_each_error_on_its_cell_and_never_a_formula():
    content = write_results(
        ["Name", "Email"],
        [(2, ["=HYPERLINK(\"http://x\")", "a@b.test"])],
        [FailedRow(3, ["@SUM(1)", "not-an-email"],
                   [CellError(2, "not a valid email"), CellError(None, "duplicate row")])],
        [("Imported", 1), ("With errors", 1)],
    )  # fmt: skip
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["Imported", "With errors", "Summary"]
    ok = wb["Imported"]
    assert [c.value for c in ok[2]] == [2, '=HYPERLINK("http://x")', "a@b.test"]
    assert ok["B2"].data_type == "s"
    bad = wb["With errors"]
    assert [c.value for c in bad[1]] == ["Row", "Name", "Email", "Errors"]
    assert bad["B2"].data_type == "s" and bad["B2"].comment is None
    assert bad["C2"].comment.text == "not a valid email"
    assert bad["C2"].fill.fgColor.rgb.endswith("F8CBAD")
    assert bad["D2"].value == "not a valid email; duplicate row"
    assert [[c.value for c in r] for r in wb["Summary"].iter_rows(min_row=2)] == [
        ["Imported", 1], ["With errors", 1]
    ]  # fmt: skip
