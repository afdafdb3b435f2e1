"""Where should database work run? Threaded execution vs. inline, measured in-process.

Serves ``{ me { ... } }`` (token lookup + 3 SQL statements) at concurrency 8 through the
real ASGI app, once with each GraphQL operation executed in a worker thread (what the
gateway does) and once inline on the event loop, while a ticker task measures how late the
event loop wakes up. Usage: ``python -m bench.event_loop [requests]`` (SQLite in a temp dir,
or ``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.demo import seed_demo
from gateway.graphql.schema_factory import GatewaySchema

LOGIN = 'mutation { login(email: "rep1@demo.test", password: "demo-password") { token } }'
QUERY = "{ me { user { email } tenant { slug } profile { name } enabledModules } }"


async def _inline_execute(self: GatewaySchema, query: str | None, **kwargs: Any) -> Any:
    return self.execute_sync(query, **kwargs)


async def _run(gateway: Gateway, requests: int, concurrency: int) -> dict[str, float]:
    transport = httpx2.ASGITransport(app=create_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        login = await http.post("/graphql", json={"query": LOGIN})
        headers = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}
        lags: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - t - 0.001)

        latencies: list[float] = []

        async def worker(n: int) -> None:
            for _ in range(n):
                t = time.perf_counter()
                r = await http.post("/graphql", json={"query": QUERY}, headers=headers)
                assert r.status_code == 200 and "errors" not in r.json(), r.text
                latencies.append(time.perf_counter() - t)

        tick = asyncio.create_task(ticker())
        start = time.perf_counter()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        done.set()
        await tick
    latencies.sort()
    lags.sort()
    return {
        "req/s": len(latencies) / elapsed,
        "p50 ms": 1000 * statistics.median(latencies),
        "p99 ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "loop lag p99 ms": 1000 * lags[int(len(lags) * 0.99) - 1],
        "loop lag max ms": 1000 * lags[-1],
    }


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=os.environ.get("DATABASE_URL"))
        gateway = Gateway.create(settings)
        migrate.upgrade(gateway.db.engine, gateway.registry)
        seed_demo(gateway)
        threaded = asyncio.run(_run(gateway, requests, 8))
        original = GatewaySchema.execute
        GatewaySchema.execute = _inline_execute  # type: ignore[method-assign]
        try:
            inline = asyncio.run(_run(gateway, requests, 8))
        finally:
            GatewaySchema.execute = original  # type: ignore[method-assign]
    print(f"{'':18}{'threaded':>10}{'inline':>10}")
    for key in threaded:
        print(f"{key:18}{threaded[key]:10.2f}{inline[key]:10.2f}")


if __name__ == "__main__":
    main()
