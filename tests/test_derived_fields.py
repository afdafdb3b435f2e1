"""Derived fields (issue 12, items 3 and 4): field rules hold for every field exposing the
same data — aggregates (pipeline, dashboard), computed amounts, and aliases such as
``phone``/``phones`` — when reading, filtering, exporting and writing."""

from __future__ import annotations

import base64
import io

import openpyxl
import pytest
import strawberry
from graphql import GraphQLObjectType

from gateway.access.fields import (
    FieldGraph,
    compute_effective_rules,
    field_graph,
    guarded,
)
from gateway.access.models import FieldMode
from gateway.contract import DashboardFigure
from gateway.errors import PluginError

RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""


def set_rules(as_, rules, profile="Sales rep"):
    """Replace ``profile``'s field rules with ``rules`` [(type, field, mode)]."""
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    r = admin(
        RULES,
        {
            "id": next(p["id"] for p in profiles if p["name"] == profile),
            "rules": [{"typeName": t, "fieldName": f, "mode": m} for t, f, m in rules],
        },
    )
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body


def refused(response, *fields):
    """The operation was refused before execution, naming (at least) ``fields``."""
    assert response.codes == ["FORBIDDEN"], response.body
    assert not response.data, response.body
    named = response.errors[0]["extensions"]["fields"]
    assert set(fields) <= set(named), named
    return named


def answered(response):
    assert response.errors == [], response.errors
    return response.data


def payload_refused(response, mutation, *names):
    """A mutation answered FORBIDDEN in its payload, naming ``names`` in the message."""
    assert response.errors == [], response.errors
    errors = response.data[mutation]["errors"]
    assert [e["code"] for e in errors] == ["FORBIDDEN"], errors
    for name in names:
        assert name in errors[0]["message"], errors
    return errors[0]


def workbook(client, query, field):
    data = answered(client(query))
    return openpyxl.load_workbook(io.BytesIO(base64.b64decode(data[field]["contentBase64"])))


def headers(book, sheet):
    return [c.value for c in book[sheet][1]]


# -- the kernel: graph, effective rules, declarations ---------------------------------------------


@strawberry.type
class _Query:
    ok: bool


def _graph(*types: type) -> FieldGraph:
    return FieldGraph(strawberry.Schema(query=_Query, types=list(types))._schema)


@strawberry.type
class Thing:
    price: int
    quantity: int
    secret: int = guarded(permission="x.secret")
    net: int = guarded(derived_from=("Thing.price", "Thing.quantity"))
    total: int = guarded(derived_from=("Thing.net",))
    leak: int = guarded(derived_from=("Thing.secret",))
    first: int = guarded(derived_from=("Thing.all",))
    all: int = guarded(derived_from=("Thing.first",))


@strawberry.type
class Typo:
    price: int
    net: int = guarded(derived_from=("Typo.prise",))


@strawberry.type
class Record:
    notes: str = guarded(full_access=True)


@strawberry.type
class Excerpt:
    notes: str = guarded(full_access=True)
    excerpt: str = guarded(derived_from=("Excerpt.notes",))


@strawberry.type
class Summary:
    words: int = guarded(derived_from=("Record.notes",))


def test_effective_rules_follow_derivations_transitively_and_both_ways():
    graph = _graph(Thing)
    assert graph.sources(("Thing", "total")) == {
        ("Thing", "net"),
        ("Thing", "price"),
        ("Thing", "quantity"),
    }
    hidden = compute_effective_rules(graph, {("Thing", "price"): FieldMode.HIDDEN}, lambda p: True)
    assert hidden.hidden(("Thing", "net")) and hidden.hidden(("Thing", "total"))
    assert hidden.causes[("Thing", "total")] == {("Thing", "price")}
    assert not hidden.hidden(("Thing", "quantity"))  # the sources of a hidden field stay
    # A missing permission hides the field and what derives from it.
    no_secret = compute_effective_rules(graph, {}, lambda p: p != "x.secret")
    assert set(no_secret) == {("Thing", "secret"), ("Thing", "leak")}
    # Read-only: what it derives from and what derives from it cannot be changed either.
    ro = compute_effective_rules(graph, {("Thing", "net"): FieldMode.READ_ONLY}, lambda p: True)
    assert {k for k, m in ro.items() if m is FieldMode.READ_ONLY} == {
        ("Thing", "net"),
        ("Thing", "total"),
        ("Thing", "price"),
        ("Thing", "quantity"),
    }
    # Aliases declared both ways are one: a rule on either covers both.
    alias = compute_effective_rules(graph, {("Thing", "first"): FieldMode.HIDDEN}, lambda p: True)
    assert alias.hidden(("Thing", "all"))


