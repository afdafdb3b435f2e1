"""Issue 12 item 5: a filter on the id of a related record the caller cannot see behaves as
if that id did not exist — on lists, counts, the pipeline and exports — for every demo user:
``opportunities(filter: {contactId})`` and ``invoices(filter: {clientId})`` return exactly
the visible records whose *visible* contact or client is that one."""

from __future__ import annotations

import base64
import io

import openpyxl
import pytest
from strawberry.relay import to_base64

from tests.test_invoices import catalogue, service_line

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
CREATE_CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  contact { id } errors { code message } } }"""
CREATE_OPPORTUNITY = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id } errors { code message } } }"""
CREATE_INVOICE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
  invoice { id } errors { code message } } }"""
OPPORTUNITIES = """query($f: OpportunityFilterInput) { opportunities(first: 500, filter: $f) {
  totalCount edges { node { id contact { id } } } } }"""
PIPELINE = """query($f: OpportunityFilterInput) { pipeline(filter: $f) { stages { count } } }"""
INVOICES = """query($f: InvoiceFilterInput) { invoices(first: 500, filter: $f) {
  totalCount edges { node { id number client { id } } } } }"""
EXPORT = """query($f: InvoiceFilterInput) { exportInvoices(filter: $f) { contentBase64 } }"""


def _created(client, query: str, key: str, node: str, fields: dict) -> str:
    r = client(query, {"i": fields})
    assert r.errors == [] and r.data[key]["errors"] == [], r.body
    return r.data[key][node]["id"]


@pytest.fixture
def hidden_links(as_):
    """Public opportunities and invoices whose contact is private to their owner: rep1's
    (hidden from rep2) and the director's (hidden from the manager and the reps)."""
    made = {}
    for owner in ("rep1", "director"):
        client = as_(owner)
        contact = _created(
            client,
            CREATE_CONTACT,
            "createContact",
            "contact",
            {"kind": "COMPANY", "companyName": f"Secret client of {owner}"},
        )
        _created(
            client,
            CREATE_OPPORTUNITY,
            "createOpportunity",
            "opportunity",
            {"title": f"Deal of {owner}", "contactId": contact, "access": "PUBLIC_READ"},
        )
        _, items = catalogue(client)
        _created(
            client,
            CREATE_INVOICE,
            "createInvoice",
            "invoice",
            {"clientId": contact, "access": "PUBLIC_READ", "lines": [service_line(items)]},
        )
        made[owner] = contact
    return made


def _contact_ids(as_) -> list[str]:
    """Every contact of the demo tenant, one of the other tenant, and one that never was."""
    r = as_("admin")("{ contacts(first: 500) { edges { node { id } } } }")
    ids = [e["node"]["id"] for e in r.data["contacts"]["edges"]]
    other = as_("admin@acme.test")("{ contacts(first: 5) { edges { node { id } } } }")
    ids += [e["node"]["id"] for e in other.data["contacts"]["edges"]]
    return [*ids, to_base64("Contact", 987654321)]


def _ids(r, relation: str) -> tuple[set[str], dict[str, str | None]]:
    assert r.errors == [], r.errors
    (connection,) = r.data.values()
    edges = connection["edges"]
    assert connection["totalCount"] == len(edges)
    return {e["node"]["id"] for e in edges}, {
        e["node"]["id"]: (e["node"][relation] or {}).get("id") for e in edges
    }


def test_the_reported_examples(as_, hidden_links):
    rep2 = as_("rep2")
    contact = hidden_links["rep1"]
    assert rep2("query($id: ID!) { contact(id: $id) { id } }", {"id": contact}).data == {
        "contact": None
    }
    for query in (OPPORTUNITIES, INVOICES):
        visible, _ = _ids(rep2(query), "contact" if query is OPPORTUNITIES else "client")
        assert visible  # rep2 sees the public records themselves...
    opportunities = rep2(OPPORTUNITIES, {"f": {"contactId": contact}})
    assert _ids(opportunities, "contact")[0] == set()  # ...but no filter confirms the link
    invoices = rep2(INVOICES, {"f": {"clientId": contact}})
    assert _ids(invoices, "client")[0] == set()
    counts = rep2(PIPELINE, {"f": {"contactId": contact}}).data["pipeline"]["stages"]
    assert sum(s["count"] for s in counts) == 0
    # its owner still finds them
    rep1 = as_("rep1")
    assert len(_ids(rep1(OPPORTUNITIES, {"f": {"contactId": contact}}), "contact")[0]) == 1
    assert len(_ids(rep1(INVOICES, {"f": {"clientId": contact}}), "client")[0]) == 1


@pytest.mark.parametrize("user", USERS)
def test_a_related_id_filter_matches_only_visible_links(as_, hidden_links, user):
    """For every contact id (visible, invisible, of another tenant, unknown), the filtered
    list is the unfiltered list narrowed to records showing that contact."""
    client = as_(user)
    all_opps, opp_contact = _ids(client(OPPORTUNITIES), "contact")
    all_invoices, invoice_client = _ids(client(INVOICES), "client")
    for contact in _contact_ids(as_):
        expected = {o for o in all_opps if opp_contact[o] == contact}
        got, _ = _ids(client(OPPORTUNITIES, {"f": {"contactId": contact}}), "contact")
        assert got == expected, (user, contact)
        stages = client(PIPELINE, {"f": {"contactId": contact}}).data["pipeline"]["stages"]
        assert sum(s["count"] for s in stages) == len(expected), (user, contact)
        expected = {i for i in all_invoices if invoice_client[i] == contact}
        got, _ = _ids(client(INVOICES, {"f": {"clientId": contact}}), "client")
        assert got == expected, (user, contact)


def _exported_rows(client, flt) -> int:
    r = client(EXPORT, {"f": flt})
    assert r.errors == [], r.errors
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportInvoices"]["contentBase64"]))
    )
    return book["Invoices"].max_row - 1


def test_exports_filter_by_visible_clients_only(as_, hidden_links):
    manager = as_("manager")  # may export, sees rep1's contacts but not the director's
    hidden, visible = hidden_links["director"], hidden_links["rep1"]
    assert _exported_rows(manager, {"clientId": hidden}) == 0
    assert _exported_rows(manager, {"clientId": visible}) == 1
    assert _exported_rows(as_("director"), {"clientId": hidden}) == 1


def test_a_contact_that_becomes_visible_matches_again(as_, hidden_links):
    rep1, rep2 = as_("rep1"), as_("rep2")
    contact = hidden_links["rep1"]
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    r = rep1(
        """mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) {
        errors { code } } }""",
        {"r": contact, "u": rep2_id},
    )
    assert r.data["shareRecord"]["errors"] == []
    rep2 = as_("rep2")
    assert len(_ids(rep2(OPPORTUNITIES, {"f": {"contactId": contact}}), "contact")[0]) == 1
    assert len(_ids(rep2(INVOICES, {"f": {"clientId": contact}}), "client")[0]) == 1
