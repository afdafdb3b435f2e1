"""Record access over HTTP, as the demo users, on the test-only notes module: every path
(list, lookup, count, nested loads, mutations, explain) and both tenants."""

from __future__ import annotations

import pytest

NOTE_FIELDS = "id title access owner { email }"
CREATE = """mutation($t: String!, $a: AccessLevel, $p: ID, $b: String, $o: ID) {
  createNote(title: $t, access: $a, parentId: $p, body: $b, ownerId: $o) {
    note { id } errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $t: String, $b: String, $a: AccessLevel, $o: ID) {
  updateNote(id: $id, title: $t, body: $b, access: $a, ownerId: $o) {
    note { title } errors { code message field } } }"""
DELETE = "mutation($id: ID!) { deleteNote(id: $id) { errors { code message } } }"
SEES_ALL = ["admin", "director", "manager", "assistant", "backoffice", "rep1"]


@pytest.fixture
def as_(demo, client_for):
    clients = {}

    def get(name: str):
        email = name if "@" in name else f"{name}@demo.test"
        if email not in clients:
            clients[email] = client_for(email)
        return clients[email]

    return get


def create(client, title, access="PRIVATE", body=None, parent=None, owner=None):
    r = client(CREATE, {"t": title, "a": access, "b": body, "p": parent, "o": owner})
    payload = r.data["createNote"]
    assert payload["errors"] == [], payload
    return payload["note"]["id"]


def titles(client):
    r = client("{ notes(first: 500) { title } }")
    assert r.errors == [], r.errors
    return {n["title"] for n in r.data["notes"]}


def test_private_note_is_visible_exactly_to_owner_above_assistant_structural_admin(as_):
    note = create(as_("rep1"), "rep1 private", body="call on Monday")
    for who in SEES_ALL:
        client = as_(who)
        assert "rep1 private" in titles(client), who
        got = client("query($id: ID!) { note(id: $id) { title body } }", {"id": note})
        assert got.data["note"] == {"title": "rep1 private", "body": "call on Monday"}, who
    rep2, acme = as_("rep2"), as_("admin@acme.test")
    for outsider in (rep2, acme):
        assert "rep1 private" not in titles(outsider)
        assert outsider("query($id: ID!) { note(id: $id) { title } }", {"id": note}).data == {
            "note": None
        }
    counts = {
        w: as_(w)("{ noteCount }").data["noteCount"] for w in ["rep1", "rep2", "admin@acme.test"]
    }
    assert counts == {"rep1": 2, "rep2": 1, "admin@acme.test": 1}  # own + the public Welcome


def test_outsiders_cannot_update_or_delete_and_learn_nothing(as_):
    note = create(as_("rep1"), "rep1 private")
    for outsider in (as_("rep2"), as_("admin@acme.test")):
        upd = outsider(UPDATE, {"id": note, "t": "hijacked"}).data["updateNote"]
        assert upd["errors"][0]["code"] == "NOT_FOUND"
        dele = outsider(DELETE, {"id": note}).data["deleteNote"]
        assert dele["errors"][0]["code"] == "NOT_FOUND"
    assert "rep1 private" in titles(as_("rep1"))


def test_public_read_lets_others_read_but_not_update_and_hides_full_access_fields(as_):
    note = create(as_("rep1"), "rep1 public", access="PUBLIC_READ", body="discount 30%")
    rep2 = as_("rep2")
    got = rep2("query($id: ID!) { note(id: $id) { title body } }", {"id": note})
    assert got.data["note"] == {"title": "rep1 public", "body": None}
    assert got.codes == ["FORBIDDEN"]
    assert got.errors[0]["path"] == ["note", "body"]
    listed = rep2("{ notes { title body } }")
    bodies = {n["title"]: n["body"] for n in listed.data["notes"]}
    assert bodies["rep1 public"] is None
    upd = rep2(UPDATE, {"id": note, "t": "changed"}).data["updateNote"]
    assert upd["errors"][0]["code"] == "FORBIDDEN"
    # the manager (above rep1) has full access
    assert as_("manager")("query($id: ID!) { note(id: $id) { body } }", {"id": note}).data == {
        "note": {"body": "discount 30%"}
    }


