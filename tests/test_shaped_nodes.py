"""``contact(id)``, ``node(id)`` of a contact and nested to-one selections on the kernel's fast path
(gateway.shaping.node, aliased joins in gateway.shaping.shape) answer exactly what the
general path answers: random selections drawn from the declarations, nested to any depth
they allow (owner → profile, company → owner → profile, a lead's contact and company
contact: one model joined several times, itself included), ``@fullAccess`` fields, random
callers (other profiles, a share, another tenant), records (visible, private, another
tenant's, missing) and field rules — sent to two apps over the same database, shaped
results on and off. Also: a lookup is one statement whatever its nesting."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.shaping import Embedded, Entity, ToMany, ToOne
from gateway.testing import GraphQLClient
from plugins.contacts.shaped_list import CONTACT
from plugins.leads.shaped_list import LEAD

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
CALLERS = [*(f"{u}@demo.test" for u in USERS), "admin@acme.test"]
RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""
#: Hidden-field rules drawn for the sales rep profile: fields of every type a selection
#: reaches (nested ones too).
RULE_CANDIDATES = [
    ("Contact", "description"),
    ("Contact", "company"),
    ("Contact", "owner"),
    ("Contact", "emails"),
    ("Contact", "customFields"),
    ("Contact", "address"),
    ("Contact", "firstName"),
    ("User", "email"),
    ("User", "profile"),
    ("Address", "street"),
]


def _fields(entity: Entity, depth: int) -> list[tuple[str, object]]:
    """(name, what it is) of what a selection of ``entity`` may name at this depth."""
    names: list[tuple[str, object]] = [(n, None) for n in sorted(entity.fields)]
    names += [(n, None) for n in sorted(entity.full_access) if depth == 0]
    for name, relation in sorted(entity.relations.items()):
        if isinstance(relation, ToMany) and depth > 0:
            continue  # to-many relations are read for the listed row only
        if isinstance(relation, ToOne) and depth >= 3:
            continue
        names.append((name, relation))
    return names


@st.composite
def selections(draw, entity: Entity, depth: int = 0) -> str:
    """A selection over ``entity``'s declaration, nesting to-one targets (depth ≤ 3)."""
    alias = lambda name: draw(st.sampled_from(["", "", f"a_{name}: "]))  # noqa: E731
    options = [*_fields(entity, depth), ("__typename", None)]
    parts = []
    for name, relation in draw(st.lists(st.sampled_from(options), min_size=1, max_size=6)):
        if relation is None:
            parts.append(f"{alias(name)}{name}")
        elif isinstance(relation, ToOne):
            inner = draw(selections(relation.target, depth + 1))
            parts.append(f"{alias(name)}{name} {{ {inner} }}")
        else:
            assert isinstance(relation, Embedded | ToMany)
            fields = [*sorted(relation.fields), "__typename"]
            inner = " ".join(
                f"{alias(f)}{f}"
                for f in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4))
            )
            parts.append(f"{alias(name)}{name} {{ {inner} }}")
    body = " ".join(parts)
    if depth == 0 and draw(st.booleans()):
        body = f"... on {entity.type_name} {{ {body} }} ... on Node {{ id }}"
    return body


@pytest.fixture
def pair(gateway: Gateway, demo):
    """Clients per caller on the shaped app and on the general-path app (same database),
    after a few changes to the demo: companies for persons (one of them private to another
    team), custom values of every type, and a share."""
    general = dataclasses.replace(
        gateway, settings=dataclasses.replace(gateway.settings, shaped_results=False)
    )
    with TestClient(create_app(gateway)) as fast, TestClient(create_app(general)) as slow:
        clients = {
            c: (
                GraphQLClient(fast).login(c, "demo-password"),
                GraphQLClient(slow).login(c, "demo-password"),
            )
            for c in CALLERS
        }
        admin = clients["admin@demo.test"][1]
        _prepare(admin)
        profiles = admin("{ profiles { id name } }").data["profiles"]
        clients["_rep_profile"] = next(p["id"] for p in profiles if p["name"] == "Sales rep")
        contacts = admin("{ contacts(first: 100) { edges { node { id } } } }").data
        clients["_ids"] = [e["node"]["id"] for e in contacts["contacts"]["edges"]]
        yield clients


def _prepare(admin: GraphQLClient) -> None:
    ok = lambda r, name: r.errors == [] and r.data[name]["errors"] == []  # noqa: E731
    for key, kind in (("since", "DATE"), ("score", "NUMBER"), ("note", "TEXT")):
        r = admin(
            "mutation($k: String!, $t: CustomFieldType!) { createContactCustomField("
            "key: $k, label: $k, type: $t) { errors { message } } }",
            {"k": key, "t": kind},
        )
        assert ok(r, "createContactCustomField"), r.body
    nodes = admin("{ contacts(first: 100) { edges { node { id kind owner { email } } } } }").data[
        "contacts"
    ]["edges"]
    companies = [n["node"]["id"] for n in nodes if n["node"]["kind"] == "COMPANY"]
    persons = [n["node"]["id"] for n in nodes if n["node"]["kind"] == "PERSON"]
    update = """mutation($id: ID!, $input: UpdateContactInput!) {
      updateContact(id: $id, input: $input) { errors { message } } }"""
    for i, person in enumerate(persons):
        values = [
            {"key": "since", "value": f"2024-0{1 + i % 9}-1{i % 10}"},
            {"key": "score", "value": ["12.5", "1000000", "0.000001", "-3"][i % 4]},
            {"key": "note", "value": f"note {i}"},
        ]
        company = companies[(i + 1) % len(companies)]  # mostly another owner's
        r = admin(update, {"id": person, "input": {"companyId": company, "customFields": values}})
        assert ok(r, "updateContact"), r.body
    users = admin("{ users { id email } }").data["users"]
    rep2 = next(u["id"] for u in users if u["email"] == "rep2@demo.test")
    r = admin(
        "mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) "
        "{ errors { message } } }",
        {"r": persons[0], "u": rep2},
    )
    assert ok(r, "shareRecord"), r.body


