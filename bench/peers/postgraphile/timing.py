"""HTTP timing of the gateway against the PostGraphile peer, in interleaved rounds.

The contacts list with owner and tags as manager01 (the gateway's Q1, ``first`` 50 and
500), at concurrency 1 and 8, on ``crm-gateway serve`` with 1 and 2 uvicorn workers and on
the peer (one Node process, as PostGraphile runs). All servers are started once and stay
up (idle ones cost nothing); each round measures every (page, concurrency) on every
server, the servers' order alternating between rounds, so a change in the machine's load
hits all of them alike. Before timing, each server's answer is checked to hold the same
rows (:func:`peer.gateway_rows` = :func:`peer.peer_rows`). The ratio reported is gateway
requests/s over the peer's, within the same round.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from bench import load as loadgen
from bench.generate import PASSWORD
from bench.peers.postgraphile import peer
from bench.queries import MANAGER, Q1
from gateway.db import Database
from gateway.testing import LOGIN

PAGES = (50, 500)
CONCURRENCY = (1, 8)
PEER = "PostGraphile"
#: Seconds a server may take to answer /healthz (two workers on a loaded 2-core machine).
START_TIMEOUT = 300.0
#: wrk's per-request timeout: long enough that a loaded machine's slow answers are counted.
REQUEST_TIMEOUT = 30.0


@dataclass
class Server:
    name: str
    base: str
    headers: dict[str, str]
    payload: Any  # first → GraphQL body

    def body(self, first: int) -> dict[str, Any]:
        return dict(self.payload(first))


@dataclass
class Cell:
    """One (server, page, concurrency): a measurement per round."""

    results: list[loadgen.LoadResult] = field(default_factory=list)

    def median(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.results]
        return statistics.median(values)


def _gateway_server(
    stack: ExitStack, url: str, workers: int, log_dir: Path, tool_env: dict[str, str]
) -> Server:
    port = loadgen.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
    argv += ["--workers", str(workers)]
    base = stack.enter_context(
        loadgen.server(
            argv, tool_env, peer.REPO, log_dir / f"gateway-{port}.log", port, START_TIMEOUT
        )
    )
    return Server(
        f"gateway, {workers} worker{'s' if workers > 1 else ''}",
        base,
        loadgen.bearer(base, MANAGER, PASSWORD, LOGIN),
        lambda first: {"query": Q1, "variables": {"first": first}},
    )


def _peer_server(stack: ExitStack, url: str, log_dir: Path) -> Server:
    directory = peer.prepare()
    secret = secrets.token_hex(32)
    port = loadgen.free_port()
    base = stack.enter_context(
        loadgen.server(
            peer.server_argv(directory),
            peer.server_env(url, secret, port),
            directory,
            log_dir / f"postgraphile-{port}.log",
            port,
            START_TIMEOUT,
        )
    )
    db = Database(url)
    try:
        user_id, tenant_id = peer.caller_ids(db.engine, MANAGER)
    finally:
        db.dispose()
    return Server(
        PEER,
        base,
        {"Authorization": f"Bearer {peer.token(secret, user_id, tenant_id)}"},
        lambda first: {"query": peer.list_query(peer=True), "variables": {"first": first}},
    )


def _rows(server: Server, first: int) -> list[dict[str, Any]]:
    r = httpx2.post(
        f"{server.base}/graphql", json=server.body(first), headers=server.headers, timeout=60
    )
    data = r.json()["data"]
    return peer.peer_rows(data) if server.name == PEER else peer.gateway_rows(data)


def rate(rps: float) -> str:
    return f"{rps:.0f}" if rps >= 100 else f"{rps:.1f}"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def run(
    url: str,
    *,
    rounds: int,
    seconds: float,
    workers: tuple[int, ...],
    tool: str,
    log_dir: Path,
) -> str:
    """Time every server and return the markdown report."""
    log_dir.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        peer.apply_policies(db.engine)
    finally:
        db.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CRM_DATA_DIR": str(log_dir),
        "CRM_LOG_LEVEL": "warning",
        "PYTHONPATH": str(peer.REPO),
    }
    cells: dict[tuple[str, int, int], Cell] = {}
    loads: list[str] = [load_average()]
    with ExitStack() as stack:
        servers = [_gateway_server(stack, url, w, log_dir, env) for w in workers]
        servers.append(_peer_server(stack, url, log_dir))
        for first in PAGES:
            expected = _rows(servers[-1], first)
            for server in servers[:-1]:
                if _rows(server, first) != expected:
                    raise SystemExit(f"{server.name} and {PEER} differ at first: {first}")
        for server in servers:  # warm-up: JIT, statement caches, pools
            for first in PAGES:
                loadgen.load(
                    tool,
                    f"{server.base}/graphql",
                    server.body(first),
                    server.headers,
                    8,
                    2,
                    log_dir,
                )
        for n in range(rounds):
            order = servers if n % 2 == 0 else servers[::-1]
            for first in PAGES:
                for c in CONCURRENCY:
                    for server in order:
                        result = loadgen.load(
                            tool,
                            f"{server.base}/graphql",
                            server.body(first),
                            server.headers,
                            c,
                            seconds,
                            log_dir,
                            REQUEST_TIMEOUT,
                        )
                        cells.setdefault((server.name, first, c), Cell()).results.append(result)
            loads.append(load_average())
            print(f"round {n + 1}/{rounds} done, load average {loads[-1]}", flush=True)
        names = [s.name for s in servers]
    return report(cells, names, rounds, seconds, tool, loads)


def report(
    cells: dict[tuple[str, int, int], Cell],
    names: list[str],
    rounds: int,
    seconds: float,
    tool: str,
    loads: list[str],
) -> str:
    out = [
        f"{tool} (-t1, request timeout {REQUEST_TIMEOUT:g} s), {seconds:g} s per measurement "
        f"after a 2 s warm-up of each server, {rounds} interleaved rounds; "
        f"load average (1/5 min) before and after each round: {', '.join(loads)}.",
        "",
        "| page | c | server | req/s (median) | p50 ms | p99 ms | errors | "
        "gateway / PostGraphile req/s: median (per round) |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for first in PAGES:
        for c in CONCURRENCY:
            theirs = cells[(PEER, first, c)]
            for name in names:
                cell = cells[(name, first, c)]
                ratios = ""
                if name != PEER:
                    per_round = [
                        g.rps / p.rps
                        for g, p in zip(cell.results, theirs.results, strict=True)
                        if p.rps
                    ]
                    ratios = ", ".join(f"{x:.2f}" for x in per_round)
                    if per_round:
                        ratios = f"**{statistics.median(per_round):.2f}** ({ratios})"
                out.append(
                    f"| {first} | {c} | {name} | {rate(cell.median('rps'))} | "
                    f"{cell.median('p50_ms'):.2f} | {cell.median('p99_ms'):.2f} | "
                    f"{sum(r.errors for r in cell.results)} | {ratios} |"
                )
    return "\n".join(out) + "\n"
