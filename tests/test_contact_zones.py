"""Zones with their users (MISSION M6) over HTTP: the administration fields, the template
(filled with the zones as they are) and the import by template as a background job —
users not found reported on their cell, the rest linked, a dry run that writes nothing,
another organisation's users never linked, and who may do it."""

from __future__ import annotations

import base64
import io

import openpyxl
from sqlalchemy import func, select

from gateway.jobs import run_pending
from plugins.contacts.zones.models import Zone, ZoneUser
from tests.test_files import upload, user_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZONES = "query { zones { id name users { email } } }"
CREATE = """mutation($n: String!) { createZone(name: $n) {
  zone { id name users { email } } errors { code field } } }"""
SET = """mutation($z: ID!, $u: [ID!]!) { setZoneUsers(zoneId: $z, userIds: $u) {
  zone { name users { email } } errors { code field } } }"""
DELETE = "mutation($id: ID!) { deleteZone(id: $id) { deletedId errors { code } } }"
TEMPLATE = """query { downloadSheetTemplate(entity: "zone", variant: "") {
  filename contentBase64 } }"""
IMPORT = """mutation($f: ID!, $d: Boolean!) { importZones(fileId: $f, dryRun: $d) {
  job { id status } errors { code message field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value }
  errors { code message row column } resultFile { name downloadUrl } } }"""


def _user_gid(gateway, email: str) -> str:
    return base64.b64encode(f"User:{user_id(gateway, email)}".encode()).decode()


def _zones(client) -> dict[str, list[str]]:
    return {z["name"]: [u["email"] for u in z["users"]] for z in client(ZONES).data["zones"]}


def _state(gateway) -> tuple[int, int, list[tuple[str, int]]]:
    with gateway.db.reading() as s:
        links = sorted(s.execute(select(Zone.name, ZoneUser.user_id).join(ZoneUser.zone)).all())
        return (
            s.scalar(select(func.count()).select_from(Zone)) or 0,
            s.scalar(select(func.count()).select_from(ZoneUser)) or 0,
            [tuple(row) for row in links],
        )


def _xlsx(rows: list[list[object]], header=("Zone", "Users")) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(gateway, client, content: bytes, *, dry_run: bool = False) -> dict:
    sent = upload(client, content, name="zones.xlsx", content_type=XLSX)
    assert sent.status_code == 201, sent.text
    r = client(IMPORT, {"f": sent.json()["id"], "d": dry_run})
    assert r.errors == [], r.errors
    payload = r.data["importZones"]
    assert payload["errors"] == [], payload["errors"]
    run_pending(gateway)
    return client(JOB, {"id": payload["job"]["id"]}).data["job"]


def _counts(job: dict) -> dict[str, int]:
    return {c["name"]: c["value"] for c in job["resultCounts"]}


def test_zones_are_managed_with_the_settings_permission(gateway, demo, as_):
    admin, rep1 = as_("admin"), as_("rep1")
    assert _zones(rep1) == {"north": ["rep1@demo.test"], "south": ["rep2@demo.test"]}

    made = admin(CREATE, {"n": "  East  "}).data["createZone"]
    assert made["errors"] == [] and made["zone"]["name"] == "East"
    zone_id = made["zone"]["id"]
    again = admin(CREATE, {"n": "East"}).data["createZone"]
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"] and again["zone"] is None
    blank = admin(CREATE, {"n": "   "}).data["createZone"]
    assert blank["errors"] == [{"code": "BAD_USER_INPUT", "field": "name"}]

    users = [_user_gid(gateway, e) for e in ("rep2@demo.test", "rep1@demo.test")]
    done = admin(SET, {"z": zone_id, "u": users}).data["setZoneUsers"]
    assert done["errors"] == []
    assert done["zone"]["users"] == [{"email": "rep1@demo.test"}, {"email": "rep2@demo.test"}]

    # another organisation's user is not found, an assistant manages no zone: nothing changes
    for email, code in (
        ("admin@acme.test", "NOT_FOUND"),
        ("assistant@demo.test", "BAD_USER_INPUT"),
    ):
        refused = admin(SET, {"z": zone_id, "u": [users[0], _user_gid(gateway, email)]})
        assert refused.data["setZoneUsers"]["errors"] == [{"code": code, "field": "userIds"}]
    assert _zones(admin)["East"] == ["rep1@demo.test", "rep2@demo.test"]

    # a rep reads zones but changes none; another organisation sees none of them
    assert rep1(CREATE, {"n": "Mine"}).codes == ["FORBIDDEN"]
    assert rep1(SET, {"z": zone_id, "u": []}).codes == ["FORBIDDEN"]
    assert rep1(DELETE, {"id": zone_id}).codes == ["FORBIDDEN"]
    assert _zones(as_("admin@acme.test")) == {}
    foreign = as_("admin@acme.test")(DELETE, {"id": zone_id}).data["deleteZone"]
    assert [e["code"] for e in foreign["errors"]] == ["NOT_FOUND"]

    gone = admin(DELETE, {"id": zone_id}).data["deleteZone"]
    assert gone == {"deletedId": zone_id, "errors": []}
    assert "East" not in _zones(admin)


