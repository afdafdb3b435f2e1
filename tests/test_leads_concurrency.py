"""50 concurrent "assign to me" calls on one lead against a real server (uvicorn, two worker
processes; file SQLite or PostgreSQL): exactly one wins, the 49 others get CONFLICT."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.test_server import server  # noqa: F401 (the real-server fixture)

pytestmark = pytest.mark.slow

CLAIMANTS = [
    "rep1@demo.test",
    "rep2@demo.test",
    "manager@demo.test",
    "director@demo.test",
    "backoffice@demo.test",
    "admin@demo.test",
]
CLAIM = "mutation($id: ID!) { claimLead(id: $id) { lead { owner { email } } errors { code } } }"
CALLS = 50


def test_fifty_concurrent_claims_one_winner(server):  # noqa: F811
    http, _log = server
    base = str(http.base_url)
    tokens = {email: GraphQLClient(http).login(email).token for email in CLAIMANTS}
    creator = GraphQLClient(http)
    creator.token = tokens["manager@demo.test"]
    created = creator(
        'mutation { createLead(input: {name: "Race", unmanaged: true}) '
        "{ lead { id } errors { code } } }"
    )
    assert created.errors == [], created.errors
    lead_id = created.data["createLead"]["lead"]["id"]

    start = threading.Barrier(CALLS)

    def claim(i: int) -> tuple[str, dict]:
        email = CLAIMANTS[i % len(CLAIMANTS)]
        with httpx2.Client(base_url=base, timeout=60) as client:
            start.wait()
            r = client.post(
                "/graphql",
                json={"query": CLAIM, "variables": {"id": lead_id}},
                headers={"Authorization": f"Bearer {tokens[email]}"},
            )
        body = r.json()
        assert "errors" not in body, body
        return email, body["data"]["claimLead"]

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        results = list(pool.map(claim, range(CALLS)))

    winners = [(email, p) for email, p in results if not p["errors"]]
    losers = [p for _, p in results if p["errors"]]
    assert len(winners) == 1, results
    assert [p["errors"] for p in losers] == [[{"code": "CONFLICT"}]] * (CALLS - 1)
    email, payload = winners[0]
    assert payload["lead"]["owner"] == {"email": email}
    check = GraphQLClient(http)
    check.token = tokens["admin@demo.test"]
    final = check("query($id: ID!) { lead(id: $id) { status owner { email } } }", {"id": lead_id})
    assert final.data["lead"] == {"status": "IN_PROGRESS", "owner": {"email": email}}
