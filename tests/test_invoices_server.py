"""Gap-free numbering under real concurrency: 40 ``issueInvoice`` calls at once, over HTTP,
against ``crm-gateway serve --workers 2`` (two uvicorn processes) on the suite's database —
PostgreSQL with TEST_DATABASE_URL, an SQLite file otherwise."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.test_server import server  # noqa: F401  (the two-worker server fixture)

pytestmark = pytest.mark.slow

COUNT = 40
CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { id } errors { code message } } }"""
ISSUE = """mutation($id: ID!) { issueInvoice(id: $id) { invoice { number status }
  errors { code message } } }"""


def test_concurrent_issues_from_two_workers_get_distinct_consecutive_numbers(server):  # noqa: F811
    http, log = server
    manager = GraphQLClient(http).login("manager@demo.test")
    contacts = manager("{ contacts(first: 50) { edges { node { id displayName } } } }")
    client = next(
        e["node"]["id"]
        for e in contacts.data["contacts"]["edges"]
        if e["node"]["displayName"] == "Atlantic Foods S.A."
    )
    item = manager("{ invoiceItems { id name } }").data["invoiceItems"][0]["id"]
    before = manager("{ invoiceSeries { nextNumber } }").data["invoiceSeries"][0]["nextNumber"]
    drafts = []
    for _ in range(COUNT):
        r = manager(CREATE, {"input": {"clientId": client, "lines": [{"itemId": item}]}})
        assert r.data["createInvoice"]["errors"] == [], r.body
        drafts.append(r.data["createInvoice"]["invoice"]["id"])
    base = str(http.base_url)

    def issue(invoice_id: str) -> dict:
        with httpx2.Client(base_url=base, timeout=60) as own:
            caller = GraphQLClient(own)
            caller.token = manager.token
            return caller(ISSUE, {"id": invoice_id}).body

    with ThreadPoolExecutor(max_workers=COUNT) as pool:
        answers = list(pool.map(issue, drafts))
    numbers = []
    for body in answers:
        assert body.get("data") and body["data"]["issueInvoice"], body
        payload = body["data"]["issueInvoice"]
        assert payload["errors"] == [], body
        assert payload["invoice"]["status"] == "BILLED"
        numbers.append(int(re.fullmatch(r"INV(\d{7})", payload["invoice"]["number"])[1]))
    assert len(set(numbers)) == COUNT
    assert sorted(numbers) == list(range(before, before + COUNT))
    after = manager("{ invoiceSeries { nextNumber } }").data["invoiceSeries"][0]["nextNumber"]
    assert after == before + COUNT
    # Both worker processes answered (uvicorn logs nothing at warning level, so ask the OS).
    log.seek(0)
    assert "Traceback" not in log.read()