def test_public_write_lets_others_update(as_):
    note = create(as_("rep1"), "shared pad", access="PUBLIC_WRITE")
    upd = as_("rep2")(UPDATE, {"id": note, "t": "edited by rep2"}).data["updateNote"]
    assert upd == {"note": {"title": "edited by rep2"}, "errors": []}
    # but PUBLIC_WRITE does not give delete rights to those without delete permission
    dele = as_("rep2")(DELETE, {"id": note}).data["deleteNote"]
    assert dele["errors"][0]["code"] == "FORBIDDEN"


def test_nested_relations_never_leak(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    parent = create(rep1, "rep1 parent")
    child = create(rep1, "child handed to rep2", parent=parent, owner=rep2_id)
    q = "query($id: ID!) { note(id: $id) { title parent { title } children { title } } }"
    assert rep2(q, {"id": child}).data["note"] == {
        "title": "child handed to rep2",
        "parent": None,
        "children": [],
    }
    assert rep1(q, {"id": parent}).data["note"]["children"] == []
    assert rep1(q, {"id": child}).data["note"] is None
    assert manager(q, {"id": parent}).data["note"]["children"] == [
        {"title": "child handed to rep2"}
    ]
    listed = rep2("{ notes { title parent { title } children { title } } }").data["notes"]
    assert {n["title"]: n["parent"] for n in listed}["child handed to rep2"] is None
    listed = rep1("{ notes { title children { title } } }").data["notes"]
    assert {n["title"]: n["children"] for n in listed}["rep1 parent"] == []
    # a parent the caller cannot see cannot be used either
    r = rep2(CREATE, {"t": "sneaky", "p": parent}).data["createNote"]
    assert r["errors"][0]["code"] == "NOT_FOUND"


def test_other_tenant_ids_are_not_found(as_):
    acme = as_("admin@acme.test")
    demo_note = create(as_("admin"), "demo admin note", access="PUBLIC_WRITE")
    assert acme("query($id: ID!) { note(id: $id) { title } }", {"id": demo_note}).data == {
        "note": None
    }
    assert (
        acme(UPDATE, {"id": demo_note, "t": "x"}).data["updateNote"]["errors"][0]["code"]
        == "NOT_FOUND"
    )
    owner_elsewhere = as_("admin")("{ me { user { id } } }").data["me"]["user"]["id"]
    r = acme(CREATE, {"t": "owned by a stranger", "o": owner_elsewhere}).data["createNote"]
    assert r["errors"][0]["code"] == "BAD_USER_INPUT"


def test_assistants_never_own_records(as_):
    assistant_id = as_("assistant")("{ me { user { id } } }").data["me"]["user"]["id"]
    r = as_("admin")(CREATE, {"t": "for the assistant", "o": assistant_id}).data["createNote"]
    assert r["errors"] == [
        {"code": "BAD_USER_INPUT", "message": "assistants cannot own records", "field": "owner"}
    ]
    # assistants may edit the records of the user they serve
    note = create(as_("rep1"), "rep1 draft")
    upd = as_("assistant")(UPDATE, {"id": note, "t": "polished by assistant"}).data["updateNote"]
    assert upd["errors"] == []


def test_module_permission_is_required(as_, gateway):
    # Acme's Standard profile got create/read/update on notes when the tenant was created;
    # a profile without notes.note.read sees no notes at all.
    admin = as_("admin")
    prof = admin(
        'mutation { createProfile(input: {name: "Blind", kind: HIERARCHICAL}) { profile { id } errors { code } } }'
    )
    profile_id = prof.data["createProfile"]["profile"]["id"]
    user = admin(
        """mutation($p: ID!) { createUser(input: {email: "blind@demo.test", displayName: "Blind",
        password: "blind-password", profileId: $p}) { user { id } errors { code message } } }""",
        {"p": profile_id},
    )
    assert user.data["createUser"]["errors"] == []
    create(admin, "public to all", access="PUBLIC_READ")
    blind = as_("blind@demo.test") if False else None  # noqa: F841
    from gateway.testing import GraphQLClient

    client = GraphQLClient(as_("admin").http).login("blind@demo.test", "blind-password")
    assert client("{ notes { title } }").data == {"notes": []}
    assert client("{ noteCount }").data == {"noteCount": 0}
    r = client(CREATE, {"t": "not allowed"}).data["createNote"]
    assert r["errors"][0]["code"] == "FORBIDDEN"


def test_permission_guarded_field_is_refused_before_any_sql(as_, sql_log):
    rep1 = as_("rep1")
    create(rep1, "with a secret")
    with sql_log:
        r = rep1("{ notes { title secret } }")
    assert r.data == {}
    assert r.codes == ["FORBIDDEN"]
    assert r.errors[0]["extensions"]["fields"] == ["Note.secret"]
    assert sql_log.touching("test_notes") == []
    assert as_("admin")("{ notes { secret } }").errors == []


def test_hidden_field_rule_is_refused_before_any_sql_and_read_only_blocks_writes(as_, sql_log):
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Note", fieldName: "body", mode: HIDDEN},
        {typeName: "Note", fieldName: "title", mode: READ_ONLY}]}) {
        profile { fieldRules { typeName fieldName mode } } errors { code message } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == []
    rep1 = as_("rep1")
    note = create(rep1, "title fixed")
    with sql_log:
        hidden = rep1("query($id: ID!) { note(id: $id) { title body } }", {"id": note})
    assert hidden.codes == ["FORBIDDEN"]
    assert "Note.body" in hidden.errors[0]["message"]
    assert sql_log.touching("test_notes") == []
    upd = rep1(UPDATE, {"id": note, "t": "renamed"}).data["updateNote"]
    assert upd["errors"][0]["code"] == "FORBIDDEN"
    assert rep1(UPDATE, {"id": note, "a": "PUBLIC_READ"}).data["updateNote"]["errors"] == []


def test_shares_give_read_or_write_to_one_user(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    note = create(rep1, "for rep2's eyes")
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    shared = rep1(
        """mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) {
        shares { user { email } canWrite } errors { code } } }""",
        {"r": note, "u": rep2_id},
    )
    assert shared.data["shareRecord"] == {
        "shares": [{"user": {"email": "rep2@demo.test"}, "canWrite": False}],
        "errors": [],
    }
    assert "for rep2's eyes" in titles(rep2)
    assert (
        rep2("query($id: ID!) { note(id: $id) { body } }", {"id": note}).errors == []
    )  # full access
    assert (
        rep2(UPDATE, {"id": note, "t": "x"}).data["updateNote"]["errors"][0]["code"] == "FORBIDDEN"
    )
    rep1(
        "mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u, canWrite: true) { errors { code } } }",
        {"r": note, "u": rep2_id},
    )
    assert rep2(UPDATE, {"id": note, "t": "edited"}).data["updateNote"]["errors"] == []
    # rep2 may not re-share what it cannot... it can write, so it may share; outsiders may not
    acme = as_("admin@acme.test")
    r = acme(
        "mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) { errors { code } } }",
        {"r": note, "u": rep2_id},
    )
    assert r.data["shareRecord"]["errors"][0]["code"] == "NOT_FOUND"
    rep1(
        "mutation($r: ID!, $u: ID!) { unshareRecord(recordId: $r, userId: $u) { errors { code } } }",
        {"r": note, "u": rep2_id},
    )
    assert "edited" not in titles(rep2)


def test_sharing_rule_opens_a_subtree_to_a_profile(as_):
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    create(rep1, "rep1 pipeline")
    ids = {u["email"]: u["id"] for u in admin("{ users { id email } }").data["users"]}
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    rule = admin(
        """mutation($o: ID!, $p: ID!) { createSharingRule(input: {name: "reps see reps",
        ownerRootId: $o, granteeProfileId: $p, entity: "note"}) { sharingRule { id name canWrite
        ownerRoot { email } granteeProfile { name } } errors { code message } } }""",
        {"o": ids["rep1@demo.test"], "p": profiles["Sales rep"]},
    )
    payload = rule.data["createSharingRule"]
    assert payload["errors"] == []
    assert payload["sharingRule"]["granteeProfile"] == {"name": "Sales rep"}
    assert "rep1 pipeline" in titles(rep2)
    note_id = next(
        n["id"]
        for n in rep2("{ notes { id title } }").data["notes"]
        if n["title"] == "rep1 pipeline"
    )
    assert (
        rep2(UPDATE, {"id": note_id, "t": "x"}).data["updateNote"]["errors"][0]["code"]
        == "FORBIDDEN"
    )
    admin(
        "mutation($id: ID!) { deleteSharingRule(id: $id) { errors { code } } }",
        {"id": payload["sharingRule"]["id"]},
    )
    assert "rep1 pipeline" not in titles(as_("rep2"))


def test_export_holds_exactly_what_the_caller_may_see(as_):
    import base64
    import io

    import openpyxl

    create(as_("rep1"), "rep1 private", body="private body")
    create(as_("rep1"), '=HYPERLINK("x")', access="PUBLIC_READ", body="public body")

    def exported(who):
        data = as_(who)("{ exportNotes { contentBase64 } }").data["exportNotes"]["contentBase64"]
        sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data)))["Notes"]
        return {r[0]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}, sheet

    rows, sheet = exported("rep2")
    assert rows == {"Welcome": None, '=HYPERLINK("x")': None}  # no full access: no bodies
    assert all(c.data_type == "s" for c in sheet["A"])
    rows, _ = exported("manager")
    assert rows == {
        "Welcome": None,
        "rep1 private": "private body",
        '=HYPERLINK("x")': "public body",
    }
    rows, _ = exported("admin@acme.test")
    assert rows == {"Welcome": None}


