"""The contacts module on the module kit: backward pages, one write path (a taken name is
CONFLICT from the unique constraint, not from a check that races), root fields that declare
their permission, and imports from ``gateway.sdk`` only."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

PAGE = """query($n: Int, $a: String, $l: Int, $b: String) {
  contacts(first: $n, after: $a, last: $l, before: $b, orderBy: {field: NAME}) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } } } }"""


def _page(client, **variables):
    r = client(PAGE, variables)
    assert r.errors == [], r.errors
    return r.data["contacts"]


def test_backward_pages_mirror_forward_pages(as_):
    admin = as_("admin")
    everything = [e["node"]["id"] for e in _page(admin, n=500)["edges"]]
    assert len(everything) > 6
    last = _page(admin, l=3)
    assert [e["node"]["id"] for e in last["edges"]] == everything[-3:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    assert last["totalCount"] == len(everything)
    before = _page(admin, l=2, b=last["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in before["edges"]] == everything[-5:-3]
    assert before["pageInfo"]["hasNextPage"] is True


def test_first_and_last_together_are_refused(as_):
    r = as_("admin")(PAGE, {"n": 2, "l": 2})
    assert r.codes == ["BAD_USER_INPUT"]


CREATE_TAG = "mutation($n: String!) { createTag(name: $n) { tag { name } errors { code } } }"
CREATE_TYPE = """mutation($n: String!) { createContactType(name: $n) {
  contactType { name } errors { code } } }"""
CREATE_FIELD = """mutation($n: String!) { createContactCustomField(key: $n, label: $n, type: TEXT) {
  customField { key } errors { code } } }"""


@pytest.mark.parametrize(
    ("mutation", "root", "made"),
    [
        (CREATE_TAG, "createTag", "tag"),
        (CREATE_TYPE, "createContactType", "contactType"),
        (CREATE_FIELD, "createContactCustomField", "customField"),
    ],
)
def test_a_taken_name_is_conflict(as_, mutation, root, made):
    admin = as_("admin")
    first = admin(mutation, {"n": "kit_twice"}).data[root]
    assert first["errors"] == [] and first[made] is not None
    again = admin(mutation, {"n": "kit_twice"}).data[root]
    assert again[made] is None
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]


def test_two_concurrent_tag_creations_one_wins(as_):
    admin = as_("admin")
    results: list[dict] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        results.append(admin(CREATE_TAG, {"n": "kit_race"}).data["createTag"])

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(tuple(e["code"] for e in r["errors"]) for r in results)
    assert codes == [(), ("CONFLICT",)]


def test_root_fields_declare_their_permission(as_):
    rep1 = as_("rep1")  # a sales rep: no settings, no merge
    r = rep1(CREATE_TAG, {"n": "kit_refused"})
    assert r.codes == ["FORBIDDEN"]
    assert "createTag" in r.errors[0]["message"]


def test_contacts_imports_only_the_sdk():
    """Migrations (``versions/``) are left as Alembic generated them: frozen history that
    names column types by their kernel path."""
    root = Path(__file__).parent.parent / "plugins" / "contacts"
    for path in root.rglob("*.py"):
        if "versions" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top != "gateway" or node.module == "gateway.sdk", (path, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("gateway"), (path, alias.name)


ONE_PATH = """query($s: String!) { contacts(first: 5, search: $s) { edges { node {
  displayName source access owner { email } tags { name } } } } }"""


def test_web_forms_graphql_and_jobs_create_contacts_through_one_function(
    as_, app, gateway, monkeypatch
):
    """One creation path: a counter wrapped around ``services.create_contact`` sees the
    GraphQL mutation, a web form submission (a visitor with an explicit owner) and the
    system acting for a user (a job) — and each outcome carries its caller's marks."""
    from gateway.sdk import CallerContext, Via
    from plugins.contacts import services
    from tests.test_contact_webforms import create_form, post, user_id

    calls: list[str] = []
    real = services.create_contact

    def counted(ctx, data):
        calls.append(ctx.via.value)
        return real(ctx, data)

    monkeypatch.setattr(services, "create_contact", counted)
    admin, rep1 = as_("admin"), as_("rep1")

    r = rep1(
        """mutation { createContact(input: {kind: PERSON, lastName: "Onepath Graphql"}) {
        errors { code } } }"""
    )
    assert r.data["createContact"]["errors"] == []

    form = create_form(
        admin, name="One path", fields=["lastName", "email"], ownerId=user_id(rep1), tags=["web"]
    )
    sent = post(app, form, json={"lastName": "Onepath Visitor", "email": "v@onepath.example"})
    assert sent.status_code == 201, sent.json()

    rep1_id = _user_pk(gateway, "rep1@demo.test")
    job = CallerContext.acting_for(gateway, rep1_id, via=Via.JOB)
    try:
        with job.transaction():
            services.create_contact(job, services.ContactData(values={"last_name": "Onepath Job"}))
    finally:
        job.close()

    assert calls == ["api", "web_form", "job"]
    made = {
        n["displayName"]: n
        for e in rep1(ONE_PATH, {"s": "onepath"}).data["contacts"]["edges"]
        for n in [e["node"]]
    }
    assert _created_by(gateway, "Onepath Graphql") == rep1_id
    assert _created_by(gateway, "Onepath Job") == rep1_id
    assert _created_by(gateway, "Onepath Visitor") is None
    visitor = made["Onepath Visitor"]
    assert (visitor["source"], visitor["access"]) == ("web form: One path", "PRIVATE")
    assert visitor["owner"]["email"] == "rep1@demo.test"
    assert [t["name"] for t in visitor["tags"]] == ["web"]


def _created_by(gateway, last_name: str) -> int | None:
    from sqlalchemy import select

    from plugins.contacts.models import Contact

    with gateway.db.reading() as s:
        return s.scalar(select(Contact.created_by_id).where(Contact.last_name == last_name))


def _user_pk(gateway, email: str) -> int:
    from sqlalchemy import select

    from gateway.sdk import User

    with gateway.db.reading() as s:
        return s.scalar(select(User.id).where(User.email == email))


def test_a_visitor_needs_an_owner_and_holds_no_permission(gateway, demo):
    from gateway.sdk import BadUserInput, CallerContext, Forbidden, Via
    from plugins.contacts import services

    tenant_id = _tenant_of(gateway, "rep1@demo.test")
    ctx = CallerContext.visitor(gateway, tenant_id, frozenset({"contacts"}), via=Via.WEB_FORM)
    try:
        with pytest.raises(BadUserInput) as refused, ctx.transaction():
            services.create_contact(ctx, services.ContactData(values={"last_name": "Nobody's"}))
        assert refused.value.field == "ownerId"
        owner = _user_pk(gateway, "rep1@demo.test")
        public = {"last_name": "Public", "owner_id": owner, "access": "PUBLIC_READ"}
        with pytest.raises(Forbidden), ctx.transaction():
            services.create_contact(ctx, services.ContactData(values=public))
    finally:
        ctx.close()


def _tenant_of(gateway, email: str) -> int:
    from sqlalchemy import select

    from gateway.sdk import User

    with gateway.db.reading() as s:
        return s.scalar(select(User.tenant_id).where(User.email == email))
