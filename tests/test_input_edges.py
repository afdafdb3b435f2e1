"""Values inside valid GraphQL requests are validated at the edge (issue 12, items 7-9):
control characters, lone surrogates, text beyond its field's limit, non-finite or absurd
numbers, date-times without a timezone, dates out of range, IDs and cursors whose integers
do not fit a 64-bit key. Each is refused with BAD_USER_INPUT naming the field, whether it
comes as a variable or a literal, and the database is left exactly as it was.

Requests are sent as raw JSON (``ensure_ascii``), so lone surrogates travel as ``\\ud800``
escapes and ``NaN`` as the bare token Python's JSON reader accepts, as a hostile client
would send them.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text as sql
from starlette.testclient import TestClient
from strawberry.relay import to_base64

from gateway.app import Gateway, create_app
from gateway.demo import seed_demo
from gateway.graphql.input_checks import DEFAULT_MAX_LENGTH, LONG_TEXT, MAX_LIST_ITEMS
from gateway.testing import GraphQLClient, empty_database

BIG = "x" * 100_000
HUGE_KEY = 2**63

CREATE_CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  contact { id } errors { code message field } } }"""
UPDATE_CONTACT = """mutation($id: ID!, $i: UpdateContactInput!) { updateContact(id: $id, input: $i)
  { contact { id } errors { code message field } } }"""
CONTACTS = """query($s: String, $f: ContactFilterInput, $a: String, $o: ContactOrder) {
  contacts(first: 5, search: $s, filter: $f, after: $a, orderBy: $o) { totalCount } }"""
EXPORT_CONTACTS = "query($s: String) { exportContacts(search: $s) { filename } }"
CONTACT = "query($id: ID!) { contact(id: $id) { id } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
CREATE_LEAD = """mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id }
  errors { code message field } } }"""
LEADS = """query($f: LeadFilterInput, $a: String) { leads(first: 5, filter: $f, after: $a)
  { totalCount } }"""
UNSUITABLE = """mutation($id: ID!, $r: String!) { markLeadUnsuitable(id: $id, reason: $r)
  { lead { id } errors { code message field } } }"""
CREATE_OPPORTUNITY = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i)
  { opportunity { id } errors { code message field } } }"""
UPDATE_OPPORTUNITY = """mutation($id: ID!, $i: UpdateOpportunityInput!) {
  updateOpportunity(id: $id, input: $i) { opportunity { id } errors { code message field } } }"""
OPPORTUNITIES = """query($a: String) { opportunities(first: 5, after: $a) { totalCount } }"""
PIPELINE = """query($s: DateTime, $u: DateTime) { pipeline(closedSince: $s, closedUntil: $u)
  { forecast { currency } } }"""
CREATE_INVOICE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
  invoice { id } errors { code message field } } }"""
INVOICES = """query($a: String) { invoices(first: 5, after: $a) { totalCount } }"""
LOGIN = """mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"""

#: The 13 free-text contact fields, each at its declared limit (the column's length).
CONTACT_TEXT = {
    "firstName": 100,
    "lastName": 100,
    "companyName": 200,
    "website": 200,
    "street": 200,
    "city": 100,
    "region": 100,
    "postalCode": 20,
    "fiscalId": 40,
    "source": 80,
    "segment": 80,
    "zone": 80,
    "description": LONG_TEXT,
}


def gid(type_name: str, pk: int | str) -> str:
    return to_base64(type_name, pk)


def cursor(*payload: Any) -> str:
    """A forged cursor: what pagination.encode_cursor writes, with hostile contents."""
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode()


# -- one demo for the module ------------------------------------------------------------------
# Refused requests change nothing (every case checks it) and the tests that store data do not
# depend on each other, so the module shares one demo instead of seeding one per case.


@pytest.fixture(scope="module")
def gateway(settings, registry, migrated):
    gw = Gateway(settings=settings, db=migrated, registry=registry)
    try:
        seed_demo(gw)
        yield gw
    finally:
        empty_database(migrated, registry)


@pytest.fixture(scope="module")
def app(gateway):
    with TestClient(create_app(gateway)) as http:
        yield http


@pytest.fixture(scope="module")
def gql(app):
    return GraphQLClient(app)


@pytest.fixture(scope="module")
def as_(app):
    clients: dict[str, GraphQLClient] = {}

    def get(name: str) -> GraphQLClient:
        if name not in clients:
            clients[name] = GraphQLClient(app).login(f"{name}@demo.test")
        return clients[name]

    return get


