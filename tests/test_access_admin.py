"""The admin API of access control over HTTP: profiles, catalogue, export, users and the
hierarchy, and explainAccess."""

from __future__ import annotations

import base64
import io

import openpyxl
import pytest


@pytest.fixture
def admin(demo, client_for):
    return client_for("admin@demo.test")


def ids_by(client, query, key, field="id"):
    root = query.split("{")[1].split()[0]
    return {item[key]: item[field] for item in client(query).data[root]}


def test_admin_api_needs_admin_permissions(demo, client_for):
    rep = client_for("rep1@demo.test")
    for q in (
        "{ profiles { id } }",
        "{ permissionCatalogue { code } }",
        "{ sharingRules { id } }",
        "{ exportProfiles { filename } }",
    ):
        assert rep(q).codes == ["FORBIDDEN"], q
    r = rep('mutation { createProfile(input: {name: "x", kind: STRUCTURAL}) { errors { code } } }')
    assert r.codes == ["FORBIDDEN"]


def test_profile_lifecycle_tree_and_delete_refused_while_held(admin):
    cat = {
        p["code"]: p
        for p in admin("{ permissionCatalogue { code module kind entity action } }").data[
            "permissionCatalogue"
        ]
    }
    assert cat["notes.note.read"] == {
        "code": "notes.note.read",
        "module": "notes",
        "kind": "MODULE",
        "entity": "note",
        "action": "READ",
    }
    assert cat["notes.read_secret"]["kind"] == "CONTENT"
    profiles = ids_by(admin, "{ profiles { id name } }", "name")
    created = admin(
        """mutation($p: ID!) { createProfile(input: {name: "Telemarketing", kind: STRUCTURAL,
        parentId: $p, permissions: ["notes.note.read"]}) { profile { id name kind parent { name } permissions } errors { code message } } }""",
        {"p": profiles["Back office"]},
    ).data["createProfile"]
    assert created["errors"] == []
    assert created["profile"]["parent"] == {"name": "Back office"}
    assert created["profile"]["permissions"] == ["notes.note.read"]
    new_id = created["profile"]["id"]
    bad = admin(
        'mutation { createProfile(input: {name: "Bad", kind: HIERARCHICAL, permissions: ["nope.x"]}) { errors { code field } } }'
    )
    assert bad.data["createProfile"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "permissions"}
    ]
    dup = admin(
        'mutation { createProfile(input: {name: "Telemarketing", kind: HIERARCHICAL}) { errors { code } } }'
    )
    assert dup.data["createProfile"]["errors"][0]["code"] == "CONFLICT"
    cycle = admin(
        "mutation($id: ID!, $p: ID!) { updateProfile(id: $id, input: {parentId: $p}) { errors { code field } } }",
        {"id": profiles["Back office"], "p": new_id},
    )
    assert cycle.data["updateProfile"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "parentId"}
    ]
    tree = admin(
        "{ profileTree { profile { name } children { profile { name } children { profile { name } } } } }"
    ).data["profileTree"]
    back_office = next(n for n in tree if n["profile"]["name"] == "Back office")
    assert back_office["children"] == [{"profile": {"name": "Telemarketing"}, "children": []}]
    held = admin(
        "mutation($id: ID!) { deleteProfile(id: $id) { errors { code message } } }",
        {"id": profiles["Sales rep"]},
    )
    assert held.data["deleteProfile"]["errors"][0]["code"] == "CONFLICT"
    builtin = admin(
        "mutation($id: ID!) { deleteProfile(id: $id) { errors { code } } }",
        {"id": profiles["Standard"]},
    )
    assert builtin.data["deleteProfile"]["errors"][0]["code"] == "CONFLICT"
    gone = admin(
        "mutation($id: ID!) { deleteProfile(id: $id) { deletedId errors { code } } }",
        {"id": new_id},
    )
    assert gone.data["deleteProfile"] == {"deletedId": new_id, "errors": []}