def test_bad_declarations_fail_when_the_graph_is_built():
    with pytest.raises(PluginError, match=r"unknown field 'Typo\.prise'"):
        _graph(Typo)
    with pytest.raises(PluginError, match="mark it full_access"):
        _graph(Excerpt)
    with pytest.raises(PluginError, match="aggregates over such fields are not supported"):
        _graph(Record, Summary)
    with pytest.raises(ValueError, match=r"is not of the form Type\.field"):
        guarded(derived_from=("price",))


def test_dashboard_figures_declare_sources_by_qualified_name():
    DashboardFigure("ok", "Ok", count=1, derived_from=("Invoice.total",))
    for bad in (("total",), ("Invoice.total.amount",), "Invoice.total"):
        with pytest.raises(ValueError, match="derived_from|Type.field"):  # noqa: RUF043
            DashboardFigure("bad", "Bad", count=1, derived_from=bad)  # type: ignore[arg-type]


def test_every_module_declaration_resolves(gateway):
    graph = field_graph(gateway.registry)
    published = gateway.schemas.full()._schema  # the graph covers the same fields
    assert graph.fields == {
        (type_name, field_name)
        for type_name, gql_type in published.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not type_name.startswith("__")
        for field_name in gql_type.fields
    }
    # Spot checks of what the modules declare (the graph refuses unknown names).
    assert ("Opportunity", "budget") in graph.sources(("Pipeline", "forecast"))
    assert ("InvoiceLine", "unitPrice") in graph.sources(("Invoice", "total"))
    assert ("Contact", "phone") in graph.sources(("Contact", "phones"))
    assert ("Contact", "phones") in graph.sources(("Contact", "phone"))


# -- item 3: aggregates and computed amounts ------------------------------------------------------

PIPELINE_FIGURES = [
    "{ pipeline { forecast { amount } } }",
    "{ pipeline { stages { totals { currency amount } } } }",
    "{ pipeline { stages { weighted { amount } } } }",
    "{ pipeline { won { totals { amount } } } }",
    "{ pipeline { lost { totals { currency } } } }",
    "{ opportunities { edges { node { weightedAmount } } } }",
]


@pytest.mark.parametrize(
    ("rule", "refused_queries", "allowed_query"),
    [
        (
            ("Opportunity", "budget"),
            PIPELINE_FIGURES,
            "{ pipeline { stages { stage { name } count } won { count } lost { count } } }",
        ),
        (
            ("Budget", "total"),
            PIPELINE_FIGURES,
            "{ pipeline { stages { count } } opportunities { edges { node { title } } } }",
        ),
        (
            ("Opportunity", "stage"),
            [
                *PIPELINE_FIGURES,
                "{ pipeline { stages { count } } }",
                "{ pipeline { won { count } } }",
                "{ opportunities { edges { node { probability } } } }",
                "{ opportunities { edges { node { stageHistory { changedAt } } } } }",
            ],
            "{ pipeline { stages { stage { name probability } } } }",
        ),
        (
            ("Opportunity", "closedAt"),
            ["{ pipeline { won { count } } }", "{ pipeline { lost { totals { amount } } } }"],
            "{ pipeline { forecast { amount } stages { count totals { amount } } } }",
        ),
    ],
)
def test_pipeline_figures_derived_from_a_hidden_field_are_refused(
    as_, rule, refused_queries, allowed_query
):
    rep1, manager = as_("rep1"), as_("manager")
    before = answered(rep1(PIPELINE_FIGURES[1]))["pipeline"]["stages"]
    assert any(s["totals"] for s in before)  # rep1 sees budgets: there is something to hide
    set_rules(as_, [(*rule, "HIDDEN")])
    source = f"{rule[0]}.{rule[1]}"
    for query in refused_queries:
        refused(rep1(query), source)
    answered(rep1(allowed_query))
    for query in refused_queries:
        answered(manager(query))  # other profiles are unaffected