# -- the request and what it left behind ------------------------------------------------------


def send(client: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """POST as raw JSON: lone surrogates as escapes, NaN as the bare token."""
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    headers = {"content-type": "application/json", **client.headers()}
    response = client.http.post("/graphql", content=body, headers=headers)
    assert response.status_code in (200, 400), response.text
    return response.json()


def refusals(body: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    """(code, field) of every GraphQL error and every mutation payload error."""
    found = [
        (e.get("extensions", {}).get("code"), e.get("extensions", {}).get("field"))
        for e in body.get("errors") or []
    ]
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict):
            found += [(e.get("code"), e.get("field")) for e in value.get("errors") or []]
    return found


#: Tables a refused request may touch: the caller's session (last use) and sign-in limits.
BOOKKEEPING = {"auth_sessions", "auth_throttle"}


def snapshot(gateway: Any) -> dict[str, list[str]]:
    """Every row of every table (the demo is small): the database, compared as a whole."""
    with gateway.db.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in gateway.registry.sorted_tables
            if table.name not in BOOKKEEPING
        }


# -- the table of hostile values --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile request; ``<name>`` strings in variables are ids found in the demo."""

    name: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    field: str = ""
    user: str = "manager"
    #: What refuses it: BAD_USER_INPUT naming ``field``; BAD_REQUEST (no field) when the
    #: body itself is not JSON, which the transport refuses before GraphQL sees it.
    code: str = "BAD_USER_INPUT"


def contact_input(**fields: Any) -> dict[str, Any]:
    return {"i": {"kind": "PERSON", "lastName": "Edge", **fields}}