def test_sdl_shows_permission_directives(gateway):
    sdl = str(gateway.schemas.full())
    assert 'secret: String @requires(permission: "notes.read_secret")' in sdl
    assert "body: String @fullAccess" in sdl
    assert "directive @requires(permission: String!) on FIELD_DEFINITION" in sdl


def test_a_former_assistant_loses_the_grants_of_assistant_links(demo, client_for):
    """Sign-in reads every fact branch before the profile kind is known; links of a user
    moved off the assistant profile must not grant anything (they are kept, unused)."""
    from tests.test_contacts import UPDATE, create

    admin, rep1 = client_for("admin@demo.test"), client_for("rep1@demo.test")
    secret = create(rep1, firstName="Secret", lastName="OfRep1", access="PRIVATE")
    users = {u["email"]: u["id"] for u in admin("{ users { id email } }").data["users"]}
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert client_for("assistant@demo.test")(query, {"id": secret["id"]}).data["node"]
    r = admin(
        "mutation($id: ID!, $p: ID!) { updateUser(id: $id, input: {profileId: $p}) "
        "{ errors { code } } }",
        {"id": users["assistant@demo.test"], "p": profiles["Sales rep"]},
    )
    assert r.data["updateUser"]["errors"] == []
    former = client_for("assistant@demo.test")
    assert former(query, {"id": secret["id"]}).data["node"] is None
    changed = former(UPDATE, {"id": secret["id"], "input": {"firstName": "Hijacked"}})
    assert changed.data["updateContact"]["errors"][0]["code"] == "NOT_FOUND"