def test_pipeline_filters_may_not_read_hidden_fields(as_):
    rep1 = as_("rep1")
    contact = answered(rep1('{ contacts(first: 1, search: "iberia") { edges { node { id } } } }'))
    contact_id = contact["contacts"]["edges"][0]["node"]["id"]
    by_contact = "query($c: ID!) { pipeline(filter: {contactId: $c}) { stages { count } } }"
    since = '{ pipeline(closedSince: "2020-01-01T00:00:00Z") { stages { stage { name } } } }'
    answered(rep1(by_contact, {"c": contact_id}))
    answered(rep1(since))
    set_rules(as_, [("Opportunity", "contact", "HIDDEN"), ("Opportunity", "closedAt", "HIDDEN")])
    refused(rep1(by_contact, {"c": contact_id}), "Opportunity.contact")
    refused(rep1(since), "Opportunity.closedAt")
    answered(rep1("{ pipeline(filter: {mine: true}) { stages { count } } }"))


def dashboard_keys(client):
    data = answered(client("{ dashboard { figures { key count amount currency } } }"))
    return {f["key"] for f in data["dashboard"]["figures"]}


@pytest.mark.parametrize(
    ("rule", "gone", "kept"),
    [
        (
            ("Invoice", "total"),
            {"invoices.billedThisMonth", "invoices.unpaid", "invoices.overdue"},
            {"contacts.total", "leads.openOpportunities", "leads.wonThisMonthAmount"},
        ),
        (
            ("InvoiceLine", "unitPrice"),  # Invoice.total is computed from it
            {"invoices.billedThisMonth", "invoices.unpaid"},
            {"leads.wonThisMonthAmount"},
        ),
        (
            ("Opportunity", "budget"),
            {"leads.wonThisMonthAmount"},
            {"leads.wonThisMonth", "leads.openOpportunities", "invoices.unpaid"},
        ),
        (
            ("Opportunity", "stage"),
            {"leads.openOpportunities", "leads.wonThisMonth", "leads.wonThisMonthAmount"},
            {"leads.mine", "invoices.unpaid"},
        ),
        (
            ("Contact", "createdAt"),
            {"contacts.newThisWeek", "contacts.newToday"},
            {"contacts.total", "leads.newToday"},
        ),
        (("Lead", "status"), {"leads.mine", "leads.unmanaged"}, {"leads.newToday"}),
        (("Invoice", "currency"), {"invoices.unpaid"}, {"leads.wonThisMonthAmount"}),
    ],
)
def test_dashboard_leaves_out_figures_derived_from_hidden_fields(as_, rule, gone, kept):
    rep1, manager = as_("rep1"), as_("manager")
    won = answered(rep1("{ opportunityStages { id won } }"))["opportunityStages"]
    created = rep1(
        """mutation($s: ID!) { createOpportunity(input: {title: "Won deal", stageId: $s,
        budget: {amount: "12.5"}}) { errors { code } } }""",
        {"s": next(s["id"] for s in won if s["won"])},
    )
    assert created.data["createOpportunity"]["errors"] == []
    assert gone | kept <= dashboard_keys(rep1)
    set_rules(as_, [(*rule, "HIDDEN")])
    keys = dashboard_keys(rep1)
    assert not gone & keys and kept <= keys
    assert gone <= dashboard_keys(manager)


def test_later_modules_get_the_dashboard_rule_for_free(as_, monkeypatch):
    """A module only declares what its figure derives from; the kernel does the rest (here a
    figure added beside the contacts', as a partner module's would be)."""
    from plugins.contacts import dashboard

    original = dashboard.figures

    def with_extra(context, periods):
        return [
            *original(context, periods),
            DashboardFigure("phones", "Phones", count=1, derived_from=("Contact.phones",)),
            DashboardFigure("typo", "Typo", count=1, derived_from=("Contact.fone",)),
            DashboardFigure("discounts", "Discounts", count=1, derived_from=("Contact.discount",)),
        ]

    monkeypatch.setattr(dashboard, "figures", with_extra)
    extra = {"contacts.phones", "contacts.typo", "contacts.discounts"}
    # Unknown sources fail closed; full-access sources only for profiles seeing all in full.
    assert dashboard_keys(as_("rep1")) & extra == {"contacts.phones"}
    assert dashboard_keys(as_("backoffice")) & extra == {"contacts.phones", "contacts.discounts"}
    set_rules(as_, [("Contact", "phone", "HIDDEN")])  # phones repeats phone: hidden too
    assert dashboard_keys(as_("rep1")) & extra == set()


