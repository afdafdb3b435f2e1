"""Planning lists from the caller's grants (gateway.access.narrowing) changes the plan,
never the rows: every demo user gets the same pages and counts with it on and off."""

from __future__ import annotations

import dataclasses
import json

import pytest
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.testing import GraphQLClient

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
QUERY = """query($a: String, $s: String, $f: ContactFilterInput) {
  contacts(first: 3, after: $a, search: $s, filter: $f) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id displayName owner { email } tags { name } } } } }"""


def _narrowed(statement: str) -> bool:
    return "contacts.id IN (SELECT contacts.id" in statement


def _app(gateway: Gateway, cap: int | None, shaped: bool) -> TestClient:
    settings = dataclasses.replace(gateway.settings, narrowing_cap=cap, shaped_results=shaped)
    return TestClient(create_app(dataclasses.replace(gateway, settings=settings)))


@pytest.mark.parametrize("shaped", [True, False], ids=["shaped", "general"])
def test_narrowed_lists_equal_unnarrowed_lists(gateway, demo, sql_log, shaped):
    with _app(gateway, 10**6, shaped) as on, _app(gateway, 0, shaped) as off:
        for user in USERS:
            narrowed = GraphQLClient(on).login(f"{user}@demo.test")
            plain = GraphQLClient(off).login(f"{user}@demo.test")
            for variables in ({}, {"s": "a"}, {"f": {"kind": "COMPANY"}}):
                after = None
                while True:
                    page = {**variables, "a": after}
                    with sql_log:
                        a = narrowed(QUERY, page)
                    in_union = any(_narrowed(s) for s in sql_log.statements)
                    b = plain(QUERY, page)
                    assert a.errors == b.errors == []
                    assert json.dumps(a.data) == json.dumps(b.data), (user, page)
                    # administrators and structural profiles see everything: nothing to narrow
                    assert in_union == (user not in ("admin", "backoffice")), user
                    info = a.data["contacts"]["pageInfo"]
                    if not info["hasNextPage"]:
                        break
                    after = info["endCursor"]


def test_callers_who_see_many_rows_keep_the_plain_plan(gateway, demo, sql_log):
    with _app(gateway, 2, True) as app:  # "few" means fewer than 2 rows here
        rep1 = GraphQLClient(app).login("rep1@demo.test")
        with sql_log:
            rep1(QUERY)
            rep1(QUERY)
    probes = [s for s in sql_log.statements if "count(*)" in s.lower() and "LIMIT" in s]
    pages = [s for s in sql_log.statements if "ORDER BY" in s and "contacts.sort_name" in s]
    assert len(probes) == 1  # probed once, then remembered
    assert pages and not any(_narrowed(s) for s in pages)


def test_by_default_few_is_decided_from_the_tenant_size(gateway, demo, sql_log):
    """The demo tenant is tiny: sqrt(50 x rows) exceeds what rep2 sees, so rep2's list is
    planned from its grants, and the tenant's row count is read once."""
    with _app(gateway, None, True) as app:
        rep2 = GraphQLClient(app).login("rep2@demo.test")
        with sql_log:
            rep2(QUERY)
            rep2(QUERY)
    assert any(_narrowed(s) for s in sql_log.statements)
    counts = [s for s in sql_log.statements if s.lower().startswith("select count(*)")]
    assert len(counts) == 2 + 2  # tenant rows + capped probe, once; then totalCount twice


@pytest.mark.parametrize(
    "query",
    [
        "{ leads(first: 200) { totalCount edges { node { id } } } }",
        "{ opportunities(first: 200) { totalCount edges { node { id } } } }",
        "{ invoices(first: 200) { totalCount edges { node { id } } } }",
    ],
    ids=["leads", "opportunities", "invoices"],
)
def test_other_module_lists_are_the_same_narrowed_or_not(gateway, demo, query):
    with _app(gateway, 10**6, True) as on, _app(gateway, 0, True) as off:
        for user in USERS:
            a = GraphQLClient(on).login(f"{user}@demo.test")(query)
            b = GraphQLClient(off).login(f"{user}@demo.test")(query)
            assert a.errors == b.errors == [] and a.data == b.data, user


ALL = "{ contacts(first: 200) { totalCount edges { node { id owner { email } } } } }"
ADMIN_SETUP = """mutation($rep2: ID!, $manager: ID!, $role: ID!, $p: ID!) {
  a: updateUser(id: $rep2, input: {roleId: $role}) { errors { code } }
  b: updateUser(id: $manager, input: {roleId: null}) { errors { code } }
  c: createUser(input: {email: "bare@demo.test", displayName: "Bare", password: "password-123",
     profileId: $p}) { user { id } errors { code } } }"""


def test_roles_tree_and_group_grants_narrow_to_the_same_rows(gateway, demo):
    """Both visibility modes, and a user who reads contacts only through a group: the lists
    planned from the grants equal the plain ones, and the modes do differ."""
    with _app(gateway, 10**6, True) as on, _app(gateway, 0, True) as off:
        admin = GraphQLClient(off).login("admin@demo.test")
        ids = {u["email"]: u["id"] for u in admin("{ users { id email } }").data["users"]}
        roles = {r["name"]: r["id"] for r in admin("{ roles { id name } }").data["roles"]}
        bare = admin(
            'mutation { createProfile(input: {name: "Bare", kind: HIERARCHICAL}) { profile { id } } }'
        ).data["createProfile"]["profile"]["id"]
        setup = admin(
            ADMIN_SETUP,
            {
                "rep2": ids["rep2@demo.test"],
                "manager": ids["manager@demo.test"],
                "role": roles["Manager"],
                "p": bare,
            },
        )
        assert setup.errors == [] and setup.data["c"]["errors"] == []
        group = admin(
            """mutation($m: ID!) { createUserGroup(input: {name: "Readers", memberIds: [$m],
            permissions: ["contacts.contact.read"]}) { errors { code } } }""",
            {"m": setup.data["c"]["user"]["id"]},
        )
        assert group.data["createUserGroup"]["errors"] == []
        counts = {}
        for mode in ("REPORTING_LINE", "ROLE_TREE"):
            switched = admin(
                "mutation($v: RecordVisibility!) { updateOrganization(input: "
                "{recordVisibility: $v}) { errors { code } } }",
                {"v": mode},
            )
            assert switched.data["updateOrganization"]["errors"] == []
            for user in [*USERS, "bare"]:
                password = "password-123" if user == "bare" else "demo-password"
                a = GraphQLClient(on).login(f"{user}@demo.test", password)(ALL)
                b = GraphQLClient(off).login(f"{user}@demo.test", password)(ALL)
                assert a.errors == b.errors == [] and a.data == b.data, (mode, user)
                counts[mode, user] = a.data["contacts"]["totalCount"]
        assert counts["ROLE_TREE", "rep2"] > counts["REPORTING_LINE", "rep2"]
        assert counts["ROLE_TREE", "manager"] < counts["REPORTING_LINE", "manager"]
        assert counts["REPORTING_LINE", "bare"] > 0  # public contacts, through the group