CASES: list[Case] = [
    # control characters (NUL, BEL, ESC, DEL, a C1 control), variables and literals
    Case("nul-first-name", CREATE_CONTACT, contact_input(firstName="a\x00b"), "input.firstName"),
    Case(
        "bel-literal",
        'mutation { createContact(input: {kind: PERSON, firstName: "a\\u0007b"}) '
        "{ errors { code } } }",
        {},
        "input.firstName",
    ),
    Case(
        "esc-email",
        CREATE_CONTACT,
        contact_input(emails=[{"address": "x\x1b@example.com"}]),
        "input.emails.0.address",
    ),
    Case("del-tag", CREATE_CONTACT, contact_input(tags=["ok", "b\x7fad"]), "input.tags.1"),
    Case("c1-city", CREATE_CONTACT, contact_input(city="Bilbao\x85"), "input.city"),
    Case(
        "newline-one-line", CREATE_CONTACT, contact_input(firstName="two\nlines"), "input.firstName"
    ),
    Case(
        "nul-in-multiline",
        UPDATE_CONTACT,
        {"id": "<contact>", "i": {"description": "fine\nthen\x00"}},
        "input.description",
    ),
    Case(
        "nul-custom-value",
        CREATE_CONTACT,
        contact_input(customFields=[{"key": "industry", "value": "Food\x00"}]),
        "input.customFields.0.value",
    ),
    Case("nul-search", CONTACTS, {"s": "ana\x00"}, "search"),
    Case("nul-export-search", EXPORT_CONTACTS, {"s": "\x00"}, "search"),
    Case("bel-lead-search", LEADS, {"f": {"search": "\x07"}}, "filter.search"),
    Case("nul-lead-name", CREATE_LEAD, {"i": {"name": "Lead\x00"}}, "input.name"),
    Case("c1-opportunity-title", CREATE_OPPORTUNITY, {"i": {"title": "\x9b"}}, "input.title"),
    Case(
        "nul-invoice-line",
        CREATE_INVOICE,
        {
            "i": {
                "clientId": "<client>",
                "lines": [{"kind": "OTHER", "description": "a\x00", "unitPrice": "1"}],
            }
        },
        "input.lines.0.description",
    ),
    Case("nul-login", LOGIN, {"e": "rep1@demo.test\x00", "p": "demo-password"}, "email", ""),
    # text longer than its field's limit
    *(
        Case(f"100k-{name}", CREATE_CONTACT, contact_input(**{name: BIG}), f"input.{name}")
        for name in CONTACT_TEXT
    ),
    *(
        Case(
            f"limit+1-{name}",
            UPDATE_CONTACT,
            {"id": "<contact>", "i": {name: "y" * (limit + 1)}},
            f"input.{name}",
        )
        for name, limit in CONTACT_TEXT.items()
    ),
    Case(
        "100k-invoice-line",
        CREATE_INVOICE,
        {
            "i": {
                "clientId": "<client>",
                "lines": [{"kind": "OTHER", "description": BIG, "unitPrice": "1"}],
            }
        },
        "input.lines.0.description",
    ),
    Case(
        "100k-opportunity",
        CREATE_OPPORTUNITY,
        {"i": {"title": "T", "description": BIG}},
        "input.description",
    ),
    Case(
        "100k-opportunity-update",
        UPDATE_OPPORTUNITY,
        {"id": "<opportunity>", "i": {"description": BIG}},
        "input.description",
    ),
    Case("lead-notes+1", CREATE_LEAD, {"i": {"name": "L", "notes": "n" * 20_001}}, "input.notes"),
    Case("unsuitable-reason+1", UNSUITABLE, {"id": "<lead>", "r": "r" * 2001}, "reason"),
    Case("long-search", CONTACTS, {"s": "s" * (DEFAULT_MAX_LENGTH + 1)}, "search"),
    Case(
        "too-many-tags",
        CREATE_CONTACT,
        contact_input(tags=["t"] * (MAX_LIST_ITEMS + 1)),
        "input.tags",
    ),
    # lone surrogates
    Case("surrogate-search", CONTACTS, {"s": "\ud800"}, "search"),
    Case("surrogate-name", CREATE_CONTACT, contact_input(firstName="a\udfffb"), "input.firstName"),
    Case("surrogate-lead", CREATE_LEAD, {"i": {"name": "\ud800"}}, "input.name"),
    Case("surrogate-id", CONTACT, {"id": "\ud800"}, "id"),
    # numbers no column can hold
    Case("nan-latitude", CREATE_CONTACT, contact_input(latitude="NaN"), "input.latitude"),
    Case("snan-longitude", CREATE_CONTACT, contact_input(longitude="sNaN"), "input.longitude"),
    Case("inf-discount", CREATE_CONTACT, contact_input(discount="Infinity"), "input.discount"),
    Case(
        "-inf-discount",
        UPDATE_CONTACT,
        {"id": "<contact>", "i": {"discount": "-Infinity"}},
        "input.discount",
    ),
    Case(
        "json-nan-latitude",
        UPDATE_CONTACT,
        {"id": "<contact>", "i": {"latitude": float("nan")}},
        code="BAD_REQUEST",  # a bare NaN token is not JSON
    ),
    Case(
        "absurd-exponent",
        UPDATE_CONTACT,
        {"id": "<contact>", "i": {"latitude": "1e999999"}},
        "input.latitude",
    ),
    Case(
        "nan-literal",
        'mutation { createContact(input: {kind: PERSON, lastName: "x", discount: "NaN"}) '
        "{ errors { code } } }",
        {},
        "input.discount",
    ),
    Case(
        "nan-budget",
        CREATE_OPPORTUNITY,
        {"i": {"title": "T", "budget": {"amount": "NaN"}}},
        "input.budget.amount",
    ),
    *(
        Case(
            f"custom-number-{raw}",
            UPDATE_CONTACT,
            {"id": "<contact>", "i": {"customFields": [{"key": "annual_revenue", "value": raw}]}},
            "customFields",
        )
        for raw in ("NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "1e15")
    ),
    Case(
        "custom-number-filter",
        CONTACTS,
        {"f": {"customFields": [{"key": "annual_revenue", "min": "NaN"}]}},
        "filter.customFields",
    ),
    # date-times without a timezone, dates out of range
    Case("naive-date", CONTACTS, {"f": {"createdAfter": "2026-01-01"}}, "filter.createdAfter"),
    Case(
        "naive-datetime",
        CONTACTS,
        {"f": {"updatedBefore": "2026-01-01T00:00:00"}},
        "filter.updatedBefore",
    ),
    Case(
        "naive-literal",
        '{ contacts(filter: {createdAfter: "2026-01-01"}) { totalCount } }',
        {},
        "filter.createdAfter",
    ),
    Case("naive-closed-since", PIPELINE, {"s": "2026-01-01"}, "closedSince"),
    Case(
        "naive-lead-filter",
        LEADS,
        {"f": {"createdBefore": "2026-01-01T00:00:00"}},
        "filter.createdBefore",
    ),
    Case("overflowing-datetime", PIPELINE, {"u": "9999-12-31T23:00:00-05:00"}, "closedUntil"),
    Case(
        "year-9999-due-date",
        CREATE_INVOICE,
        {"i": {"clientId": "<client>", "dueTerm": "DATE", "dueDate": "9999-12-31"}},
        "input.dueDate",
    ),
    Case(
        "year-9999-issue-date",
        CREATE_INVOICE,
        {"i": {"clientId": "<client>", "issueDate": "9999-12-20"}},
        "input.issueDate",
    ),
    Case(
        "year-1-close-date",
        CREATE_OPPORTUNITY,
        {"i": {"title": "T", "expectedCloseDate": "0001-01-01"}},
        "input.expectedCloseDate",
    ),
    # global ids and cursors whose integers do not fit a 64-bit key
    Case("huge-id", CONTACT, {"id": gid("Contact", HUGE_KEY)}, "id"),
    Case("huge-id-update", UPDATE_CONTACT, {"id": gid("Contact", 2**64), "i": {"city": "x"}}, "id"),
    Case("unicode-digits-id", CONTACT, {"id": gid("Contact", "١٢")}, "id"),
    Case("huge-owner-filter", CONTACTS, {"f": {"ownerId": gid("User", HUGE_KEY)}}, "filter"),
    Case(
        "huge-company-id",
        CREATE_CONTACT,
        contact_input(companyId=gid("Contact", HUGE_KEY)),
        "companyId",
    ),
    Case("cursor-huge-id", CONTACTS, {"a": cursor("s", "a", HUGE_KEY)}, "after"),
    Case("cursor-huge-value", CONTACTS, {"a": cursor("s", HUGE_KEY, 1)}, "after"),
    Case("cursor-nul-value", CONTACTS, {"a": cursor("s", "a\x00", 1)}, "after"),
    Case("cursor-bool-id", CONTACTS, {"a": cursor("s", "a", True)}, "after"),
    Case(
        "cursor-naive-time",
        CONTACTS,
        {"a": cursor("t", "2026-01-01T00:00:00", 1), "o": {"field": "CREATED_AT"}},
        "after",
    ),
    Case(
        "cursor-end-of-time",
        CONTACTS,
        {"a": cursor("t", "0001-01-01T00:00:00+05:00", 1), "o": {"field": "CREATED_AT"}},
        "after",
    ),
    Case("cursor-number-for-names", CONTACTS, {"a": cursor("s", 12, 1)}, "after"),
    Case("lead-cursor", LEADS, {"a": cursor("t", "2026-01-01T00:00:00+00:00", HUGE_KEY)}, "after"),
    Case(
        "opportunity-cursor",
        OPPORTUNITIES,
        {"a": cursor("t", "2026-01-01T00:00:00+00:00", HUGE_KEY)},
        "after",
    ),
    Case(
        "invoice-cursor", INVOICES, {"a": cursor("t", "2026-01-01T00:00:00+00:00", 2**70)}, "after"
    ),
]


@pytest.fixture(scope="module")
def known(as_) -> dict[str, str]:
    """Ids of demo records the manager may change (the cases' ``<name>`` placeholders)."""
    manager = as_("manager")
    contacts = manager("{ contacts(first: 100) { edges { node { id displayName } } } }")
    by_name = {
        e["node"]["displayName"]: e["node"]["id"] for e in contacts.data["contacts"]["edges"]
    }
    lead = manager(CREATE_LEAD, {"i": {"name": "Edge lead"}}).data["createLead"]["lead"]["id"]
    opportunity = manager(CREATE_OPPORTUNITY, {"i": {"title": "Edge opportunity"}})
    return {
        "<contact>": by_name["Atlantic Foods S.A."],
        "<client>": by_name["Atlantic Foods S.A."],
        "<lead>": lead,
        "<opportunity>": opportunity.data["createOpportunity"]["opportunity"]["id"],
    }


def _fill(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, str):
        return known.get(value, value)
    if isinstance(value, dict):
        return {k: _fill(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, known) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_values_are_refused_naming_the_field_and_nothing_changes(
    case, as_, gql, gateway, known
):
    client = as_(case.user) if case.user else gql
    before = snapshot(gateway)
    body = send(client, case.query, _fill(case.variables, known))
    found = refusals(body)
    assert ("INTERNAL_SERVER_ERROR", None) not in found and all(
        code != "INTERNAL_SERVER_ERROR" for code, _ in found
    ), body
    expected = (case.code, case.field or None)
    assert expected in found, body
    assert snapshot(gateway) == before


def test_several_refused_inputs_are_reported_together(as_):
    body = send(
        as_("rep1"),
        CREATE_CONTACT,
        contact_input(firstName="\x00", city=BIG, emails=[{"address": "a@b.c", "kind": "\x07"}]),
    )
    assert body["data"] is None
    assert sorted(f for _, f in refusals(body)) == [
        "input.city",
        "input.emails.0.kind",
        "input.firstName",
    ]
    assert {c for c, _ in refusals(body)} == {"BAD_USER_INPUT"}


def test_values_of_the_wrong_type_are_coded_as_literals_and_as_variables(as_):
    rep = as_("rep1")
    literal = send(rep, '{ contacts(first: "ten") { totalCount } }', {})
    variable = send(rep, "query($n: Int) { contacts(first: $n) { totalCount } }", {"n": "ten"})
    nested = send(rep, CREATE_CONTACT, {"i": {"kind": "PERSON", "latitude": True}})
    assert refusals(literal) == [("BAD_USER_INPUT", "first")]
    assert refusals(variable) == [("BAD_USER_INPUT", "first")]
    assert refusals(nested) == [("BAD_USER_INPUT", "input.latitude")]


def test_a_node_id_no_key_can_hold_is_simply_not_found(as_):
    body = send(as_("rep1"), NODE, {"id": gid("Contact", HUGE_KEY)})
    assert body == {"data": {"node": None}}


# -- what is accepted, stored exactly, on both engines ----------------------------------------


def test_text_at_its_declared_limit_is_stored_exactly(as_, gateway):
    """The limits fit the columns (PostgreSQL refuses longer text) and multi-line fields keep
    their line breaks and tabs; characters beyond the BMP travel as surrogate pairs."""
    manager = as_("manager")
    values = {name: "é" * limit for name, limit in CONTACT_TEXT.items()}
    values["description"] = ("line one\r\n\tline two 😀 " * 1000)[:LONG_TEXT]
    values["street"] = "Gran Vía 1\nBuilding B"
    values["fiscalId"] = "F" * CONTACT_TEXT["fiscalId"]  # kept upper-case
    body = send(manager, CREATE_CONTACT, contact_input(**values))
    assert refusals(body) == [], body
    created = body["data"]["createContact"]["contact"]["id"]
    address = ("street", "city", "region", "postalCode")
    fields = " ".join(n for n in CONTACT_TEXT if n not in address)
    stored = manager(
        f"query($id: ID!) {{ contact(id: $id) {{ {fields} address {{ {' '.join(address)} }} }} }}",
        {"id": created},
    )
    assert stored.errors == [], stored.body
    read = stored.data["contact"]
    assert {**read.pop("address"), **read} == values

    lead = send(manager, CREATE_LEAD, {"i": {"name": "n" * 200, "notes": "a\nb\t" * 5000}})
    assert refusals(lead) == [], lead
    opportunity = send(
        manager, CREATE_OPPORTUNITY, {"i": {"title": "t" * 200, "description": "d\n" * 5000}}
    )
    assert refusals(opportunity) == [], opportunity
    invoice = send(
        manager,
        CREATE_INVOICE,
        {
            "i": {
                "clientId": _client(manager),
                "billingAddress": "Street 1\n48001 Bilbao\nES",
                "notes": "n\n" * 2500,
                "lines": [{"kind": "OTHER", "description": "l\n" * 5000, "unitPrice": "10"}],
            }
        },
    )
    assert refusals(invoice) == [], invoice


def _client(manager: Any) -> str:
    edges = manager("{ contacts(first: 100) { edges { node { id displayName } } } }")
    return next(
        e["node"]["id"]
        for e in edges.data["contacts"]["edges"]
        if e["node"]["displayName"] == "Atlantic Foods S.A."
    )


def test_well_formed_scalars_are_accepted(as_):
    rep = as_("admin")
    for moment in (
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00+02:00",
        "2026-01-01T00:00:00.5-05:00",
    ):
        body = send(rep, CONTACTS, {"f": {"createdAfter": moment}})
        assert refusals(body) == [], (moment, body)
    body = send(rep, CREATE_CONTACT, contact_input(latitude=41.38, longitude=2, discount="1E+1"))
    assert refusals(body) == [], body
    contact = body["data"]["createContact"]["contact"]["id"]
    read = rep("query($id: ID!) { contact(id: $id) { latitude longitude } }", {"id": contact})
    assert read.data["contact"] == {"latitude": "41.380000", "longitude": "2.000000"}
    custom = send(
        rep,
        UPDATE_CONTACT,
        {"id": contact, "i": {"customFields": [{"key": "annual_revenue", "value": "1250000.5"}]}},
    )
    assert refusals(custom) == [], custom


def test_pages_still_follow_their_cursors(as_):
    rep = as_("manager")
    for order in ("NAME", "CREATED_AT", "UPDATED_AT"):
        query = """query($a: String, $o: ContactOrder) { contacts(first: 2, after: $a, orderBy: $o)
          { edges { node { id } } pageInfo { endCursor hasNextPage } } }"""
        first = rep(query, {"o": {"field": order}}).data["contacts"]
        second = rep(query, {"a": first["pageInfo"]["endCursor"], "o": {"field": order}})
        assert second.errors == [], second.body
        ids = [e["node"]["id"] for e in first["edges"] + second.data["contacts"]["edges"]]
        assert len(set(ids)) == 4


# -- exports survive text stored before the rule ----------------------------------------------


def test_exports_survive_control_characters_stored_before_the_rule(as_, gateway):
    """Rows written before inputs refused control characters (or by other means) must not
    break the export for everyone who sees them: the workbook shows U+FFFD instead."""
    manager = as_("manager")
    with gateway.db.engine.begin() as conn:
        conn.execute(
            sql("UPDATE contacts SET city = :bad WHERE company_name = :name"),
            {"bad": "Bil\x07bao\x1b", "name": "Atlantic Foods S.A."},
        )
    exported = manager("{ exportContacts { contentBase64 } }")
    assert exported.errors == [], exported.body
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(exported.data["exportContacts"]["contentBase64"]))
    )
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "Bil\ufffdbao\ufffd" in cells

    invoice = send(
        manager,
        CREATE_INVOICE,
        {
            "i": {
                "clientId": _client(manager),
                "lines": [{"kind": "OTHER", "description": "Fine", "unitPrice": "10"}],
            }
        },
    )
    assert refusals(invoice) == [], invoice
    with gateway.db.engine.begin() as conn:
        conn.execute(sql("UPDATE invoice_lines SET description = :bad"), {"bad": "Wid\x01get\x08"})
    exported = manager("{ exportInvoices { contentBase64 } }")
    assert exported.errors == [], exported.body
    invoice_id = invoice["data"]["createInvoice"]["invoice"]["id"]
    pdf = manager("query($id: ID!) { invoicePdf(id: $id) { contentBase64 } }", {"id": invoice_id})
    assert pdf.errors == [], pdf.body


