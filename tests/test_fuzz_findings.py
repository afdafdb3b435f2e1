"""Crashes the fuzz test (tests/test_fuzz.py) found in domain code, pinned as plain tests so
they stay fixed whatever the fuzzer happens to draw."""

from __future__ import annotations


def test_a_tag_granted_twice_to_one_profile_is_granted_once(as_):
    """``createTag(profileIds: [p, p])`` inserted the grant twice: a unique-constraint
    IntegrityError, answered as "Unexpected error."."""
    admin = as_("admin")
    profile = next(p for p in admin("{ profiles { id name } }").data["profiles"])
    r = admin(
        """mutation($p: [ID!]) { createTag(name: "Twice", restricted: true, profileIds: $p) {
        tag { name } errors { code } } }""",
        {"p": [profile["id"], profile["id"]]},
    )
    assert r.errors == [], r.errors
    assert r.data["createTag"] == {"tag": {"name": "Twice"}, "errors": []}


CREATE_INVOICE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
  invoice { id } errors { code field } } }"""


def test_an_invoice_with_an_empty_client_or_series_id_is_refused(as_):
    """``createInvoice(input: {clientId: ""})`` looked the client up with a null key (an
    SAWarning, an error under the test suite's warning filter) instead of refusing."""
    rep1 = as_("rep1")
    client = next(
        e["node"]["id"]
        for e in rep1("{ contacts(first: 50) { edges { node { id } } } }").data["contacts"]["edges"]
    )
    for given, expected in (
        ({"clientId": ""}, ("BAD_USER_INPUT", "clientId")),
        ({"clientId": client, "seriesId": ""}, ("NOT_FOUND", "seriesId")),
    ):
        r = rep1(CREATE_INVOICE, {"i": given})
        assert r.errors == [], r.errors
        payload = r.data["createInvoice"]
        assert payload["invoice"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]
