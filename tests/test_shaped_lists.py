"""Every list on the kernel's fast path (gateway.shaping) answers exactly what the general
path answers: random selections drawn from each entity's declaration (fields, to-one,
embedded and to-many relations, aliases, fragments, __typename), random callers, filters,
sort orders, pages and field rules, sent to two apps over the same database — shaped
results on and off. Also: one statement per page, whatever the page size and nesting."""

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
from plugins.calendar.cases.shaped_list import CASE
from plugins.calendar.shaped_list import TASK
from plugins.contacts.shaped_list import CONTACT
from plugins.invoices.shaped_list import INVOICE
from plugins.leads.shaped_list import LEAD, OPPORTUNITY

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""

#: Per list: the root field, its entity, its argument types, and argument values to draw.
LISTS = {
    "leads": (
        LEAD,
        "$filter: LeadFilterInput, $orderBy: LeadOrder, $view: LeadView",
        "filter: $filter, orderBy: $orderBy, view: $view",
        {
            "filter": [None, {"status": ["UNMANAGED"]}, {"search": "a"}],
            "orderBy": [None, {"field": "NAME"}, {"field": "CREATED_AT", "direction": "ASC"}],
            "view": ["ALL", "MINE", "UNMANAGED"],
        },
    ),
    "opportunities": (
        OPPORTUNITY,
        "$filter: OpportunityFilterInput, $orderBy: OpportunityOrder",
        "filter: $filter, orderBy: $orderBy",
        {
            "filter": [None, {"open": True}, {"mine": True}, {"search": "e"}],
            "orderBy": [None, {"field": "TITLE"}, {"field": "UPDATED_AT", "direction": "DESC"}],
        },
    ),
    "invoices": (
        INVOICE,
        "$filter: InvoiceFilterInput, $orderBy: InvoiceOrder",
        "filter: $filter, orderBy: $orderBy",
        {
            "filter": [None, {"status": ["DRAFT", "BILLED"]}, {"mine": True}],
            "orderBy": [None, {"field": "UPDATED_AT"}, {"field": "CREATED_AT", "direction": "ASC"}],
        },
    ),
    "tasks": (
        TASK,
        "$filter: TaskFilterInput",
        "filter: $filter",
        {"filter": [None, {"includeCompleted": True}, {"status": "DONE"}, {"overdue": False}]},
    ),
    "cases": (
        CASE,
        "$filter: CaseFilterInput",
        "filter: $filter",
        {"filter": [None, {"status": "OPEN"}, {"search": "a"}]},
    ),
    "contacts": (
        CONTACT,
        "$filter: ContactFilterInput, $orderBy: ContactOrder",
        "filter: $filter, orderBy: $orderBy",
        {
            "filter": [None, {"kind": "COMPANY"}, {"tags": ["customer"]}, {"mine": True}],
            "orderBy": [None, {"field": "NAME", "direction": "DESC"}, {"field": "CREATED_AT"}],
        },
    ),
}


def _children(relation) -> tuple[str, list[str]]:
    if isinstance(relation, ToOne):
        return relation.target.type_name, sorted(relation.target.fields)
    assert isinstance(relation, Embedded | ToMany)
    return relation.type_name, sorted(relation.fields)


def _rule_candidates(entity: Entity) -> list[tuple[str, str]]:
    rules = [(entity.type_name, f) for f in sorted(entity.fields) if f != "id"]
    rules += [(entity.type_name, r) for r in sorted(entity.relations)]
    for relation in entity.relations.values():
        type_name, fields = _children(relation)
        rules += [(type_name, f) for f in fields if f != "id"]
    return rules