def test_invoice_amounts_computed_from_a_hidden_unit_price_are_refused(as_):
    manager = as_("manager")
    invoices = answered(manager("{ invoices { edges { node { id total } } } }"))["invoices"]
    invoice_id = invoices["edges"][0]["node"]["id"]
    set_rules(as_, [("InvoiceLine", "unitPrice", "HIDDEN")], "Sales manager")
    one = "query($id: ID!) { invoice(id: $id) { %s } }"
    for selection in (
        "total",
        "subtotal",
        "taxTotal",
        "taxes { amount }",
        "lines { netAmount }",
        "lines { taxAmount }",
        "lines { taxes { amount } }",
    ):
        refused(manager(one % selection, {"id": invoice_id}), "InvoiceLine.unitPrice")
    answered(
        manager(
            one % "number lines { quantity description taxes { name rate } }", {"id": invoice_id}
        )
    )
    book = workbook(manager, "{ exportInvoices { contentBase64 } }", "exportInvoices")
    assert not {"Subtotal", "Taxes", "Total"} & set(headers(book, "Invoices"))
    assert not {"Unit price", "Net amount", "Taxes"} & set(headers(book, "Lines"))
    assert "Quantity" in headers(book, "Lines")


# -- item 4: aliases, reading -----------------------------------------------------------------

CONTACT_READS = [
    "{ contacts { edges { node { phone } } } }",  # the pre-shaped fast path
    "{ contacts { edges { node { displayName phones { number } } } } }",
    'query { contacts(search: "a") { edges { node { id phone } } } }',
]


@pytest.mark.parametrize(
    "rule", [("Contact", "phone"), ("Contact", "phones"), ("ContactPhoneType", "number")]
)
def test_hiding_a_phone_field_hides_every_alias(as_, rule):
    rep1 = as_("rep1")
    assert "Phone" in headers(
        workbook(rep1, "{ exportContacts { contentBase64 } }", "exportContacts"), "Contacts"
    )
    set_rules(as_, [(*rule, "HIDDEN")])
    for query in CONTACT_READS:
        refused(rep1(query), f"{rule[0]}.{rule[1]}")
    answered(rep1("{ contacts { edges { node { displayName email } } } }"))
    book = workbook(rep1, "{ exportContacts { contentBase64 } }", "exportContacts")
    assert "Phone" not in headers(book, "Contacts") and "Email" in headers(book, "Contacts")


@pytest.mark.parametrize(
    ("rule", "gone"),
    [
        (("Contact", "emails"), {"Email"}),
        (("Contact", "address"), {"City", "Country"}),
        (("Address", "city"), {"City"}),
        (("Contact", "firstName"), {"Name"}),  # the display name is built from it
    ],
)
def test_contact_export_leaves_out_what_the_rules_hide_through_any_alias(as_, rule, gone):
    rep1 = as_("rep1")
    query = "{ exportContacts { contentBase64 } }"
    assert gone <= set(headers(workbook(rep1, query, "exportContacts"), "Contacts"))
    set_rules(as_, [(*rule, "HIDDEN")])
    left = set(headers(workbook(rep1, query, "exportContacts"), "Contacts"))
    assert not gone & left and "Kind" in left