def test_the_template_comes_with_the_zones_as_they_are(demo, as_):
    got = as_("admin")(TEMPLATE).data["downloadSheetTemplate"]
    assert got["filename"] == "zone-template.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(got["contentBase64"])))
    sheet = book["Zones"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(max_col=2)]
    assert rows == [["Zone", "Users"], ["north", "rep1@demo.test"], ["south", "rep2@demo.test"]]
    assert sheet["A1"].comment.text.startswith("Required.")
    assert sheet["B1"].comment.text.startswith("Optional.")


def test_an_import_reports_users_not_found_on_their_cell_and_links_the_rest(gateway, demo, as_):
    admin = as_("admin")
    content = _xlsx(
        [
            ["north", "rep2@demo.test, ghost@demo.test"],  # row 2: one unknown user
            ["East", "Manager@demo.test; rep1@demo.test"],  # row 3: a new zone
            [None, "rep1@demo.test"],  # row 4: no zone
            ["East", "admin@acme.test"],  # row 5: another organisation's user
            [None, None],  # a blank line: skipped
            ["West", None],  # row 7: a zone without users
        ]
    )
    before = _state(gateway)

    dry = _import(gateway, admin, content, dry_run=True)
    assert dry["status"] == "SUCCEEDED"
    assert _state(gateway) == before  # a dry run writes nothing
    expected = {
        "rows": 5,
        "zones_created": 2,
        "zones_updated": 1,
        "users_linked": 3,
        "users_not_found": 2,
        "rows_with_errors": 3,
    }
    assert _counts(dry) == {**expected, "written": 0}

    real = _import(gateway, admin, content)
    assert real["status"] == "SUCCEEDED"
    assert _counts(real) == {**expected, "written": 3}
    assert [(e["code"], e["row"], e["column"]) for e in real["errors"]] == [
        ("NOT_FOUND", 2, "users"),
        ("BAD_USER_INPUT", 4, "zone"),
        ("NOT_FOUND", 5, "users"),
    ]
    assert "ghost@demo.test" in real["errors"][0]["message"]
    assert _zones(admin) == {
        "East": ["manager@demo.test", "rep1@demo.test"],
        "West": [],
        "north": ["rep2@demo.test"],  # replaced: rep1 was there before
        "south": ["rep2@demo.test"],  # not named: left as it was
    }
    acme = user_id(gateway, "admin@acme.test")
    assert all(user != acme for _, user in _state(gateway)[2])

    # the result workbook: each error on its cell (B = Zone, C = Users after "Row")
    link = real["resultFile"]["downloadUrl"]
    book = openpyxl.load_workbook(io.BytesIO(admin.http.get(link).content))
    assert book.sheetnames == ["Imported", "With errors", "Summary"]
    bad = book["With errors"]
    assert [bad.cell(r, 1).value for r in range(2, bad.max_row + 1)] == [2, 4, 5]
    assert "ghost@demo.test" in bad.cell(2, 3).comment.text
    assert bad.cell(3, 2).comment is not None and bad.cell(3, 3).comment is None
    assert [book["Imported"].cell(r, 1).value for r in (2, 3)] == [3, 7]


def test_who_may_import_zones_and_what_a_file_needs(gateway, demo, as_):
    rep1 = as_("rep1")  # may import clients, may not manage the contacts' settings
    sent = upload(rep1, _xlsx([["north", "rep1@demo.test"]]), name="z.xlsx", content_type=XLSX)
    refused = rep1(IMPORT, {"f": sent.json()["id"], "d": False}).data["importZones"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"] and refused["job"] is None
    assistant = as_("assistant")  # no import permission at all
    assert assistant(IMPORT, {"f": sent.json()["id"], "d": True}).codes == ["FORBIDDEN"]

    admin = as_("admin")
    # another user's file is not found; a file without a Zone column is refused at once
    theirs = admin(IMPORT, {"f": sent.json()["id"], "d": False}).data["importZones"]
    assert [e["code"] for e in theirs["errors"]] == ["NOT_FOUND"]
    no_zone = upload(admin, _xlsx([["rep1@demo.test"]], header=("Users",)), name="u.xlsx")
    bad = admin(IMPORT, {"f": no_zone.json()["id"], "d": False}).data["importZones"]
    assert bad["errors"] == [
        {"code": "BAD_USER_INPUT", "message": 'the file has no "Zone" column', "field": "fileId"}
    ]


def test_a_csv_with_a_semicolon_and_an_assistant(gateway, demo, as_):
    admin = as_("admin")
    csv = b"zone;users\nnorth;assistant@demo.test,director@demo.test\n"
    sent = upload(admin, csv, name="zones.csv", content_type="text/csv")
    payload = admin(IMPORT, {"f": sent.json()["id"], "d": False}).data["importZones"]
    assert payload["errors"] == []
    run_pending(gateway)
    job = admin(JOB, {"id": payload["job"]["id"]}).data["job"]
    assert [(e["code"], e["row"], e["column"]) for e in job["errors"]] == [
        ("BAD_USER_INPUT", 2, "users")
    ]
    assert _zones(admin)["north"] == ["director@demo.test"]
