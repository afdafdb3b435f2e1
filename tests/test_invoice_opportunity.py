"""Invoices link to opportunities of the leads module when it is on, through the registry
(invoices does not import leads): the link must be visible to the caller, reads follow record
access, and with leads off the link is refused and reads answer null."""

from __future__ import annotations

from tests.test_invoices import CONTACTS

CREATE_OPP = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id } errors { code message } } }"""
CREATE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
  invoice { id opportunityId opportunity { id ... on Opportunity { title } } }
  errors { code field message } } }"""
LIST = """query($n: Int) { invoices(first: $n) { edges { node { id opportunityId
  owner { email } opportunity { id ... on Opportunity { title responsible { email } } } } } } }"""


def _client_id(client) -> str:
    return client(CONTACTS).data["contacts"]["edges"][0]["node"]["id"]


def _opportunity(client, title: str) -> str:
    r = client(CREATE_OPP, {"i": {"title": title, "access": "PRIVATE"}})
    assert r.errors == [] and r.data["createOpportunity"]["errors"] == [], r.body
    return r.data["createOpportunity"]["opportunity"]["id"]


def test_an_invoice_links_a_visible_opportunity(demo, client_for, gateway, sql_log):
    rep1, rep2 = client_for("rep1@demo.test"), client_for("rep2@demo.test")
    mine = _opportunity(rep1, "Website relaunch")
    r = rep1(CREATE, {"i": {"clientId": _client_id(rep1), "opportunityId": mine}})
    payload = r.data["createInvoice"]
    assert payload["errors"] == []
    assert payload["invoice"]["opportunity"] == {"id": mine, "title": "Website relaunch"}

    # rep2 cannot see rep1's private opportunity, so cannot link it (no existence oracle:
    # the same answer as for an id that does not exist)
    r = rep2(CREATE, {"i": {"clientId": _client_id(rep2), "opportunityId": mine}})
    (error,) = r.data["createInvoice"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "opportunityId")

    # the list primes the linked opportunities: one statement whatever the page size
    for _ in range(4):
        rep1(CREATE, {"i": {"clientId": _client_id(rep1), "opportunityId": mine}})
    counts = {}
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    rep1(LIST, {"n": 1})
    for size in (2, 5):
        with sql_log:
            r = rep1(LIST, {"n": size})
        assert r.errors == [] and len(r.data["invoices"]["edges"]) == size
        counts[size] = len(sql_log.statements)
    assert counts[2] == counts[5], counts


def test_with_leads_off_the_link_is_refused_and_reads_null(demo, client_for):
    admin = client_for("admin@demo.test")
    deal = _opportunity(admin, "Deal")
    created = admin(CREATE, {"i": {"clientId": _client_id(admin), "opportunityId": deal}})
    invoice = created.data["createInvoice"]["invoice"]["id"]
    off = admin('mutation { setModuleEnabled(name: "leads", enabled: false) { errors { code } } }')
    assert off.data["setModuleEnabled"]["errors"] == []
    r = admin(
        "query($id: ID!) { invoice(id: $id) { opportunityId opportunity { id } } }", {"id": invoice}
    )
    # the id is not answered either: it would name a record of a module that is off
    assert r.data["invoice"] == {"opportunityId": None, "opportunity": None}
    r = admin(
        """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
        errors { code field } } }""",
        {"i": {"clientId": _client_id(admin), "opportunityId": deal}},
    )
    assert r.data["createInvoice"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "opportunityId"}
    ]


def test_an_invisible_opportunity_is_neither_named_nor_copied(demo, client_for):
    rep1, rep2 = client_for("rep1@demo.test"), client_for("rep2@demo.test")
    mine = _opportunity(rep1, "Private deal")  # rep2 may not see it
    contacts = rep1(CONTACTS).data["contacts"]["edges"]
    public = next(e["node"]["id"] for e in contacts if e["node"]["displayName"] == "Marco Rossi")
    r = rep1(
        CREATE,
        {"i": {"clientId": public, "opportunityId": mine, "access": "PUBLIC_READ"}},
    )
    invoice = r.data["createInvoice"]["invoice"]
    assert invoice["opportunityId"] == mine
    read = "query($id: ID!) { invoice(id: $id) { opportunityId opportunity { id } } }"
    assert rep2(read, {"id": invoice["id"]}).data["invoice"] == {
        "opportunityId": None,
        "opportunity": None,
    }
    # duplicating re-checks the link as creating does
    r = rep2(
        "mutation($id: ID!) { duplicateInvoice(id: $id) { invoice { id } errors { code field } } }",
        {"id": invoice["id"]},
    )
    assert r.data["duplicateInvoice"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "opportunityId"}
    ]


def test_responsible_users_load_with_the_page_owners(demo, client_for, sql_log):
    rep1, rep2 = client_for("rep1@demo.test"), client_for("rep2@demo.test")
    manager = client_for("manager@demo.test")
    client = _client_id(manager)
    for rep, title in ((rep1, "Rep 1 deal"), (rep2, "Rep 2 deal")):
        deal = _opportunity(rep, title)
        r = manager(CREATE, {"i": {"clientId": client, "opportunityId": deal}})
        assert r.data["createInvoice"]["errors"] == [], r.body
    query = """{ invoices(first: 2) { edges { node { owner { email }
      opportunity { ... on Opportunity { title %s } } } } } }"""
    counts = {}
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    manager(query % "")
    for extra in ("", "responsible { email }"):
        with sql_log:
            r = manager(query % extra)
        assert r.errors == [], r.body
        counts[extra] = len(sql_log.statements)
    responsible = {
        e["node"]["opportunity"]["responsible"]["email"] for e in r.data["invoices"]["edges"]
    }
    assert responsible == {"rep1@demo.test", "rep2@demo.test"}
    assert counts[""] == counts["responsible { email }"], counts
