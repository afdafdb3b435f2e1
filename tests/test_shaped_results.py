"""Pre-shaped list results (gateway.graphql.shaped) answer exactly what the general path
answers: random selections, aliases, fragments, users, pages and filters are sent to two
apps over the same database, one with shaped results on and one with them off."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.shaping import USER
from gateway.testing import GraphQLClient
from plugins.contacts.shaped_list import CONTACT, TAGS

NODE_FIELDS, OWNER_FIELDS, TAG_FIELDS = CONTACT.fields, USER.fields, TAGS.fields

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
EXTRA = [
    (
        "rep1",
        {
            "firstName": "Ana",
            "lastName": "Núñez",
            "emails": [{"address": "b@x.example"}, {"address": "a@x.example"}],
            "phones": [{"number": "+34 600 000 001"}],
            "tags": ["customer"],
        },
    ),
    ("rep2", {"firstName": "Bo", "access": "PUBLIC_READ", "website": "https://bo.example"}),
    (
        "rep1",
        {
            "kind": "COMPANY",
            "companyName": "Zeta SL",
            "category": "POTENTIAL",
            "tags": ["customer", "partner"],
        },
    ),
    ("manager", {"firstName": "Ñandú", "lastName": "", "source": "web", "zone": "north"}),
]


@pytest.fixture
def pair(gateway: Gateway, demo):
    """Clients per user on the shaped app and on the general-path app (same database)."""
    general = dataclasses.replace(
        gateway, settings=dataclasses.replace(gateway.settings, shaped_results=False)
    )
    with TestClient(create_app(gateway)) as fast, TestClient(create_app(general)) as slow:
        clients = {
            u: (
                GraphQLClient(fast).login(f"{u}@demo.test", "demo-password"),
                GraphQLClient(slow).login(f"{u}@demo.test", "demo-password"),
            )
            for u in USERS
        }
        for user, fields in EXTRA:
            r = clients[user][0](
                "mutation($i: CreateContactInput!) { createContact(input: $i) { errors { code } } }",
                {"i": {"kind": "PERSON", **fields}},
            )
            assert r.errors == [] and r.data["createContact"]["errors"] == [], (r.errors, r.data)
        yield clients


def _fields(names: list[str], draw_alias) -> str:
    return " ".join(f"{draw_alias(n)}{n}" for n in names)


@st.composite
def selections(draw) -> str:
    """A contacts selection over the shaped fields, with aliases, __typename and fragments."""
    alias = lambda name: draw(st.sampled_from(["", "", f"a_{name}: "]))  # noqa: E731
    node = draw(st.lists(st.sampled_from([*sorted(NODE_FIELDS), "__typename"]), max_size=8))
    parts = [_fields(node, alias)]
    if draw(st.booleans()):
        owner = draw(st.lists(st.sampled_from([*sorted(OWNER_FIELDS), "__typename"]), min_size=1))
        parts.append(f"{alias('owner')}owner {{ {_fields(owner, alias)} }}")
    if draw(st.booleans()):
        tags = draw(st.lists(st.sampled_from(sorted(TAG_FIELDS)), min_size=1))
        parts.append(f"tags {{ {_fields(tags, alias)} }}")
    if not node and len(parts) == 1:
        parts.append("id")
    body = " ".join(p for p in parts if p)
    if draw(st.booleans()):
        body = f"... on Contact {{ {body} }} ... on Node {{ id }}"
    edge = f"{alias('cursor')}cursor " if draw(st.booleans()) else ""
    page_info = draw(
        st.sampled_from(["", "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"])
    )
    total = draw(st.sampled_from(["", "totalCount", "n: totalCount __typename"]))
    return f"edges {{ {edge}node {{ {body} }} __typename }} {page_info} {total}"


ARGS = st.fixed_dictionaries(
    {
        "first": st.sampled_from([1, 2, 5, 50]),
        "search": st.sampled_from([None, "a", "nun", "zz"]),
        "filter": st.sampled_from(
            [None, {"kind": "PERSON"}, {"tags": ["customer"]}, {"mine": True}, {"kind": "COMPANY"}]
        ),
        "orderBy": st.sampled_from(
            [None, {"field": "NAME", "direction": "DESC"}, {"field": "CREATED_AT"}]
        ),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(selection=selections(), user=st.sampled_from(USERS), args=ARGS, second_page=st.booleans())
def test_shaped_contacts_equal_the_general_path(pair, selection, user, args, second_page):
    fast, slow = pair[user]
    query = (
        "query($first: Int, $after: String, $search: String, $filter: ContactFilterInput, "
        "$orderBy: ContactOrder) { contacts(first: $first, after: $after, search: $search, "
        f"filter: $filter, orderBy: $orderBy) {{ {selection} }} }}"
    )
    variables = dict(args)
    if second_page:
        probe = """query($o: ContactOrder, $f: ContactFilterInput, $s: String) {
            contacts(first: 2, orderBy: $o, filter: $f, search: $s) { pageInfo { endCursor } } }"""
        page = slow(probe, {"o": args["orderBy"], "f": args["filter"], "s": args["search"]})
        variables["after"] = page.data["contacts"]["pageInfo"]["endCursor"]
    a, b = fast(query, variables), slow(query, variables)
    assert (a.errors, b.errors) == ([], []), (a.errors, b.errors)
    assert json.dumps(a.data) == json.dumps(b.data)  # same values, same key order


def _reads_contacts(statement: str) -> bool:
    tables = ("FROM contacts", "contact_tag_links", "FROM users", "JOIN users")
    return "auth_sessions" not in statement and any(t in statement for t in tables)


def test_shaped_list_reads_the_page_in_one_statement(pair, sql_log):
    fast, slow = pair["manager"]
    query = """{ contacts(first: 50) { edges { node { id displayName email access
        owner { id email displayName } tags { name } } } pageInfo { endCursor } } }"""
    fast(query), slow(query)  # plan probes (gateway.access.narrowing) run once a minute
    with sql_log:
        fast(query)
    shaped = [s for s in sql_log.statements if _reads_contacts(s)]
    with sql_log:
        slow(query)
    general = [s for s in sql_log.statements if _reads_contacts(s)]
    # The page (owner joined, first email inline, tags as a JSON array); the general path
    # also loads the emails, the tag links and the owners in statements of their own.
    assert len(shaped) == 1, shaped
    assert len(general) > len(shaped)


def test_a_cursor_of_another_order_is_bad_input(pair):
    fast, _slow = pair["admin"]
    by_name = fast("{ contacts(first: 1) { pageInfo { endCursor } } }")
    cursor = by_name.data["contacts"]["pageInfo"]["endCursor"]
    for client in pair["admin"]:
        r = client(
            "query($a: String) { contacts(after: $a, orderBy: {field: CREATED_AT}) "
            "{ edges { node { id } } } }",
            {"a": cursor},
        )
        assert r.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_forged_cursor_is_bad_input(pair):
    import base64
    import json

    fast, slow = pair["rep1"]
    for payload in (["s", [1, 2], 5], ["s", {"a": 1}, 5], ["s", "x", [1]], "nonsense"):
        cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        for client in (fast, slow):
            r = client(
                "query($a: String) { contacts(after: $a) { edges { cursor } } }", {"a": cursor}
            )
            assert r.errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (payload, r.errors)


def test_directives_and_unknown_fields_take_the_general_path(pair):
    fast, slow = pair["rep1"]
    for query in (
        "{ contacts { edges { node { id t1: tags { id } t2: tags { name } } } } }",
        "query($s: Boolean!) { contacts { edges { node { id email @skip(if: $s) } } } }",
        "{ contacts { edges { node { id customFields { key value } } } } }",
        "{ contacts { edges { node { id description } } } }",
        "{ contacts { edges { node { id owner { profile { name } } } } } }",
    ):
        variables = {"s": True} if "$s" in query else None
        a, b = fast(query, variables), slow(query, variables)
        assert a.data == b.data and a.errors == b.errors