def test_profiles_export_to_excel(admin):
    admin(
        'mutation { createProfile(input: {name: "=HYPERLINK(\\"x\\")", kind: HIERARCHICAL}) { errors { code } } }'
    )
    export = admin("{ exportProfiles { filename mimeType contentBase64 } }").data["exportProfiles"]
    assert export["filename"].endswith(".xlsx")
    assert export["mimeType"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(export["contentBase64"])))
    assert book.sheetnames == ["Profiles", "Permissions", "Field rules"]
    rows = {r[0]: r for r in book["Profiles"].iter_rows(min_row=2, values_only=True)}
    assert rows["Sales rep"][1:3] == ("hierarchical", "Sales manager")
    assert rows["Administrator"][5] == "all"
    formula = book["Profiles"].cell(
        row=[r[0] for r in book["Profiles"].iter_rows(values_only=True)].index('=HYPERLINK("x")')
        + 1,
        column=1,
    )
    assert formula.data_type == "s"
    header = [c.value for c in book["Permissions"][1]]
    matrix = {
        r[0]: dict(zip(header, r, strict=True))
        for r in book["Permissions"].iter_rows(min_row=2, values_only=True)
    }
    assert matrix["notes.note.delete"]["Sales manager"] == "yes"
    assert matrix["notes.note.delete"]["Sales rep"] in ("", None)


def test_users_hierarchy_and_assistants(admin, client_for):
    users = ids_by(admin, "{ users { id email } }", "email")
    profiles = ids_by(admin, "{ profiles { id name } }", "name")
    tree = admin(
        "{ hierarchy { user { email } reports { user { email } reports { user { email } reports { user { email } } } } } }"
    ).data["hierarchy"]
    director = next(n for n in tree if n["user"]["email"] == "director@demo.test")
    manager = director["reports"][0]
    assert manager["user"]["email"] == "manager@demo.test"
    assert {r["user"]["email"] for r in manager["reports"]} == {
        "rep1@demo.test",
        "rep2@demo.test",
        "assistant@demo.test",
    }
    subs = client_for("director@demo.test")("{ subordinates { email } }").data["subordinates"]
    assert {s["email"] for s in subs} == {
        "manager@demo.test",
        "rep1@demo.test",
        "rep2@demo.test",
        "assistant@demo.test",
    }
    assistant = admin(
        "query($id: ID!) { user(id: $id) { profile { kind } manager { email } servedUsers { email } } }",
        {"id": users["assistant@demo.test"]},
    ).data["user"]
    assert assistant == {
        "profile": {"kind": "ASSISTANT"},
        "manager": {"email": "manager@demo.test"},
        "servedUsers": [{"email": "rep1@demo.test"}],
    }
    # cycles are refused
    cyc = admin(
        "mutation($id: ID!, $m: ID!) { updateUser(id: $id, input: {managerId: $m}) { errors { code field } } }",
        {"id": users["director@demo.test"], "m": users["rep1@demo.test"]},
    )
    assert cyc.data["updateUser"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "managerId"}]
    # moving rep2 under the director: the manager no longer sees rep2's records
    rep2 = client_for("rep2@demo.test")
    rep2('mutation { createNote(title: "rep2 secret plan") { errors { code } } }')
    mgr = client_for("manager@demo.test")
    assert "rep2 secret plan" in {n["title"] for n in mgr("{ notes { title } }").data["notes"]}
    moved = admin(
        "mutation($id: ID!, $m: ID!) { updateUser(id: $id, input: {managerId: $m}) { user { manager { email } } errors { code } } }",
        {"id": users["rep2@demo.test"], "m": users["director@demo.test"]},
    )
    assert moved.data["updateUser"] == {
        "user": {"manager": {"email": "director@demo.test"}},
        "errors": [],
    }
    assert "rep2 secret plan" not in {n["title"] for n in mgr("{ notes { title } }").data["notes"]}
    assert "rep2 secret plan" in {
        n["title"] for n in client_for("director@demo.test")("{ notes { title } }").data["notes"]
    }
    # a user who owns records cannot become an assistant
    to_assistant = admin(
        "mutation($id: ID!, $p: ID!) { updateUser(id: $id, input: {profileId: $p}) { errors { code field } } }",
        {"id": users["rep2@demo.test"], "p": profiles["Sales assistant"]},
    )
    assert to_assistant.data["updateUser"]["errors"] == [{"code": "CONFLICT", "field": "profileId"}]