def test_a_user_a_record_is_shared_with_is_notified(as_):
    """MISSION A9: a new share, or one that now allows changes, tells its user; sharing
    again the same way does not."""
    rep1, rep2 = as_("rep1"), as_("rep2")
    note = create(rep1, "Quarterly plan")
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    share = """mutation($r: ID!, $u: ID!, $w: Boolean!) {
      shareRecord(recordId: $r, userId: $u, canWrite: $w) { errors { code } } }"""

    def shared_notes() -> list[dict]:
        notes = rep2("{ notifications { kind title subjectId } }").data["notifications"]
        return [n for n in notes if n["kind"] == "access.shared"]

    rep1(share, {"r": note, "u": rep2_id, "w": False})
    [first] = shared_notes()
    assert first["subjectId"] == note
    assert "Quarterly plan" in first["title"] and first["title"].endswith("with you to read")
    rep1(share, {"r": note, "u": rep2_id, "w": False})  # nothing new
    assert len(shared_notes()) == 1
    rep1(share, {"r": note, "u": rep2_id, "w": True})
    assert shared_notes()[0]["title"].endswith("to read and change")
    mine = rep1("{ notifications { kind } }").data["notifications"]
    assert all(n["kind"] != "access.shared" for n in mine)  # the sharer is not told