def _set_rule(pair, rule) -> None:
    rules = [] if rule is None else [{"typeName": rule[0], "fieldName": rule[1], "mode": "HIDDEN"}]
    r = pair["admin@demo.test"][1](RULES, {"id": pair["_rep_profile"], "rules": rules})
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


#: ``node(id)`` selections: the contact's under a fragment, beside the interface's fields
#: and another type's fragment (which drops out).
NODE_QUERY = """query($id: ID!) {{ node(id: $id) {{ {head} ... on Contact {{ {selection} }}
  ... on Lead {{ name }} }} }}"""


@SETTINGS
@given(
    selection=selections(CONTACT),
    root=st.sampled_from(["contact", "node"]),
    head=st.sampled_from(["", "id", "__typename", "t: __typename id"]),
    caller=st.sampled_from(CALLERS),
    which=st.one_of(st.integers(min_value=0, max_value=99), st.sampled_from(["missing"])),
    rule=st.one_of(st.none(), st.sampled_from(RULE_CANDIDATES)),
)
def test_contact_by_id_equals_the_general_path(pair, selection, root, head, caller, which, rule):
    _set_rule(pair, rule)
    ids = pair["_ids"]
    contact_id = "Q29udGFjdDo5OTk5OTk=" if which == "missing" else ids[which % len(ids)]
    fast, slow = pair[caller]
    if root == "contact":
        query = f"query($id: ID!) {{ contact(id: $id) {{ {selection} }} }}"
    else:
        query = NODE_QUERY.format(head=head, selection=selection)
    a, b = fast(query, {"id": contact_id}), slow(query, {"id": contact_id})
    assert a.errors == b.errors, (a.errors, b.errors)
    assert json.dumps(a.data) == json.dumps(b.data)  # same values, same key order


#: Lists whose nodes nest to-one relations (a contact's company is a contact; a lead
#: joins contacts twice).
LISTS = {"contacts": CONTACT, "leads": LEAD}


@SETTINGS
@given(
    name=st.sampled_from(sorted(LISTS)),
    data=st.data(),
    caller=st.sampled_from(CALLERS),
    rule=st.one_of(st.none(), st.sampled_from(RULE_CANDIDATES)),
)
def test_nested_lists_equal_the_general_path(pair, name, data, caller, rule):
    _set_rule(pair, rule)
    selection = data.draw(selections(LISTS[name]))
    fast, slow = pair[caller]
    query = f"{{ {name}(first: 50) {{ edges {{ node {{ {selection} }} }} }} }}"
    a, b = fast(query), slow(query)
    assert a.errors == b.errors, (a.errors, b.errors)
    assert json.dumps(a.data) == json.dumps(b.data)


#: Transaction control (SQLite's read transaction), not statements that read.
CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
DETAIL = """query($id: ID!) { contact(id: $id) {
  id kind displayName firstName lastName companyName
  emails { kind address } phones { kind number }
  address { street city region postalCode country }
  access description owner { id email displayName profile { name } } tags { name }
  customFields { key value } company { id displayName owner { email } } createdAt } }"""


NODE_DETAIL = DETAIL.replace("contact(id: $id) {", "contact: node(id: $id) { ... on Contact {")
NODE_DETAIL = NODE_DETAIL[: NODE_DETAIL.rindex("}")] + "} }"


@pytest.mark.parametrize("query", [DETAIL, NODE_DETAIL], ids=["contact", "node"])
def test_a_lookup_is_one_statement_whatever_its_nesting(pair, sql_log, query):
    fast, slow = pair["admin@demo.test"]
    counts = []
    for client in (fast, slow):
        for contact_id in pair["_ids"][:3]:
            client(query, {"id": contact_id})  # warm: sign-in caches
            with sql_log:
                r = client(query, {"id": contact_id})
            assert r.errors == [] and r.data["contact"] is not None, r.errors
            counts.append(len([s for s in sql_log.statements if s.split()[0] not in CONTROL]))
    # sign-in (the token lookup) and the record with everything it shows
    assert counts[:3] == [2, 2, 2], counts
    assert min(counts[3:]) > 2, counts


NESTED = """{ contacts(first: 50) { edges { node { id displayName
  owner { email profile { name } } company { displayName owner { email profile { kind } } }
  } } } }"""


@pytest.mark.parametrize("caller", CALLERS)
def test_every_record_and_caller_answers_as_the_general_path(pair, caller):
    """Deterministic: every demo contact by id and the nested list, for each caller (a
    company the caller may not see reads as null under a person it sees)."""
    fast, slow = pair[caller]
    for contact_id in pair["_ids"]:
        for query in (DETAIL, NODE_DETAIL):
            a, b = fast(query, {"id": contact_id}), slow(query, {"id": contact_id})
            assert (a.errors, json.dumps(a.data)) == (b.errors, json.dumps(b.data)), contact_id
    a, b = fast(NESTED), slow(NESTED)
    assert (a.errors, json.dumps(a.data)) == (b.errors, json.dumps(b.data))
