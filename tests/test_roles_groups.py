"""Roles (job positions, their tree, record visibility following it) and user groups (module
grants beyond profiles, sharing rules to a group), over HTTP."""

from __future__ import annotations

import pytest

ROLES = "{ roles { id name builtin parent { name } } }"
TREE = """fragment R on RoleTreeNode { role { name } users { email } }
{ roleTree { ...R children { ...R children { ...R children { ...R children { ...R } } } } } }"""
USERS = "{ users { id email role { name } } }"
NOTES = "{ notes { id title } noteCount }"
NOTE = "query($id: ID!) { note(id: $id) { id } }"
EXPLAIN = """query($u: ID!, $r: ID!) { explainAccess(userId: $u, recordId: $r) {
  read { allowed reasons { reason granted detail } } } }"""
LOG = """query($f: AuditLogFilter) { auditLog(first: 100, filter: $f) { edges { node {
  action target } } } }"""
ORG = """mutation($v: RecordVisibility!) { updateOrganization(input: {recordVisibility: $v}) {
  organization { recordVisibility } errors { code } } }"""
SET_ROLE = """mutation($id: ID!, $r: ID) { updateUser(id: $id, input: {roleId: $r}) {
  user { role { name } } errors { code field } } }"""


@pytest.fixture
def admin(demo, as_):
    return as_("admin")


def _ids(client, query: str, key: str) -> dict[str, str]:
    r = client(query)
    assert r.errors == [], r.errors
    root = next(iter(r.data))
    return {item[key]: item["id"] for item in r.data[root]}


def _mutate(client, query: str, variables: dict | None = None) -> dict:
    r = client(query, variables or {})
    assert r.errors == [], r.errors
    return next(iter(r.data.values()))


def _tree(node: dict) -> dict:
    return {
        node["role"]["name"]: {
            "users": [u["email"] for u in node.get("users", [])],
            **{k: v for c in node.get("children") or [] for k, v in _tree(c).items()},
        }
    }


def test_system_roles_seeded_and_the_roles_tree_is_administered(admin, as_):
    rep1 = as_("rep1")
    seen = {r["name"]: r for r in rep1(ROLES).data["roles"]}
    assert seen["CEO"]["builtin"] and seen["CEO"]["parent"] is None
    assert seen["Manager"]["builtin"] and seen["Manager"]["parent"] == {"name": "CEO"}
    assert seen["Sales rep"]["parent"] == {"name": "Manager"}
    assert {r["name"] for r in as_("admin@acme.test")(ROLES).data["roles"]} == {"CEO", "Manager"}
    r = rep1('mutation { createRole(input: {name: "x"}) { errors { code } } }')
    assert r.codes == ["FORBIDDEN"]

    ids = _ids(admin, ROLES, "name")
    lead = _mutate(
        admin,
        """mutation($p: ID) { createRole(input: {name: "Team lead", parentId: $p}) {
        role { id name parent { name } } errors { code } } }""",
        {"p": ids["Manager"]},
    )
    assert lead["role"]["parent"] == {"name": "Manager"}
    lead_id = lead["role"]["id"]
    move = """mutation($id: ID!, $p: ID) { updateRole(id: $id, input: {parentId: $p}) {
      role { name parent { name } } errors { code field } } }"""
    # a role cannot go below itself or below a role under it
    assert _mutate(admin, move, {"id": ids["Manager"], "p": lead_id})["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "parentId"}
    ]
    assert _mutate(admin, move, {"id": lead_id, "p": lead_id})["errors"][0]["field"] == "parentId"
    assert _mutate(admin, move, {"id": ids["Sales rep"], "p": lead_id})["errors"] == []
    tree = _tree(admin(TREE).data["roleTree"][0])
    assert tree["CEO"]["users"] == ["director@demo.test"]
    assert tree["CEO"]["Manager"]["Team lead"]["Sales rep"]["users"] == [
        "rep1@demo.test",
        "rep2@demo.test",
    ]
    delete = "mutation($id: ID!) { deleteRole(id: $id) { deletedId errors { code } } }"
    assert _mutate(admin, delete, {"id": ids["CEO"]})["errors"] == [{"code": "CONFLICT"}]
    assert _mutate(admin, delete, {"id": ids["Sales rep"]})["errors"] == [{"code": "CONFLICT"}]
    assert _mutate(admin, delete, {"id": lead_id})["errors"] == []
    # the roles below a deleted role move up to its parent, with their closure
    tree = _tree(admin(TREE).data["roleTree"][0])
    assert "Sales rep" in tree["CEO"]["Manager"]
    duplicate = admin('mutation { createRole(input: {name: "CEO"}) { errors { code field } } }')
    assert duplicate.data["createRole"]["errors"] == [{"code": "CONFLICT", "field": "name"}]
    actions = {(e["node"]["action"], e["node"]["target"]) for e in _log_edges(admin)}
    assert {
        ("access.role_created", "Team lead"),
        ("access.role_updated", "Sales rep"),
        ("access.role_deleted", "Team lead"),
    } <= actions


