"""The plans of one case's statements: ``python -m bench.explain --only Q4 [dataset options]``.

A diagnostic next to :mod:`bench.run` (same dataset options; the dataset must exist). It
sends each selected case once through the real in-process ASGI app, records the statements
and parameters sent (``before_cursor_execute``), and prints, for every statement that reads
``contacts``, its plan: ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (run once more, after
the request warmed the caches), ``EXPLAIN QUERY PLAN`` on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import event

from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url
from bench.queries import cases
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.plugins import build_registry
from gateway.testing import LOGIN


async def _send(gateway: Gateway, document: str, variables: dict[str, Any], email: str) -> None:
    transport = httpx2.ASGITransport(app=create_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        r = await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
        )
        token = r.json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        r = await http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
        body = r.json()
        if body.get("errors"):
            raise SystemExit(f"errors: {body['errors']}")


def explain(gateway: Gateway, key_prefix: str) -> None:
    engine = gateway.db.engine
    sqlite = engine.dialect.name == "sqlite"
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    for case in cases(engine):
        if not case.key.startswith(key_prefix):
            continue
        sent.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            asyncio.run(_send(gateway, case.document, case.variables, case.email))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        for statement, params in list(sent):
            if "FROM contacts" not in statement or statement.startswith("EXPLAIN"):
                continue
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
            with engine.connect() as conn:
                plan = conn.exec_driver_sql(prefix + statement, params).all()
            print(f"--- {case.key}\n{statement}\n{params}\n")
            print("\n".join(str(row[-1]) if sqlite else row[0] for row in plan), "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--only", default="Q4")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url or default_url(args.data_dir, args.contacts, args.users))
    gateway = Gateway(
        settings=Settings(data_dir=args.data_dir, database_url=url),
        db=Database(url),
        registry=build_registry(),
    )
    explain(gateway, args.only)


if __name__ == "__main__":
    main()