@st.composite
def selections(draw, entity: Entity) -> str:
    """A connection selection over the entity's declared fields and relations."""
    alias = lambda name: draw(st.sampled_from(["", "", f"a_{name}: "]))  # noqa: E731
    names = draw(st.lists(st.sampled_from([*sorted(entity.fields), "__typename"]), max_size=6))
    parts = [" ".join(f"{alias(n)}{n}" for n in names)]
    for name in draw(st.lists(st.sampled_from(sorted(entity.relations)), max_size=2)):
        _type, fields = _children(entity.relations[name])
        inner = draw(st.lists(st.sampled_from([*fields, "__typename"]), min_size=1, max_size=4))
        parts.append(f"{alias(name)}{name} {{ {' '.join(f'{alias(f)}{f}' for f in inner)} }}")
    body = " ".join(p for p in parts if p) or "id"
    if draw(st.booleans()):
        body = f"... on {entity.type_name} {{ {body} }} ... on Node {{ id }}"
    edge = "cursor " if draw(st.booleans()) else ""
    page_info = draw(st.sampled_from(["", "pageInfo { hasNextPage endCursor startCursor }"]))
    total = draw(st.sampled_from(["", "totalCount", "n: totalCount __typename"]))
    return f"edges {{ {edge}node {{ {body} }} __typename }} {page_info} {total}"


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
        profiles = clients["admin"][1]("{ profiles { id name } }").data["profiles"]
        clients["_rep_profile"] = next(p["id"] for p in profiles if p["name"] == "Sales rep")
        yield clients


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(LISTS)))
    entity, _types, _args, values = LISTS[name]
    args = {k: draw(st.sampled_from(v)) for k, v in values.items()}
    args["first"] = draw(st.sampled_from([1, 3, 50]))
    rule = draw(st.one_of(st.none(), st.sampled_from(_rule_candidates(entity))))
    return name, draw(selections(entity)), args, rule


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases(), user=st.sampled_from(USERS), second_page=st.booleans())
def test_shaped_lists_equal_the_general_path(pair, case, user, second_page):
    name, selection, args, rule = case
    _entity, types, passed, _values = LISTS[name]
    admin = pair["admin"][1]
    rules = [] if rule is None else [{"typeName": rule[0], "fieldName": rule[1], "mode": "HIDDEN"}]
    r = admin(RULES, {"id": pair["_rep_profile"], "rules": rules})
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body
    fast, slow = pair[user]
    query = (
        f"query($first: Int, $after: String, {types}) {{ {name}(first: $first, after: $after, "
        f"{passed}) {{ {selection} }} }}"
    )
    variables = dict(args)
    if second_page:
        probe = f"query({types}) {{ {name}(first: 1, {passed}) {{ pageInfo {{ endCursor }} }} }}"
        page = slow(probe, {k: v for k, v in args.items() if k != "first"})
        if page.errors == []:
            variables["after"] = page.data[name]["pageInfo"]["endCursor"]
    a, b = fast(query, variables), slow(query, variables)
    assert a.errors == b.errors, (a.errors, b.errors)
    assert json.dumps(a.data) == json.dumps(b.data)  # same values, same key order


#: Transaction control (SQLite's read transaction), not statements that read.
CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


def _pages(client, sql_log, query: str, sizes=(2, 50)) -> list[int]:
    counts = []
    for size in sizes:
        client(query.replace("FIRST", str(size)))  # warm: narrowing probes, sign-in caches
        with sql_log:
            r = client(query.replace("FIRST", str(size)))
        assert r.errors == [], r.errors
        counts.append(len([s for s in sql_log.statements if s.split()[0] not in CONTROL]))
    return counts


STATEMENT_QUERIES = {
    "contacts": """{ contacts(first: FIRST) { edges { node { id displayName email access
        owner { id email displayName } tags { id name } } } pageInfo { endCursor } } }""",
    "leads": """{ leads(first: FIRST) { edges { node { id name status owner { displayName }
        contact { id displayName email } } } pageInfo { hasNextPage } } }""",
    "opportunities": """{ opportunities(first: FIRST) { edges { node { id title
        budget { amount total currency } stage { name probability } responsible { email }
        contact { displayName } } } } }""",
    "tasks": """{ tasks(first: FIRST) { edges { node { id title deadline status
        responsible { displayName } category { name } contact { displayName email } } } } }""",
    "cases": """{ cases(first: FIRST) { edges { node { id title status restricted
        owner { displayName } tags { id name } } } } }""",
    "invoices": """{ invoices(first: FIRST) { edges { node { id number status dueDate
        owner { displayName } client { displayName phone } } } } }""",
}


@pytest.mark.parametrize("name", sorted(STATEMENT_QUERIES))
def test_a_page_is_one_statement_whatever_its_size_and_nesting(pair, sql_log, name):
    fast, slow = pair["manager"]
    query = STATEMENT_QUERIES[name]
    shaped = _pages(fast, sql_log, query)
    general = _pages(slow, sql_log, query)
    # sign-in (the token lookup) and the page: relations are joined or folded in as JSON
    assert shaped == [2, 2], shaped
    assert general[-1] > shaped[-1], (general, shaped)
