"""One test per hook of the contract (enforced by test_hookspecs.py)."""

from __future__ import annotations

import pytest
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


def test_hook_crm_http_routes(settings, migrated):
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from gateway.app import Gateway, create_app
    from gateway.contract import PluginInfo
    from gateway.db import Database
    from gateway.hookspecs import hookimpl
    from gateway.plugins import build_registry

    async def pong(request: Request) -> JSONResponse:
        gateway = request.app.state.gateway  # handlers reach the gateway through the app
        return JSONResponse(
            {"key": request.path_params["key"], "ping": "ping" in gateway.registry.plugins}
        )

    class PingPlugin:
        @hookimpl
        def crm_plugin_info(self):
            return PluginInfo(name="ping", title="Ping", version="0.1")

        @hookimpl
        def crm_http_routes(self):
            return [Route("/ping/{key}", pong, methods=["GET"])]

    registry = build_registry([PingPlugin()], entry_points=False)
    # its own Database: access enforcement is attached once per Database, with one registry
    db = Database(settings.resolved_database_url)
    with TestClient(create_app(Gateway(settings=settings, db=db, registry=registry))) as http:
        r = http.get("/ping/abc")
        assert (r.status_code, r.json()) == (200, {"key": "abc", "ping": True})
        assert http.post("/ping/abc").status_code == 405  # only the methods the route declares
        assert http.get("/healthz").json() == {"status": "ok"}  # the kernel's routes stay
        # the built-in contacts module contributes its public form endpoint the same way
        assert http.post("/forms/no-such-key", json={}).json() == {"error": "not found"}


def test_hook_crm_merge_records(demo, client_for, gateway):
    manager = client_for("manager@demo.test")
    admin = client_for("admin@demo.test")
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    create = """mutation($n: String!) { createContact(input: {kind: PERSON, firstName: $n}) {
        contact { id } } }"""
    kept = manager(create, {"n": "Kept"}).data["createContact"]["contact"]["id"]
    merged = manager(create, {"n": "Gone"}).data["createContact"]["contact"]["id"]
    r = manager(
        "mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) { errors { code } } }",
        {"k": kept, "m": merged},
    )
    assert r.data["mergeContacts"]["errors"] == []
    with gateway.db.reading() as s:
        kinds = s.scalars(select(AuditEntry.kind).where(AuditEntry.entity == "contact")).all()
    assert "merged" in kinds


def test_hook_crm_dashboard_figures(demo, client_for):
    query = """{ dashboard { figures { module key count } } contacts(first: 1) { totalCount } }"""
    for email in ("admin@demo.test", "rep1@demo.test", "rep2@demo.test"):
        r = client_for(email)(query)
        figures = {f["key"]: f for f in r.data["dashboard"]["figures"]}
        assert figures["contacts.total"]["module"] == "contacts"
        assert figures["contacts.total"]["count"] == r.data["contacts"]["totalCount"], email


def test_demo_data_runs_each_module_after_the_modules_it_requires(gateway, registry):
    order = registry.dependency_order
    for name, loaded in registry.plugins.items():
        for required in loaded.info.requires:
            assert order.index(required) < order.index(name), (required, name)
    seed_demo(gateway)
    from plugins.leads.models import Opportunity

    with gateway.db.reading() as s:
        linked = s.scalars(select(Opportunity.contact_id)).all()
    # leads' demo data links opportunities to contacts' demo companies: contacts must run first
    assert linked and sum(c is not None for c in linked) >= len(linked) // 2