def test_explain_access_reports_a_field_hidden_through_its_alias(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    contact = answered(rep1("{ contacts(first: 1) { edges { node { id } } } }"))
    record = contact["contacts"]["edges"][0]["node"]["id"]
    rep1_id = _user_id(admin, "rep1@demo.test")
    query = """query($u: ID!, $r: ID!) { explainAccess(userId: $u, recordId: $r, field: "phone")
      { read { allowed } field { allowed reasons { reason granted detail } } } }"""
    before = answered(admin(query, {"u": rep1_id, "r": record}))["explainAccess"]
    assert before["read"]["allowed"] and before["field"]["allowed"]
    set_rules(as_, [("Contact", "phones", "HIDDEN")])
    after = answered(admin(query, {"u": rep1_id, "r": record}))["explainAccess"]["field"]
    assert not after["allowed"]
    assert any("Contact.phones" in r["detail"] and not r["granted"] for r in after["reasons"])


# -- item 4: aliases and convenience inputs, writing ------------------------------------------

CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  contact { id } errors { code message field } } }"""
UPDATE_CONTACT = """mutation($id: ID!, $i: UpdateContactInput!) { updateContact(id: $id, input: $i) {
  contact { id } errors { code message field } } }"""
READ_CONTACT = """query($id: ID!) { contact(id: $id) { firstName email emails { address }
  phone phones { number } address { city country } owner { email } } }"""


def _user_id(client, email):
    users = answered(client("{ users(first: 50) { id email } }"))["users"]
    return next(u["id"] for u in users if u["email"] == email)


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        (("Contact", "phone"), {"phone": "+34 600 000 002"}),
        (("Contact", "phone"), {"phones": [{"number": "+34 600 000 003"}]}),
        (("Contact", "phones"), {"phone": "+34 600 000 004"}),
        (("ContactPhoneType", "number"), {"phone": "+34 600 000 005"}),
        (("Contact", "email"), {"emails": [{"address": "new@example.com"}]}),
        (("Contact", "emails"), {"email": "new@example.com"}),
        (("Contact", "address"), {"city": "Porto"}),
        (("Address", "country"), {"country": "PT"}),
        (("Contact", "owner"), {"ownerId": "manager@demo.test"}),
        (("Contact", "displayName"), {"firstName": "Renamed"}),
    ],
)
def test_a_read_only_rule_covers_every_input_writing_the_field(as_, rule, change):
    rep1, manager = as_("rep1"), as_("manager")
    made = rep1(
        CONTACT,
        {
            "i": {
                "kind": "PERSON",
                "firstName": "Alias",
                "phone": "+34 600 000 001",
                "email": "old@example.com",
                "city": "Madrid",
                "country": "ES",
            }
        },
    ).data["createContact"]
    assert made["errors"] == [], made
    if "ownerId" in change:
        change = {"ownerId": _user_id(rep1, change["ownerId"])}
    before = answered(manager(READ_CONTACT, {"id": made["contact"]["id"]}))
    set_rules(as_, [(*rule, "READ_ONLY")])
    r = rep1(UPDATE_CONTACT, {"id": made["contact"]["id"], "i": change})
    payload_refused(r, "updateContact", f"{rule[0]}.{rule[1]}")
    assert answered(manager(READ_CONTACT, {"id": made["contact"]["id"]})) == before
    r = rep1(CONTACT, {"i": {"kind": "PERSON", "firstName": "Another", **change}})
    payload_refused(r, "createContact", f"{rule[0]}.{rule[1]}")
    # Inputs writing nothing the rule protects still work.
    r = rep1(UPDATE_CONTACT, {"id": made["contact"]["id"], "i": {"segment": "retail"}})
    assert r.data["updateContact"]["errors"] == [], r.body


OPP = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id } errors { code message } } }"""
UPDATE_OPP = """mutation($id: ID!, $i: UpdateOpportunityInput!) {
  updateOpportunity(id: $id, input: $i) { opportunity { id } errors { code message } } }"""
MOVE = """mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) {
  opportunity { id } errors { code message } } }"""


@pytest.mark.parametrize(
    ("rule", "mutation"),
    [
        (("Budget", "amount"), "update"),
        (("Budget", "currency"), "update"),
        (("Opportunity", "weightedAmount"), "update"),  # computed from the budget
        (("Opportunity", "probability"), "move"),  # the stage's
        (("Opportunity", "stageHistory"), "move"),
        (("Opportunity", "responsible"), "responsible"),
    ],
)
def test_opportunity_inputs_follow_the_rules_of_every_field_they_write(as_, rule, mutation):
    rep1 = as_("rep1")
    stages = answered(rep1("{ opportunityStages { id name } }"))["opportunityStages"]
    made = rep1(OPP, {"i": {"title": "Aliased", "budget": {"amount": "10"}}}).data
    opp = made["createOpportunity"]["opportunity"]["id"]
    set_rules(as_, [(*rule, "READ_ONLY")])
    if mutation == "update":
        r = rep1(UPDATE_OPP, {"id": opp, "i": {"budget": {"amount": "20", "currency": "USD"}}})
        payload_refused(r, "updateOpportunity", f"{rule[0]}.{rule[1]}")
    elif mutation == "move":
        r = rep1(MOVE, {"id": opp, "s": stages[-2]["id"]})
        payload_refused(r, "moveOpportunity", f"{rule[0]}.{rule[1]}")
    else:
        manager = _user_id(rep1, "manager@demo.test")
        r = rep1(UPDATE_OPP, {"id": opp, "i": {"responsibleId": manager}})
        payload_refused(r, "updateOpportunity", f"{rule[0]}.{rule[1]}")
    r = rep1(UPDATE_OPP, {"id": opp, "i": {"title": "Renamed"}})
    assert r.data["updateOpportunity"]["errors"] == [], r.body


