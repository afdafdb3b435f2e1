"""Modules per tenant over HTTP: listing, switching, dependencies, schemas, data, hooks."""

from __future__ import annotations

SWITCH = """mutation($n: String!, $e: Boolean!) { setModuleEnabled(name: $n, enabled: $e) {
  changed modules { name enabled } errors { code message field } } }"""
ROOT_FIELDS = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"


def switch(client, name, enabled):
    return client(SWITCH, {"n": name, "e": enabled}).data["setModuleEnabled"]


def root_fields(client):
    s = client(ROOT_FIELDS).data["__schema"]
    return {f["name"] for f in s["queryType"]["fields"]} | {
        f["name"] for f in s["mutationType"]["fields"]
    }


def test_modules_lists_installed_modules_with_tenant_state(demo, client_for):
    mods = client_for("rep1@demo.test")("{ modules { name enabled optional requires } }")
    assert mods.data["modules"] == [
        {"name": "core", "enabled": True, "optional": False, "requires": []},
        {"name": "contacts", "enabled": True, "optional": True, "requires": []},
        {"name": "leads", "enabled": True, "optional": True, "requires": ["contacts"]},
        {"name": "invoices", "enabled": True, "optional": True, "requires": ["contacts"]},
        {"name": "calendar", "enabled": True, "optional": True, "requires": ["contacts"]},
        {"name": "consent", "enabled": True, "optional": True, "requires": ["contacts"]},
        {"name": "notes", "enabled": True, "optional": True, "requires": []},
        {"name": "audit", "enabled": False, "optional": True, "requires": ["notes"]},
    ]


def test_only_administrators_switch_modules(demo, client_for):
    r = client_for("manager@demo.test")(SWITCH, {"n": "notes", "e": False})
    assert r.codes == ["FORBIDDEN"]


def test_disabled_module_is_absent_from_schema_and_introspection(demo, client_for):
    admin = client_for("admin@demo.test")
    acme = client_for("admin@acme.test")
    assert {"notes", "createNote"} <= root_fields(admin)
    assert switch(acme, "notes", False)["changed"] == ["notes"]
    fields = root_fields(acme)
    assert "notes" not in fields and "createNote" not in fields and "auditTrail" not in fields
    types = {t["name"] for t in acme("{ __schema { types { name } } }").data["__schema"]["types"]}
    assert "Note" not in types
    # The other tenant is unaffected.
    assert {"notes", "createNote"} <= root_fields(admin)


def test_disabled_module_mutation_answers_module_disabled(demo, client_for):
    acme = client_for("admin@acme.test")
    switch(acme, "notes", False)
    r = acme('mutation { createNote(title: "x") { note { id } } }')
    assert r.codes == ["MODULE_DISABLED"]
    assert r.errors[0]["extensions"]["module"] == "notes"
    assert "Did you mean" not in r.errors[0]["message"]


def test_data_survives_a_toggle(demo, client_for):
    acme = client_for("admin@acme.test")
    acme('mutation { createNote(title: "remember me") { note { id } } }')
    switch(acme, "notes", False)
    assert acme("{ notes { title } }").codes == ["MODULE_DISABLED"]
    switch(acme, "notes", True)
    titles = [n["title"] for n in acme("{ notes { title } }").data["notes"]]
    assert "remember me" in titles


def test_enabling_a_module_enables_what_it_requires(demo, client_for):
    acme = client_for("admin@acme.test")
    switch(acme, "notes", False)
    result = switch(acme, "audit", True)
    assert result["errors"] == []
    assert result["changed"] == ["audit", "notes"]
    assert {m["name"] for m in result["modules"] if m["enabled"]} == {
        "core",
        "contacts",
        "leads",
        "invoices",
        "calendar",
        "consent",
        "notes",
        "audit",
    }


def test_disabling_a_required_module_is_a_conflict_naming_dependents(demo, client_for):
    acme = client_for("admin@acme.test")
    switch(acme, "audit", True)
    result = switch(acme, "notes", False)
    assert result["changed"] == []
    (error,) = result["errors"]
    assert error["code"] == "CONFLICT" and "audit" in error["message"]
    assert "notes" in root_fields(acme)


def test_kernel_module_cannot_be_disabled_and_unknown_is_not_found(demo, client_for):
    admin = client_for("admin@demo.test")
    assert switch(admin, "core", False)["errors"][0]["code"] == "BAD_USER_INPUT"
    assert switch(admin, "nope", True)["errors"][0]["code"] == "NOT_FOUND"


def test_hooks_of_a_disabled_module_do_not_fire(demo, client_for):
    admin = client_for("admin@demo.test")
    # audit is off by default: its record-changed hook and its veto stay silent.
    admin('mutation { createNote(title: "keep me") { note { id } } }')
    switch(admin, "audit", True)
    assert admin("{ auditTrail { entity kind } }").data["auditTrail"] == []
    note = admin('mutation { createNote(title: "keep this") { note { id } } }')
    note_id = note.data["createNote"]["note"]["id"]
    assert admin("{ auditTrail { entity kind } }").data["auditTrail"] == [
        {"entity": "note", "kind": "created"}
    ]
    deleted = admin(
        "mutation($id: ID!) { deleteNote(id: $id) { errors { code message } } }", {"id": note_id}
    ).data["deleteNote"]
    assert deleted["errors"][0]["code"] == "CONFLICT"
    assert "audit:" in deleted["errors"][0]["message"]
    switch(admin, "audit", False)
    deleted = admin(
        "mutation($id: ID!) { deleteNote(id: $id) { errors { code } } }", {"id": note_id}
    ).data["deleteNote"]
    assert deleted["errors"] == []


def test_schemas_are_built_once_per_module_set(demo, client_for, app):
    factory = app.app.state.gateway.schemas
    a, b = client_for("rep1@demo.test"), client_for("admin@acme.test")
    for _ in range(3):
        a("{ me { user { email } } }")
        b("{ me { user { email } } }")
    built = factory.built
    assert built == 2  # anonymous (logins) + {core, notes}, shared by both tenants
    switch(b, "notes", False)
    for _ in range(3):
        b("{ me { user { email } } }")
    assert factory.built == built + 1
