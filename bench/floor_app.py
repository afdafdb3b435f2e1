"""The raw-ASGI floor for HTTP: a bare ASGI app answering ``POST /graphql`` with the JSON of
the Q1 floor (hand-written SQLAlchemy Core, see :mod:`bench.queries`), served by uvicorn
exactly like the gateway (``python -m uvicorn bench.floor_app:create_app --factory``).

Like the gateway it reads the whole JSON body and runs the database work in a worker thread
(``anyio.to_thread``) on the same :class:`gateway.db.Database` engine settings. Unlike the
gateway it does not authenticate, route by module set, parse or validate GraphQL: it always
answers Q1 for the user named by ``BENCH_EMAIL`` (looked up once at start-up) with
``BENCH_FIRST`` rows. Environment: ``BENCH_DATABASE_URL``, ``BENCH_EMAIL``, ``BENCH_FIRST``,
and ``BENCH_FLOOR_INLINE=1`` to run the database work on the event loop instead (to measure
what the thread hop costs under concurrency), or ``BENCH_FLOOR_THREADS=N`` to allow at most N
worker threads at a time (anyio's default allows 40).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread

from bench.queries import MANAGER, Case, lookup_viewer, q1_case, run_floor
from gateway.db import Database

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    db = Database(os.environ["BENCH_DATABASE_URL"])
    viewer = lookup_viewer(db.engine, os.environ.get("BENCH_EMAIL", MANAGER))
    case: Case = q1_case(int(os.environ.get("BENCH_FIRST", "50")))
    inline = os.environ.get("BENCH_FLOOR_INLINE") == "1"
    threads = int(os.environ.get("BENCH_FLOOR_THREADS", "0"))
    limiter = anyio.CapacityLimiter(threads) if threads else None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    db.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await _respond(send, 200, b'{"status": "ok"}')
            return
        if scope["path"] != "/graphql" or scope["method"] != "POST":
            await _respond(send, 404, b'{"error": "not found"}')
            return
        json.loads(await _body(receive))
        if inline:
            answer = run_floor(db.engine, case, viewer)
        else:
            answer = await anyio.to_thread.run_sync(
                run_floor, db.engine, case, viewer, limiter=limiter
            )
        await _respond(send, 200, answer.encode())

    return app
