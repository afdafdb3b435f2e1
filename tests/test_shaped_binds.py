"""Plain list pages run a statement built once per selection and scope shape and shared by
every caller of that shape (gateway.shaping.statements, gateway.access.binds): each caller
still gets exactly their own rows — other subordinates, shares, sharing rules, tenants —,
a change of shares is seen at once, and a statement never falls back to another caller's
values."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import exc, select
from starlette.testclient import TestClient

from gateway.access.binds import USER
from gateway.access.enforcement import access_of, plain_rows, scope_session
from gateway.access.models import RecordShare
from gateway.access.named import NamedCriteria, shape_of, values_of
from gateway.access.scope import AccessScope
from gateway.app import Gateway, create_app
from gateway.shaping import page
from gateway.testing import GraphQLClient
from plugins.contacts.models import Contact

LIST = """query($first: Int, $after: String) { contacts(first: $first, after: $after) {
  totalCount edges { node { id displayName owner { email } tags { name } } }
  pageInfo { endCursor } } }"""
CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id } errors { code } } }"""
SHARE = """mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) {
  errors { code } } }"""
UNSHARE = """mutation($r: ID!, $u: ID!) { unshareRecord(recordId: $r, userId: $u) {
  errors { code } } }"""


@pytest.fixture
def clients(gateway: Gateway, demo, monkeypatch: pytest.MonkeyPatch):
    """(shaped, general) clients per user, and the statements the shaped path ran."""
    used: list[Any] = []
    real = page.page_statement

    def spy(*args: Any, **kwargs: Any) -> Any:
        stmt = real(*args, **kwargs)
        used.append(stmt)
        return stmt

    monkeypatch.setattr(page, "page_statement", spy)
    general = dataclasses.replace(
        gateway, settings=dataclasses.replace(gateway.settings, shaped_results=False)
    )
    with TestClient(create_app(gateway)) as fast, TestClient(create_app(general)) as slow:

        def login(email: str) -> tuple[GraphQLClient, GraphQLClient]:
            return (
                GraphQLClient(fast).login(email, "demo-password"),
                GraphQLClient(slow).login(email, "demo-password"),
            )

        yield login, used


def _page(client: GraphQLClient, after: str | None = None, first: int = 500) -> dict[str, Any]:
    r = client(LIST, {"first": first, "after": after})
    assert r.errors == [], r.errors
    return r.data["contacts"]


def _same_answers(pair: tuple[GraphQLClient, GraphQLClient]) -> list[str]:
    fast, slow = pair
    first_fast, first_slow = _page(fast), _page(slow)
    assert first_fast == first_slow
    cursor = _page(slow, first=2)["pageInfo"]["endCursor"]
    assert _page(fast, cursor) == _page(slow, cursor)  # the keyset page, cursor bound too
    return [e["node"]["id"] for e in first_fast["edges"]]


def test_callers_of_one_shape_share_a_statement_and_see_their_own_rows(clients):
    login, used = clients
    rep1, rep2 = login("rep1@demo.test"), login("rep2@demo.test")
    mine = _same_answers(rep1)
    theirs = _same_answers(rep2)
    assert used[0] is used[2] and used[1] is used[3]  # first pages; cursor pages
    assert mine != theirs
    admin, acme = login("admin@demo.test"), login("admin@acme.test")
    demo_ids, acme_ids = _same_answers(admin), _same_answers(acme)
    assert used[4] is used[6]  # both see their whole tenant: one statement for two tenants
    assert acme_ids and not set(demo_ids) & set(acme_ids)


def test_other_shapes_get_other_statements(clients):
    login, used = clients
    for email in ("rep1", "manager", "director", "assistant", "backoffice", "admin"):
        _same_answers(login(f"{email}@demo.test"))
    # rep (own), manager (+ subordinates), assistant (+ served), admin (everything)…
    assert len({id(s) for s in used[::2]}) >= 4


def test_a_share_changes_the_shape_and_is_seen_at_once(clients):
    login, used = clients
    rep1, rep2 = login("rep1@demo.test"), login("rep2@demo.test")
    made = rep1[0](CREATE, {"input": {"kind": "PERSON", "lastName": "Shared-Binds"}})
    contact = made.data["createContact"]["contact"]["id"]
    assert contact not in _same_answers(rep2)
    rep2_id = rep2[0]("{ me { user { id } } }").data["me"]["user"]["id"]
    assert rep1[0](SHARE, {"r": contact, "u": rep2_id}).data["shareRecord"]["errors"] == []
    assert contact in _same_answers(rep2)
    assert used[-2] is not used[0]  # a share on contacts: another shape
    assert rep1[0](UNSHARE, {"r": contact, "u": rep2_id}).data["unshareRecord"]["errors"] == []
    assert contact not in _same_answers(rep2)