def test_web_forms_apply_the_same_text_rule(as_, app, gateway):
    admin, rep1 = as_("admin"), as_("rep1")
    form = admin(
        """mutation($i: CreateWebFormInput!) { createWebForm(input: $i) {
        webForm { publicKey } errors { code } } }""",
        {
            "i": {
                "name": "Edge",
                "fields": ["lastName", "description"],
                "ownerId": rep1("{ me { user { id } } }").data["me"]["user"]["id"],
            }
        },
    ).data["createWebForm"]["webForm"]
    before = snapshot(gateway)
    refused = app.post(f"/forms/{form['publicKey']}", json={"lastName": "Nul\x00"})
    assert refused.status_code == 400 and "lastName" in refused.text
    assert snapshot(gateway) == before
    accepted = app.post(
        f"/forms/{form['publicKey']}", json={"lastName": "Ok", "description": "two\nlines"}
    )
    assert accepted.status_code in (200, 201, 303), accepted.text


def test_decimals_are_answered_in_plain_notation(as_):
    """A 10% tax rate or discount is "10", never "1E+1" (Decimal.normalize() makes the
    exponent form; the Decimal scalar prints fixed-point)."""
    from decimal import Decimal

    from gateway.graphql.scalars import _plain

    assert _plain(Decimal("10").normalize()) == "10"
    assert _plain(Decimal("12.50")) == "12.50"
    rates = [t["rate"] for t in as_("admin")("{ invoiceTaxes { rate } }").data["invoiceTaxes"]]
    assert "10" in rates
    assert not [r for r in rates if "E" in r]


def test_every_nullable_argument_may_be_left_out(gateway):
    """GraphQL lets a client leave out a nullable argument; a resolver without a Python
    default for it then fails with an internal error. Such an argument must be declared
    with a default (``= None`` publishes ``= null``)."""
    from graphql import GraphQLNonNull, GraphQLObjectType
    from graphql.pyutils import Undefined

    schema = gateway.schemas.full()._schema
    missing = [
        f"{type_name}.{field_name}({arg_name})"
        for type_name, gql_type in schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in gql_type.fields.items()
        for arg_name, arg in field.args.items()
        if not isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]
    assert missing == []
