"""Where the time of one Q1 request goes: ``python -m bench.breakdown [--first 50]``.

A diagnostic next to :mod:`bench.run` (same dataset options). It sends Q1 through the real
in-process ASGI app and times, inside those same requests (wrapping the functions, so the
parts add up to the request), the median of:

* the whole ASGI request (what ``python -m bench`` reports),
* ``GraphQLEndpoint._identify``: token → caller + module switches (one statement),
* ``GatewaySchema.execute_sync``: parse (cached), validate (cached), execute,
* the ``contacts`` resolver's shaped plan (``ContactListPlan.run``: page + tags + shaping),
* the access scope's facts statement (``AccessScope._facts``),

and, separately, the floor. "Strawberry + graphql-core" is ``execute_sync`` minus the
resolver and the scope; "HTTP view, thread hops" is the request minus ``execute_sync`` and
``_identify``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import httpx2

from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset
from bench.queries import MANAGER, lookup_viewer, q1_case, run_floor
from gateway.access.scope import AccessScope
from gateway.app import Gateway, GraphQLEndpoint, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.graphql.schema_factory import GatewaySchema
from gateway.plugins import build_registry
from gateway.testing import LOGIN
from plugins.contacts.shaped_list import ContactListPlan


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


class Timers:
    """Wraps functions so each call's duration is recorded under a name."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = owner.__dict__[attribute]
        target = original.func if hasattr(original, "func") else original  # cached_property
        bucket = self.times.setdefault(name, [])

        @wraps(target)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                bucket.append(1000 * (time.perf_counter() - t))

        if hasattr(original, "func"):
            from functools import cached_property

            replacement: Any = cached_property(timed)
            replacement.__set_name__(owner, attribute)
        else:
            replacement = timed
        setattr(owner, attribute, replacement)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def clear(self) -> None:
        for bucket in self.times.values():
            bucket.clear()

    def median(self, name: str) -> float:
        values = self.times[name]
        return statistics.median(values) if values else 0.0

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


async def _requests(gateway: Gateway, payload: dict[str, Any], runs: int, timers: Timers) -> float:
    transport = httpx2.ASGITransport(app=create_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        r = await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": MANAGER, "p": PASSWORD}}
        )
        headers = {"Authorization": f"Bearer {r.json()['data']['login']['token']}"}
        for _ in range(10):
            await http.post("/graphql", json=payload, headers=headers)
        timers.clear()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            answer = await http.post("/graphql", json=payload, headers=headers)
            times.append(1000 * (time.perf_counter() - t))
            assert "errors" not in answer.json(), answer.text
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url or default_url(args.data_dir, args.contacts, args.users))
    ensure_dataset(url, args.contacts, args.users, args.seed)
    settings = Settings(data_dir=args.data_dir, database_url=url, password_hash_profile="fast")
    gateway = Gateway(
        settings=settings, db=Database(url), registry=build_registry(entry_points=False)
    )
    case = q1_case(args.first)
    payload = {"query": case.document, "variables": case.variables}
    timers = Timers()
    timers.wrap(GraphQLEndpoint, "_identify", "identify")
    timers.wrap(GatewaySchema, "execute_sync", "execute")
    timers.wrap(ContactListPlan, "run", "resolver")
    timers.wrap(AccessScope, "_facts", "scope")
    try:
        request_ms = asyncio.run(_requests(gateway, payload, args.runs, timers))
    finally:
        timers.restore()
    viewer = lookup_viewer(gateway.db.engine, MANAGER)
    floor_ms = median_ms(lambda: run_floor(gateway.db.engine, case, viewer), args.runs)
    gateway.db.dispose()
    identify, execute = timers.median("identify"), timers.median("execute")
    resolver, scope = timers.median("resolver"), timers.median("scope")
    print(f"Q1 first:{args.first} as {MANAGER} on {gateway.db.engine.url.render_as_string()}")
    rows = [
        ("ASGI request (in process)", request_ms),
        ("identify: token + module switches", identify),
        ("execute_sync (parse, validate, execute)", execute),
        ("  contacts resolver: shaped plan (page, tags, shaping)", resolver),
        ("  access scope facts (1 statement)", scope),
        ("  Strawberry + graphql-core = execute - resolver - scope", execute - resolver - scope),
        ("HTTP view, thread hops = request - execute - identify", request_ms - execute - identify),
        ("floor", floor_ms),
    ]
    for name, value in rows:
        print(f"  {name:58} {value:8.2f} ms")


if __name__ == "__main__":
    main()
