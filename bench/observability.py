"""What observation costs the contacts fast path: ``python -m bench.observability``.

Q1 (manager01's contacts, ``first: 50`` by default) through the ASGI app in process, with
every observation feature off and with each switched on (Prometheus metrics; metrics and
JSON request lines; metrics, JSON lines and tracing with a no-export SDK provider), in
alternating batches on one process. It reports CPU time per request (``process_time``,
every thread of the process: the figure that load on a shared machine disturbs least) and
wall time, medians over the batches.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2

from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset
from bench.queries import MANAGER, q1_case
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.plugins import build_registry

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


def _variants(settings: Settings) -> dict[str, tuple[Settings, Any]]:
    from opentelemetry.sdk.trace import TracerProvider

    return {
        "off": (settings, None),
        "metrics": (replace(settings, metrics_token="bench"), None),
        "metrics + JSON lines": (replace(settings, metrics_token="bench", log_format="json"), None),
        "metrics + JSON + traces": (
            replace(settings, metrics_token="bench", log_format="json"),
            TracerProvider(),  # spans are made and ended, then dropped (no exporter)
        ),
    }


async def _batch(
    http: httpx2.AsyncClient, payload: dict[str, Any], headers: Any, n: int
) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        answer = await http.post("/graphql", json=payload, headers=headers)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return (time.process_time() - cpu) * 1000 / n, (time.perf_counter() - wall) * 1000 / n


async def _run(
    gateways: dict[str, Gateway], payload: dict[str, Any], rounds: int, n: int
) -> dict[str, tuple[list[float], list[float]]]:
    clients, headers = {}, {}
    for name, gateway in gateways.items():
        transport = httpx2.ASGITransport(app=create_app(gateway))
        clients[name] = httpx2.AsyncClient(transport=transport, base_url="http://bench")
        r = await clients[name].post(
            "/graphql", json={"query": LOGIN, "variables": {"e": MANAGER, "p": PASSWORD}}
        )
        headers[name] = {"Authorization": f"Bearer {r.json()['data']['login']['token']}"}
        await _batch(clients[name], payload, headers[name], n)  # warm-up
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in gateways}
    names = list(gateways)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            cpu, wall = await _batch(clients[name], payload, headers[name], n)
            results[name][0].append(cpu)
            results[name][1].append(wall)
    for client in clients.values():
        await client.aclose()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.observability", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=40)
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url or default_url(args.data_dir, args.contacts, args.users))
    ensure_dataset(url, args.contacts, args.users, 1)
    logging.getLogger("gateway.requests").disabled = True  # formatted nowhere: cost of the call
    settings = Settings(data_dir=args.data_dir, database_url=url, password_hash_profile="fast")
    registry = build_registry(entry_points=False)
    # an engine each: "off" must not carry the statement listener the others install
    gateways = {
        name: Gateway(settings=s, db=Database(url), registry=registry, tracer_provider=provider)
        for name, (s, provider) in _variants(settings).items()
    }
    case = q1_case(args.first)
    payload = {"query": case.document, "variables": case.variables}
    results = asyncio.run(_run(gateways, payload, args.rounds, args.batch))
    where = gateways["off"].db.engine.url.render_as_string()
    print(f"Q1 first:{args.first}, {args.rounds} rounds of {args.batch} requests, {where}")
    print("| features | CPU ms / request (median) | wall ms / request (median) |")
    print("|---|---:|---:|")
    for name, (cpu, wall) in results.items():
        print(f"| {name} | {statistics.median(cpu):.3f} | {statistics.median(wall):.3f} |")


if __name__ == "__main__":
    main()
