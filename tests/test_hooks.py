"""One test per hook of the contract (enforced by test_hookspecs.py)."""

from __future__ import annotations

from sqlalchemy import select

from gateway.contract import AccessLevel
from gateway.demo import seed_demo
from tests.plugins.audit.models import AuditEntry
from tests.plugins.notes.models import Note


def test_hook_crm_plugin_info(registry):
    audit = registry.plugins["audit"].info
    assert (audit.title, audit.requires, audit.default_enabled) == (
        "Audit trail",
        ("notes",),
        False,
    )
    assert registry.plugins["core"].info.optional is False


def test_hook_crm_models(registry, migrated):
    assert registry.tables["test_notes"].info.name == "notes"
    assert registry.tables["users"].info.name == "core"
    assert Note in registry.models and AuditEntry in registry.models


def test_hook_crm_permissions(registry):
    assert registry.permissions["notes.read_secret"].description == "Read the secret of notes"
    assert registry.permission_owner["core.modules.manage"].info.name == "core"
    # module permissions are generated for each access-controlled entity
    read = registry.permissions["notes.note.read"]
    assert (read.kind.value, read.entity, read.action.value) == ("module", "note", "read")


def test_hook_crm_access_controlled(registry):
    entity = registry.entities["note"]
    assert entity.model is Note and entity.owner_attribute == "owner_id"
    assert Note.access.default.arg == AccessLevel.PRIVATE.value


def test_hook_crm_graphql_types(demo, client_for):
    r = client_for("rep1@demo.test")('{ __type(name: "Note") { fields { name } } }')
    assert {f["name"] for f in r.data["__type"]["fields"]} >= {"id", "title", "body", "children"}


def test_hook_crm_query_fields(demo, client_for):
    assert client_for("rep1@demo.test")("{ notes { title } }").data == {
        "notes": [{"title": "Welcome"}]
    }


def test_hook_crm_mutation_fields(demo, client_for):
    rep = client_for("rep1@demo.test")
    r = rep('mutation { createNote(title: "Call back") { note { title } errors { code } } }')
    assert r.data["createNote"] == {"note": {"title": "Call back"}, "errors": []}


def test_hook_crm_demo_data(gateway):
    seed_demo(gateway)
    seed_demo(gateway)  # idempotent
    with gateway.db.reading() as s:
        welcome = s.scalars(select(Note.tenant_id).where(Note.title == "Welcome")).all()
    assert len(welcome) == 2  # one per demo tenant, notes is on by default


def test_hook_crm_record_changed(demo, client_for, gateway):
    admin = client_for("admin@demo.test")
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    created = admin('mutation { createNote(title: "x") { note { id } } }').data["createNote"]
    admin(
        "mutation($id: ID!) { deleteNote(id: $id) { errors { code } } }",
        {"id": created["note"]["id"]},
    )
    with gateway.db.reading() as s:
        kinds = s.scalars(select(AuditEntry.kind).order_by(AuditEntry.id)).all()
    assert kinds == ["created", "deleted"]


def test_hook_crm_veto_delete(demo, client_for):
    admin = client_for("admin@demo.test")
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    created = admin('mutation { createNote(title: "keep forever") { note { id } } }')
    r = admin(
        "mutation($id: ID!) { deleteNote(id: $id) { errors { code message } } }",
        {"id": created.data["createNote"]["note"]["id"]},
    )
    (error,) = r.data["deleteNote"]["errors"]
    assert error["code"] == "CONFLICT"
    assert "audit: notes titled 'keep…' are kept for the audit" in error["message"]
    assert [n["title"] for n in admin("{ notes { title } }").data["notes"]] == [
        "Welcome",
        "keep forever",
    ]