LEAD = """mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id }
  errors { code message } } }"""


@pytest.mark.parametrize(
    ("rule", "action"),
    [
        (("Lead", "owner"), "claim"),
        (("Lead", "status"), "claim"),
        (("Lead", "status"), "unsuitable"),
        (("Lead", "unsuitableReason"), "unsuitable"),
        (("Lead", "status"), "convert"),
        (("Lead", "contact"), "convert"),
    ],
)
def test_lead_actions_follow_the_rules_of_the_fields_they_change(as_, rule, action):
    rep1 = as_("rep1")
    unmanaged = action == "claim"
    made = rep1(LEAD, {"i": {"name": "Rule Lead", "company": "Rule Co", "unmanaged": unmanaged}})
    lead = made.data["createLead"]["lead"]["id"]
    set_rules(as_, [(*rule, "READ_ONLY")])
    mutation, query = {
        "claim": (
            "claimLead",
            "mutation($id: ID!) { claimLead(id: $id) { errors { code message } } }",
        ),
        "unsuitable": (
            "markLeadUnsuitable",
            'mutation($id: ID!) { markLeadUnsuitable(id: $id, reason: "no") { errors { code message } } }',
        ),
        "convert": (
            "convertLead",
            "mutation($id: ID!) { convertLead(id: $id) { errors { code message } } }",
        ),
    }[action]
    payload_refused(rep1(query, {"id": lead}), mutation, f"{rule[0]}.{rule[1]}")
    status = answered(as_("manager")("query($id: ID!) { lead(id: $id) { status } }", {"id": lead}))
    assert status["lead"]["status"] == ("UNMANAGED" if unmanaged else "IN_PROGRESS")


INVOICE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
  invoice { id } errors { code message } } }"""
UPDATE_INVOICE = """mutation($id: ID!, $i: UpdateInvoiceInput!) { updateInvoice(id: $id, input: $i) {
  invoice { id } errors { code message } } }"""


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        (("Invoice", "billingAddress"), "client"),  # a new client rewrites it
        (("Invoice", "deliveryAddress"), "consignee"),
        (("Invoice", "consigneeSameAsClient"), "consignee"),
        (("Invoice", "opportunity"), "opportunity"),  # written as opportunityId
        (("InvoiceLine", "unitPrice"), "lines"),
        (("Invoice", "total"), "lines"),  # computed from the lines
        (("Invoice", "dueDate"), "dueTerm"),  # recomputed from the term
        (("Invoice", "status"), "issue"),
    ],
)
def test_invoice_inputs_follow_the_rules_of_every_field_they_write(as_, rule, change):
    rep1 = as_("rep1")
    contacts = answered(rep1("{ contacts(first: 100) { edges { node { id displayName } } } }"))
    ids = {e["node"]["displayName"]: e["node"]["id"] for e in contacts["contacts"]["edges"]}
    items = answered(rep1("{ invoiceItems { id name } }"))["invoiceItems"]
    line = {"itemId": next(i["id"] for i in items if i["name"] == "Support hours")}
    made = rep1(INVOICE, {"i": {"clientId": ids["Iberia Logistics S.L."], "lines": [line]}})
    invoice = made.data["createInvoice"]["invoice"]["id"]
    opportunities = answered(rep1("{ opportunities(first: 1) { edges { node { id } } } }"))
    other = next(i for n, i in ids.items() if n != "Iberia Logistics S.L.")
    set_rules(as_, [(*rule, "READ_ONLY")])
    given = {
        "client": {"clientId": other},
        "consignee": {"consigneeId": other},
        "opportunity": {"opportunityId": opportunities["opportunities"]["edges"][0]["node"]["id"]},
        "lines": {"lines": [{**line, "quantity": "2"}]},
        "dueTerm": {"dueTerm": "DAYS_15"},
    }
    if change == "issue":
        r = rep1(
            "mutation($id: ID!) { issueInvoice(id: $id) { errors { code message } } }",
            {"id": invoice},
        )
        payload_refused(r, "issueInvoice", f"{rule[0]}.{rule[1]}")
    else:
        r = rep1(UPDATE_INVOICE, {"id": invoice, "i": given[change]})
        payload_refused(r, "updateInvoice", f"{rule[0]}.{rule[1]}")
    # Creating gives defaults, not changes: a new invoice for the client still works.
    r = rep1(INVOICE, {"i": {"clientId": other}})
    assert r.data["createInvoice"]["errors"] == [], r.body
