"""Row equality between the gateway and the PostGraphile peer on one benchmark database.

For every caller of :data:`peer.CALLERS`, walks the first ``pages`` pages of the contacts
list (``first`` rows each, following each side's own cursor) through the gateway's GraphQL
(in process, signed in with the ``login`` mutation) and through the peer's (a real server
process, a JWT per caller), and compares page by page: the contact ids in order, each
row's display name, first email, access level, owner and tags (sorted), ``hasNextPage``
and ``totalCount`` (the size of the whole visible set). The peer's visibility comes from
its policies alone, so equal answers mean the SQL policies compute the same facts as the
gateway's read rule.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from bench import load as loadgen
from bench.generate import PASSWORD
from bench.peers.postgraphile import peer
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database
from gateway.plugins import build_registry
from gateway.testing import LOGIN


@dataclass
class CallerResult:
    caller: peer.Caller
    pages: int = 0
    rows: int = 0
    total: int = 0
    difference: str = ""

    @property
    def equal(self) -> bool:
        return not self.difference

    def line(self) -> str:
        verdict = "equal" if self.equal else f"DIFFERENT: {self.difference}"
        return (
            f"{self.caller.email:<24} {self.pages} page(s), {self.rows:>4} rows of "
            f"{self.total:>6}: {verdict}"
            f"  ({self.caller.why})"
        )


async def _post(http: httpx2.AsyncClient, url: str, body: dict[str, Any], token: str) -> Any:
    r = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    payload = r.json()
    if r.status_code != 200 or payload.get("errors"):
        raise SystemExit(f"{url}: {r.status_code} {payload.get('errors')}")
    return payload["data"]


def _first_difference(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> str:
    ids, peer_ids = [r["id"] for r in ours], [r["id"] for r in theirs]
    if ids != peer_ids:
        only = sorted(set(ids) ^ set(peer_ids))[:5]
        return f"ids differ (gateway {len(ids)}, peer {len(peer_ids)}; e.g. {only})"
    for a, b in zip(ours, theirs, strict=True):
        if a != b:
            return f"contact {a['id']}: gateway {a} / peer {b}"
    return ""


async def _compare(
    gateway: Gateway, peer_base: str, secret: str, pages: int, first: int
) -> list[CallerResult]:
    transport = httpx2.ASGITransport(app=create_app(gateway))
    results = []
    async with (
        httpx2.AsyncClient(transport=transport, base_url="http://gateway") as gql,
        httpx2.AsyncClient(base_url=peer_base, timeout=60) as pgl,
    ):
        for caller in peer.CALLERS:
            result = CallerResult(caller)
            results.append(result)
            login = await gql.post(
                "/graphql", json={"query": LOGIN, "variables": {"e": caller.email, "p": PASSWORD}}
            )
            token = login.json()["data"]["login"]["token"]
            if token is None:
                result.difference = f"cannot sign in to the gateway: {login.json()}"
                continue
            peer_token = peer.token(secret, *peer.caller_ids(gateway.db.engine, caller.email))
            after: str | None = None
            peer_after: str | None = None
            for _ in range(pages):
                variables = {"first": first, "after": after}
                ours = await _post(
                    gql,
                    "/graphql",
                    {"query": peer.list_query(peer=False, total=True), "variables": variables},
                    token,
                )
                theirs = await _post(
                    pgl,
                    "/graphql",
                    {
                        "query": peer.list_query(peer=True, total=True),
                        "variables": {"first": first, "after": peer_after},
                    },
                    peer_token,
                )
                rows, peer_rows = peer.gateway_rows(ours), peer.peer_rows(theirs)
                result.pages += 1
                result.rows += len(rows)
                result.difference = _first_difference(rows, peer_rows)
                more = ours["contacts"]["pageInfo"]["hasNextPage"]
                total, peer_total = ours["contacts"]["totalCount"], theirs["contacts"]["totalCount"]
                if not result.difference and total != peer_total:
                    result.difference = f"totalCount: gateway {total}, peer {peer_total}"
                result.total = total
                if not result.difference and more != theirs["contacts"]["pageInfo"]["hasNextPage"]:
                    result.difference = f"hasNextPage: gateway {more}, peer {not more}"
                if result.difference or not more:
                    break
                after = ours["contacts"]["pageInfo"]["endCursor"]
                peer_after = theirs["contacts"]["pageInfo"]["endCursor"]
    return results


def check(
    url: str, *, pages: int = 3, first: int = 50, log_dir: Path, policies: str | None = None
) -> list[CallerResult]:
    """Prepare the database (policies, callers), start the peer, compare every caller.
    ``policies``: SQL to apply instead of ``rls.sql``."""
    directory = peer.prepare()
    peer.ensure_callers(url)
    db = Database(url)
    try:
        peer.apply_policies(db.engine, policies)
    finally:
        db.dispose()
    secret = secrets.token_hex(32)
    port = loadgen.free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    argv, env = peer.server_argv(directory), peer.server_env(url, secret, port)
    settings = Settings(data_dir=log_dir, database_url=url, password_hash_profile="fast")
    gateway = Gateway(
        settings=settings, db=Database(url), registry=build_registry(entry_points=False)
    )
    try:
        log = log_dir / f"postgraphile-{port}.log"
        with loadgen.server(argv, env, directory, log, port, start_timeout=300) as base:
            return asyncio.run(_compare(gateway, base, secret, pages, first))
    finally:
        gateway.db.dispose()