def test_hook_crm_email_refusals(demo, gateway, client_for):
    from gateway.context import CallerContext, Via
    from gateway.identity.models import User
    from gateway.mail import email_refusals
    from plugins.contacts.models import Contact

    admin = client_for("admin@demo.test")
    for name in ("Nomail Ltd", "Mailable Ltd"):
        r = admin(
            "mutation($n: String!) { createContact(input: {kind: COMPANY, companyName: $n})"
            " { contact { id } } }",
            {"n": name},
        )
        assert r.errors == []
    with gateway.db.reading() as s:
        admin_id = s.scalar(select(User.id).where(User.email == "admin@demo.test"))
        names = ("Nomail Ltd", "Mailable Ltd")
        rows = s.execute(
            select(Contact.company_name, Contact.id).where(Contact.company_name.in_(names))
        )
        by_name = {name: contact_id for name, contact_id in rows}
    ids = [by_name["Nomail Ltd"], by_name["Mailable Ltd"]]

    def refusals(entity: str, record_ids: list[int]) -> dict[int, list[str]]:
        ctx = CallerContext.acting_for(gateway, admin_id, via=Via.JOB)
        try:
            return email_refusals(ctx, entity, record_ids)
        finally:
            ctx.close()

    assert refusals("contact", ids) == {}, "audit is off: nobody refuses"
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    assert refusals("contact", ids) == {ids[0]: ["audit: contacts named Nomail… are never emailed"]}
    assert refusals("lead", ids) == {}
    assert refusals("contact", []) == {}


def test_hook_crm_type_fields(demo, client_for, sql_log):
    """audit adds ``Note.auditEvents``: only in the schemas of tenants where audit is on."""
    admin, other = client_for("admin@demo.test"), client_for("admin@acme.test")
    fields = '{ __type(name: "Note") { fields { name } } }'
    query = "{ notes { title auditEvents { kind } } }"

    def note_fields(client) -> set[str]:
        return {f["name"] for f in client(fields).data["__type"]["fields"]}

    assert "auditEvents" not in note_fields(admin)
    refused = admin(query)
    assert refused.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    admin('mutation { createNote(title: "Audited") { errors { code } } }')
    assert "auditEvents" in note_fields(admin)
    notes = {n["title"]: n["auditEvents"] for n in admin(query).data["notes"]}
    assert notes["Audited"] == [{"kind": "created"}]
    assert notes["Welcome"] == []
    # one statement for the page's events, however many notes the page holds
    with sql_log:
        admin(query)
    few = len(sql_log.statements)
    for n in range(5):
        admin(f'mutation {{ createNote(title: "More {n}") {{ errors {{ code }} }} }}')
    sql_log.statements.clear()
    with sql_log:
        assert len(admin(query).data["notes"]) == 7
    assert len(sql_log.statements) == few
    # the other tenant has not switched audit on: its Note type is unchanged
    assert "auditEvents" not in note_fields(other)
    assert other(query).errors


def test_type_fields_that_clash_or_extend_no_type_fail_start_up(settings):
    import strawberry

    from gateway.contract import PluginInfo, TypeField
    from gateway.errors import PluginError
    from gateway.graphql.schema_factory import SchemaFactory
    from gateway.hookspecs import hookimpl
    from gateway.plugins import build_registry

    @strawberry.field
    def display_name(root: object) -> str:
        return "again"

    @strawberry.field
    def extra(root: object) -> str:
        return "x"

    def plugin(name: str, extension: TypeField) -> object:
        class Extending:
            @hookimpl
            def crm_plugin_info(self):
                return PluginInfo(name=name, title=name, version="0.1")

            @hookimpl
            def crm_type_fields(self):
                return [extension]

        return Extending()

    cases = {
        "exists already": plugin("clash", TypeField("Contact", display_name)),
        "no module declares": plugin("nowhere", TypeField("Nowhere", extra)),
    }
    for message, extending in cases.items():
        registry = build_registry([extending], entry_points=False)
        with pytest.raises(PluginError, match=message):
            SchemaFactory(registry, settings).full()
    with pytest.raises(PluginError, match=r"type field 'Contact\.extra'"):
        build_registry(
            [
                plugin("one", TypeField("Contact", extra)),
                plugin("two", TypeField("Contact", extra)),
            ],
            entry_points=False,
        )
