"""Import reports over GraphQL: each user sees their own (an administrator, everyone's in the
organisation), rows by outcome, and a row's record only while its reader may see it."""

from __future__ import annotations

from tests.test_imports_engine import _run

RUNS = """query { importRuns(first: 10) { totalCount edges { node {
  id entity variant mode total created failed applied
  rows(outcome: [FAILED]) { edges { node { row outcome errors { code column }
    cells { column value } record { id } } } } } } } }"""
ROWS = """query($id: ID!) { importRun(id: $id) { rows(first: 5) { edges { node {
  row outcome record { id ... on Contact { displayName } } } } } } }"""


def test_reports_are_their_importers_and_rows_show_what_failed(gateway, demo, as_):
    _run(
        gateway,
        "rep1@demo.test",
        ["Company", "Email"],
        [["Rep Import SL", "rep@import.test"], ["Bad SL", "nope"]],
    )
    mine = as_("rep1")(RUNS).data["importRuns"]
    assert mine["totalCount"] == 1
    run = mine["edges"][0]["node"]
    assert (run["entity"], run["variant"], run["mode"]) == ("contact", "company", "CREATE")
    assert (run["total"], run["created"], run["failed"], run["applied"]) == (2, 1, 1, True)
    [failed] = [e["node"] for e in run["rows"]["edges"]]
    assert failed["row"] == 3 and failed["record"] is None
    assert failed["errors"] == [{"code": "BAD_USER_INPUT", "column": "email"}]
    assert {c["column"]: c["value"] for c in failed["cells"]}["email"] == "nope"

    assert as_("rep2")(RUNS).data["importRuns"]["totalCount"] == 0
    assert as_("admin")(RUNS).data["importRuns"]["totalCount"] == 1
    r = as_("rep2")("query($id: ID!) { importRun(id: $id) { id } }", {"id": run["id"]})
    assert r.data["importRun"] is None

    rows = as_("rep1")(ROWS, {"id": run["id"]}).data["importRun"]["rows"]["edges"]
    assert rows[0]["node"]["record"]["displayName"] == "Rep Import SL"


def test_import_columns_per_variant(as_):
    r = as_("rep1")(
        """{ company: importColumns(entity: "contact", variant: "company") { key required }
             person: importColumns(entity: "contact", variant: "individual") { key required } }"""
    )
    company = {c["key"]: c["required"] for c in r.data["company"]}
    person = {c["key"]: c["required"] for c in r.data["person"]}
    assert company["companyName"] is True and "firstName" not in company
    assert person["firstName"] is True and "companyName" not in person
    bad = as_("rep1")('{ importColumns(entity: "invoice") { key } }')
    assert bad.codes == ["BAD_USER_INPUT"]