def _log_edges(admin) -> list[dict]:
    r = admin(LOG, {"f": None})
    assert r.errors == [], r.errors
    return r.data["auditLog"]["edges"]


def test_a_user_has_at_most_one_role_set_apart_from_the_profile(admin, as_):
    users = _ids(admin, USERS, "email")
    roles = _ids(admin, ROLES, "name")
    rep1 = users["rep1@demo.test"]
    changed = _mutate(admin, SET_ROLE, {"id": rep1, "r": roles["Manager"]})
    assert changed == {"user": {"role": {"name": "Manager"}}, "errors": []}
    assert {u["email"]: u["role"] for u in admin(USERS).data["users"]}["rep1@demo.test"] == {
        "name": "Manager"
    }
    assert _mutate(admin, SET_ROLE, {"id": rep1, "r": None})["user"]["role"] is None
    acme_ceo = _ids(as_("admin@acme.test"), ROLES, "name")["CEO"]
    other = _mutate(admin, SET_ROLE, {"id": rep1, "r": acme_ceo})
    assert other["errors"] == [{"code": "NOT_FOUND", "field": "roleId"}]
    created = _mutate(
        admin,
        """mutation($p: ID!, $r: ID) { createUser(input: {email: "new@demo.test",
        displayName: "New", password: "password-123", profileId: $p, roleId: $r}) {
        user { role { name } profile { name } } errors { code } } }""",
        {"p": _ids(admin, "{ profiles { id name } }", "name")["Sales rep"], "r": roles["CEO"]},
    )
    assert created["user"] == {"role": {"name": "CEO"}, "profile": {"name": "Sales rep"}}


def test_record_visibility_follows_the_roles_tree_when_the_organisation_says_so(admin, as_):
    users = _ids(admin, USERS, "email")
    roles = _ids(admin, ROLES, "name")
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    note = _mutate(
        rep1, 'mutation { createNote(title: "private", access: PRIVATE) { note { id } } }'
    )
    nid = note["note"]["id"]

    def sees(client) -> bool:
        listed = client(NOTES).data
        by_id = client(NOTE, {"id": nid}).data["note"] is not None
        assert by_id == (nid in {n["id"] for n in listed["notes"]})
        assert listed["noteCount"] == len(listed["notes"])
        return by_id

    # rep2 takes the Manager role; the manager (by reporting line) has no role
    _mutate(admin, SET_ROLE, {"id": users["rep2@demo.test"], "r": roles["Manager"]})
    _mutate(admin, SET_ROLE, {"id": users["manager@demo.test"], "r": None})
    assert (sees(manager), sees(rep2)) == (True, False)  # the reporting line, as before
    org = _mutate(admin, ORG, {"v": "ROLE_TREE"})
    assert org == {"organization": {"recordVisibility": "ROLE_TREE"}, "errors": []}
    assert (sees(manager), sees(rep2), sees(as_("director"))) == (False, True, True)
    assert sees(rep1)
    reasons = admin(EXPLAIN, {"u": users["rep2@demo.test"], "r": nid}).data["explainAccess"]
    granted = [r for r in reasons["read"]["reasons"] if r["granted"]]
    assert [r["reason"] for r in granted] == ["MODULE_PERMISSION", "ROLE_HIERARCHY"]
    assert granted[1]["detail"] == "the owner's role is below theirs: Manager → Sales rep"
    director = admin(EXPLAIN, {"u": users["director@demo.test"], "r": nid}).data["explainAccess"]
    assert any(
        r["detail"] == "the owner's role is below theirs: CEO → Manager → Sales rep"
        for r in director["read"]["reasons"]
    )
    denied = admin(EXPLAIN, {"u": users["manager@demo.test"], "r": nid}).data["explainAccess"]
    assert denied["read"]["allowed"] is False
    # changes of role apply at once, and switching back restores the reporting line
    _mutate(admin, SET_ROLE, {"id": users["rep2@demo.test"], "r": roles["Sales rep"]})
    assert not sees(rep2)
    _mutate(admin, ORG, {"v": "REPORTING_LINE"})
    assert (sees(manager), sees(rep2)) == (True, False)
    assert as_("rep1")(
        "mutation { updateOrganization(input: {recordVisibility: ROLE_TREE}) { errors { code } } }"
    ).codes == ["FORBIDDEN"]