def _scoped(gateway: Gateway, session: Any, user: Any) -> None:
    scope = AccessScope(
        user.tenant_id,
        user.id,
        user.profile_id,
        user.profile.kind,
        frozenset(gateway.registry.permissions),
        session,
    )
    scope_session(session, scope, gateway.registry)


def test_invalidate_makes_a_share_added_mid_session_seen(gateway: Gateway, demo):
    users = demo["demo"].users
    rep1, rep2 = users["rep1@demo.test"], users["rep2@demo.test"]
    with gateway.db.session() as s:
        owned = set(s.scalars(select(Contact.id).where(Contact.owner_id == rep1.id)))
    with gateway.db.transaction() as s:
        _scoped(gateway, s, rep2)
        access = access_of(s)
        assert access is not None
        stmt = select(Contact.id).where(NamedCriteria(access).read_criteria(Contact))
        before = set(plain_rows(s, stmt, values_of(access)).scalars())
        shape = shape_of(access, ("contact",))
        theirs = min(owned - before)  # one of rep1's that rep2 does not see
        share = RecordShare(
            entity="contact", record_id=theirs, user_id=rep2.id, tenant_id=rep2.tenant_id
        )
        s.add(share)
        s.flush()
        access.invalidate()
        assert shape_of(access, ("contact",)) != shape
        stmt = select(Contact.id).where(NamedCriteria(access).read_criteria(Contact))
        after = set(plain_rows(s, stmt, values_of(access)).scalars())
        assert after == before | {theirs}
        s.rollback()


def test_a_value_left_out_fails_instead_of_reading_anyone_elses(gateway: Gateway, demo):
    rep1 = demo["demo"].users["rep1@demo.test"]
    with gateway.db.session() as s:
        _scoped(gateway, s, rep1)
        access = access_of(s)
        assert access is not None
        stmt = select(Contact.id).where(NamedCriteria(access).read_criteria(Contact))
        assert plain_rows(s, stmt, values_of(access)).all()
        values = values_of(access)
        del values[USER]
        with pytest.raises(exc.StatementError, match="crm_user"):
            plain_rows(s, stmt, values).all()


def _list_sql(client: GraphQLClient, sql_log: Any, query: str) -> list[str]:
    client(query)  # warm: narrowing probes
    with sql_log:
        r = client(query)
    assert r.errors == [], r.errors
    return [s for s in sql_log.statements if "FROM contacts" in s]


def test_sql_text_does_not_depend_on_the_number_of_ids(clients, sql_log):
    """The director and the manager have different numbers of subordinates: the same SQL
    text on the general path (ORM criteria) and on a filtered page (built per request), so
    driver and SQLite statement caches serve both."""
    login, _used = clients
    director, manager = login("director@demo.test"), login("manager@demo.test")
    for query in (
        "{ contacts(first: 5) { edges { node { id displayName } } } }",
        "{ contacts(first: 5, filter: {kind: PERSON}) { edges { node { id } } } }",
    ):
        for index in (0, 1):  # shaped app (a filtered page is built), general path
            a = _list_sql(director[index], sql_log, query)
            b = _list_sql(manager[index], sql_log, query)
            assert a and a == b


NODE = """query($id: ID!) { contact(id: $id) {
  id displayName description owner { email } company { displayName } tags { name } } }"""


def test_lookups_by_id_share_a_statement_per_shape_and_answer_as_the_general_path(
    gateway: Gateway, demo, monkeypatch: pytest.MonkeyPatch
):
    """``contact(id)`` with an ``@fullAccess`` field (description): one statement per scope
    shape for every caller and record, each answer equal to the general path's — the
    record's row, null when invisible, the full-access check bound to the caller."""
    from gateway.shaping import node

    built: list[Any] = []
    real = node.NodePlan._build

    def spy(self: Any, named: Any) -> Any:
        stmt = real(self, named)
        built.append(stmt)
        return stmt

    monkeypatch.setattr(node.NodePlan, "_build", spy)
    general = dataclasses.replace(
        gateway, settings=dataclasses.replace(gateway.settings, shaped_results=False)
    )
    with TestClient(create_app(gateway)) as fast, TestClient(create_app(general)) as slow:
        admin = GraphQLClient(fast).login("admin@demo.test", "demo-password")
        everyone = admin("{ contacts(first: 500) { edges { node { id } } } }")
        ids = [e["node"]["id"] for e in everyone.data["contacts"]["edges"]]
        assert len(ids) > 5
        for email in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test"):
            shaped = GraphQLClient(fast).login(email, "demo-password")
            plain = GraphQLClient(slow).login(email, "demo-password")
            for contact_id in ids:
                a, b = shaped(NODE, {"id": contact_id}), plain(NODE, {"id": contact_id})
                assert (a.data, a.codes) == (b.data, b.codes), (email, contact_id)
    # rep1 and rep2 have one shape: far fewer statements than callers times records
    assert 0 < len(built) <= 3, len(built)
