"""CPU per list request with the page statements built once per shape, or built anew each
request: ``python -m bench.binds [--batches 15] [--per-batch 20] [--profile Q1]``.

A diagnostic next to :mod:`bench.run` (same dataset options; issue 19, "statements built
once"). In one process, through the in-process ASGI app, it times Q1/L1/O1/I1 (50 rows, as
manager01) in interleaved batches — statement cache on, then off, then on… — and reports
the median over batches of the CPU per request (``time.process_time``: the app, the
client and SQLite; not PostgreSQL's backend) and the statements per request. With
``--profile CASE`` it prints a cProfile of that case (cache on) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import statistics
import time
from typing import Any

import anyio.to_thread
import httpx2

from bench.generate import DEFAULT_DATA_DIR, default_url, ensure_dataset, sqlite_path
from bench.module_data import ensure_module_rows
from bench.queries import Case, cases
from bench.run import Bench, StatementLog
from gateway import shaping
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.plugins import build_registry
from gateway.shaping import statements as cache

KEYS = ("Q1 first:50", "L1", "O1", "I1")


#: CPU seconds spent in ``shaped_page`` (its own thread's time), summed.
_IN_PAGE = [0.0]


def _timed_page(real: Any) -> Any:
    def shaped_page(*args: Any, **kwargs: Any) -> Any:
        t = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            _IN_PAGE[0] += time.thread_time() - t

    return shaped_page


async def _batch(bench: Bench, case: Case, n: int) -> tuple[float, float, int]:
    """CPU ms per request over ``n`` requests, of which in ``shaped_page``, and the
    statements of the last one."""
    statements: list[str] = []
    cpu, _IN_PAGE[0] = time.process_time(), 0.0
    for _ in range(n):
        _, _, statements = await bench.graphql(case)
    return 1000 * (time.process_time() - cpu) / n, 1000 * _IN_PAGE[0] / n, len(statements)


async def measure(bench: Bench, chosen: list[Case], batches: int, per_batch: int) -> str:
    shaping.shaped_page = _timed_page(shaping.shaped_page)  # type: ignore[assignment]
    transport = httpx2.ASGITransport(app=create_app(bench.gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        bench.http = http
        for email in sorted({c.email for c in chosen}):
            await bench.login(email)
        for case in chosen:  # warm-up, both ways; the answers must not differ
            cache.ENABLED = True
            on = (await bench.graphql(case))[1]
            cache.ENABLED = False
            off = (await bench.graphql(case))[1]
            if on != off:
                raise SystemExit(f"{case.key}: answers differ with and without the cache")
        cpu: dict[tuple[str, bool], list[float]] = {}
        page: dict[tuple[str, bool], list[float]] = {}
        counts: dict[tuple[str, bool], int] = {}
        gc.collect()
        for b in range(batches):
            for case in chosen:
                for enabled in (b % 2 == 0, b % 2 != 0):
                    cache.ENABLED = enabled
                    ms, in_page, n = await _batch(bench, case, per_batch)
                    cpu.setdefault((case.key, enabled), []).append(ms)
                    page.setdefault((case.key, enabled), []).append(in_page)
                    counts[(case.key, enabled)] = n
        cache.ENABLED = True
    lines = [
        "| case | CPU ms/request: built each time | built once | saved "
        "| of which in shaped_page: built each time | built once | statements |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in chosen:
        off, on = (statistics.median(cpu[(case.key, e)]) for e in (False, True))
        page_off, page_on = (statistics.median(page[(case.key, e)]) for e in (False, True))
        lines.append(
            f"| {case.key} | {off:.2f} | {on:.2f} | {100 * (off - on) / off:.0f}% "
            f"| {page_off:.2f} | {page_on:.2f} "
            f"| {counts[(case.key, False)]} / {counts[(case.key, True)]} |"
        )
    return "\n".join(lines)


async def _inline(func: Any, *args: Any, **_kw: Any) -> Any:
    return func(*args)


async def profile(bench: Bench, case: Case, n: int) -> None:
    """cProfile of ``n`` requests, the worker-thread parts run inline so it sees them."""
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    transport = httpx2.ASGITransport(app=create_app(bench.gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        bench.http = http
        await bench.login(case.email)
        for _ in range(5):
            await bench.graphql(case)
        profiler = cProfile.Profile(time.thread_time)  # CPU, not waits on the database
        profiler.enable()
        for _ in range(n):
            await bench.graphql(case)
        profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"CPU ms per request by package (cache {'on' if cache.ENABLED else 'off'}):")
    for package, ms in _by_package(stats, n):
        print(f"  {package:<24} {ms:6.2f}")
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    stats.print_callees("_cached_rows|_built_rows|execute_sync|_identify")


PACKAGES = (
    "sqlalchemy",
    "psycopg",
    "strawberry",
    "graphql",
    "httpx2",
    "starlette",
    "anyio",
    "gateway/shaping",
    "gateway/access",
    "gateway",
    "plugins",
    "json",
)


def _by_package(stats: pstats.Stats, n: int) -> list[tuple[str, float]]:
    """Own CPU time (cProfile's tottime) per request, summed by the package of the code."""
    sums: dict[str, float] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        where = filename if filename != "~" else name
        package = next((p for p in PACKAGES if f"/{p}/" in where or where.startswith(p)), "")
        if not package:
            package = "sqlite3 / C" if "sqlite3" in where else "other (stdlib, C)"
        sums[package] = sums.get(package, 0.0) + row[2]
    total = sum(sums.values())
    ranked = sorted(sums.items(), key=lambda kv: -kv[1])
    return [(p, 1000 * t / n) for p, t in ranked] + [("total", 1000 * total / n)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.binds", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--per-batch", type=int, default=20)
    parser.add_argument("--only", default=",".join(KEYS))
    parser.add_argument("--profile", metavar="CASE", help="profile this case instead")
    parser.add_argument("--off", action="store_true", help="profile with the cache off")
    args = parser.parse_args()
    url = normalise_url(
        args.database_url or default_url(DEFAULT_DATA_DIR, args.contacts, args.users)
    )
    path = sqlite_path(url)
    data_dir = path.parent if path else DEFAULT_DATA_DIR / "postgresql"
    ensure_dataset(url, args.contacts, args.users, args.seed)
    ensure_module_rows(url, args.seed)
    settings = Settings(data_dir=data_dir, database_url=url, password_hash_profile="fast")
    gateway = Gateway(
        settings=settings, db=Database(url), registry=build_registry(entry_points=False)
    )
    bench = Bench(gateway, StatementLog(gateway.db.engine))
    every = cases(gateway.db.engine)
    prefixes = tuple(p.strip() for p in (args.profile or args.only).split(","))
    chosen = [
        c for c in every if c.key in prefixes or c.key.startswith(tuple(p + " " for p in prefixes))
    ]
    try:
        if args.profile:
            cache.ENABLED = not args.off
            asyncio.run(profile(bench, chosen[0], 300))
        else:
            print(f"{gateway.db.engine.dialect.name}: {args.batches} batches x {args.per_batch}")
            print(asyncio.run(measure(bench, chosen, args.batches, args.per_batch)))
    finally:
        gateway.db.dispose()


if __name__ == "__main__":
    main()