GROUP = """mutation($n: String!, $m: [ID!]!, $p: [String!]!) {
  createUserGroup(input: {name: $n, memberIds: $m, permissions: $p}) {
  group { id name members { email } permissions } errors { code field } } }"""


def test_group_grants_add_module_permissions_beyond_the_profile(admin, as_, client_for):
    empty = _mutate(
        admin,
        'mutation { createProfile(input: {name: "Bare", kind: HIERARCHICAL}) { profile { id } } }',
    )["profile"]["id"]
    _mutate(
        admin,
        """mutation($p: ID!) { createUser(input: {email: "bare@demo.test", displayName: "Bare",
        password: "password-123", profileId: $p}) { user { id } errors { code } } }""",
        {"p": empty},
    )
    users = _ids(admin, USERS, "email")
    bare = client_for("bare@demo.test", "password-123")
    note = _mutate(
        as_("rep1"), 'mutation { createNote(title: "public", access: PUBLIC_READ) { note { id } } }'
    )["note"]["id"]
    assert bare(NOTE, {"id": note}).data["note"] is None
    assert as_("rep1")("{ userGroups { id } }").codes == ["FORBIDDEN"]
    refused = _mutate(
        admin, GROUP, {"n": "Secret", "m": [users["bare@demo.test"]], "p": ["notes.read_secret"]}
    )
    assert refused["errors"] == [{"code": "BAD_USER_INPUT", "field": "permissions"}]
    created = _mutate(
        admin, GROUP, {"n": "Readers", "m": [users["bare@demo.test"]], "p": ["notes.note.read"]}
    )
    assert created["group"]["members"] == [{"email": "bare@demo.test"}]
    assert created["group"]["permissions"] == ["notes.note.read"]
    assert bare(NOTE, {"id": note}).data["note"] == {"id": note}
    assert bare("{ me { permissions } }").data["me"]["permissions"] == ["notes.note.read"]
    explained = admin(EXPLAIN, {"u": users["bare@demo.test"], "r": note}).data["explainAccess"]
    assert explained["read"]["reasons"][0] == {
        "reason": "GROUP_GRANT",
        "granted": True,
        "detail": "notes.note.read is granted by their group(s): Readers",
    }
    # a sharing rule naming the group opens rep1's private notes to its members
    private = _mutate(
        as_("rep1"), 'mutation { createNote(title: "mine", access: PRIVATE) { note { id } } }'
    )["note"]["id"]
    assert bare(NOTE, {"id": private}).data["note"] is None
    rule = _mutate(
        admin,
        """mutation($o: ID!, $g: ID!) { createSharingRule(input: {name: "to readers",
        ownerRootId: $o, granteeGroupId: $g}) { sharingRule { granteeGroup { name } } errors { code } } }""",
        {"o": users["rep1@demo.test"], "g": created["group"]["id"]},
    )
    assert rule["sharingRule"]["granteeGroup"] == {"name": "Readers"}
    assert bare(NOTE, {"id": private}).data["note"] == {"id": private}
    # leaving the group takes its grants away
    left = _mutate(
        admin,
        """mutation($id: ID!) { updateUserGroup(id: $id, input: {memberIds: []}) {
        group { members { email } } errors { code } } }""",
        {"id": created["group"]["id"]},
    )
    assert left["group"]["members"] == []
    assert bare(NOTE, {"id": note}).data["note"] is None
    assert bare("{ me { permissions } }").data["me"]["permissions"] == []
    gone = _mutate(
        admin,
        "mutation($id: ID!) { deleteUserGroup(id: $id) { errors { code } } }",
        {"id": created["group"]["id"]},
    )
    assert gone["errors"] == []
    assert admin("{ sharingRules { name } }").data["sharingRules"] == []
    acme = as_("admin@acme.test")
    assert acme("{ userGroups { id } }").data["userGroups"] == []
    foreign = acme(
        "mutation($id: ID!) { deleteUserGroup(id: $id) { errors { code } } }",
        {"id": created["group"]["id"]},
    )
    assert foreign.data["deleteUserGroup"]["errors"] == [{"code": "NOT_FOUND"}]
    actions = {(e["node"]["action"], e["node"]["target"]) for e in _log_edges(admin)}
    assert {("access.group_created", "Readers"), ("access.group_deleted", "Readers")} <= actions