def test_create_user_and_last_admin_over_graphql(admin, client_for):
    profiles = ids_by(admin, "{ profiles { id name } }", "name")
    me = admin("{ me { user { id } } }").data["me"]["user"]["id"]
    demote = admin(
        "mutation($id: ID!, $p: ID!) { updateUser(id: $id, input: {profileId: $p}) { errors { code } } }",
        {"id": me, "p": profiles["Standard"]},
    )
    assert demote.data["updateUser"]["errors"][0]["code"] == "CONFLICT"
    off = admin("mutation($id: ID!) { deactivateUser(id: $id) { errors { code } } }", {"id": me})
    assert off.data["deactivateUser"]["errors"][0]["code"] == "CONFLICT"
    made = admin(
        """mutation($p: ID!) { createUser(input: {email: "new@demo.test", displayName: "New",
        password: "new-password", profileId: $p}) { user { email profile { name } } errors { code } } }""",
        {"p": profiles["Administrator"]},
    )
    assert made.data["createUser"] == {
        "user": {"email": "new@demo.test", "profile": {"name": "Administrator"}},
        "errors": [],
    }
    assert admin(
        "mutation($id: ID!) { deactivateUser(id: $id) { user { isActive } errors { code } } }",
        {"id": me},
    ).data["deactivateUser"] == {"user": {"isActive": False}, "errors": []}
    assert admin("{ me { user { id } } }").codes == ["UNAUTHENTICATED"]


EXPLAIN = """query($u: ID!, $r: ID!, $f: String) { explainAccess(userId: $u, recordId: $r, field: $f) {
  read { allowed reasons { reason granted detail } }
  write { allowed reasons { reason granted detail } }
  field { allowed reasons { reason granted detail } } } }"""


def test_explain_access_gives_ordered_reasons(admin, client_for):
    users = ids_by(admin, "{ users { id email } }", "email")
    rep1 = client_for("rep1@demo.test")
    note = rep1(
        'mutation { createNote(title: "explain me", access: PUBLIC_READ) { note { id } } }'
    ).data["createNote"]["note"]["id"]

    def explain(email, field=None):
        r = admin(EXPLAIN, {"u": users[email], "r": note, "f": field})
        assert r.errors == [], r.errors
        return r.data["explainAccess"]

    director = explain("director@demo.test", "body")
    granted = [r for r in director["read"]["reasons"] if r["granted"]]
    assert [r["reason"] for r in granted] == ["MODULE_PERMISSION", "HIERARCHY", "PUBLIC_LEVEL"]
    assert (
        granted[1]["detail"]
        == "the owner reports to them: rep1@demo.test → manager@demo.test → director@demo.test"
    )
    assert director["write"]["allowed"] is True
    assert director["field"]["allowed"] is True
    rep2 = explain("rep2@demo.test", "body")
    assert rep2["read"]["allowed"] is True
    assert [r["reason"] for r in rep2["read"]["reasons"] if r["granted"]] == [
        "MODULE_PERMISSION",
        "PUBLIC_LEVEL",
    ]
    assert rep2["write"]["allowed"] is False
    assert rep2["field"]["allowed"] is False
    assert "visible only as public" in rep2["field"]["reasons"][-1]["detail"]
    assistant = explain("assistant@demo.test")
    assert [r["reason"] for r in assistant["write"]["reasons"] if r["granted"]] == [
        "MODULE_PERMISSION",
        "ASSISTANT",
    ]
    backoffice = explain("backoffice@demo.test")
    assert backoffice["read"]["reasons"][1] == {
        "reason": "PROFILE_KIND",
        "granted": True,
        "detail": "the structural profile kind sees every record of the organisation",
    }
    assert backoffice["write"]["allowed"] is True
    secret = explain("rep2@demo.test", "secret")
    assert secret["field"]["allowed"] is False
    assert any(
        r["detail"].startswith("the field needs notes.read_secret")
        for r in secret["field"]["reasons"]
    )
    unknown = admin(EXPLAIN, {"u": users["rep2@demo.test"], "r": note, "f": "nope"})
    assert unknown.codes == ["BAD_USER_INPUT"]
    acme_admin = client_for("admin@acme.test")
    acme_user = acme_admin("{ me { user { id } } }").data["me"]["user"]["id"]
    assert acme_admin(EXPLAIN, {"u": acme_user, "r": note}).codes == ["NOT_FOUND"]


def test_profile_grants_are_visible_only_to_holders_and_profile_managers(admin, client_for):
    rep = client_for("rep1@demo.test")
    own = rep("{ me { profile { name permissions } } }")
    assert own.errors == [] and "contacts.contact.read" in own.data["me"]["profile"]["permissions"]
    others = rep("{ users { email profile { name permissions } } }")
    assert "FORBIDDEN" in others.codes
    assert admin("{ users { profile { permissions } } }").errors == []
