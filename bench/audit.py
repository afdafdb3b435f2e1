"""The audit trail's write overhead: ``python -m bench.audit [--updates 300] [--database-url URL]``.

A sales rep updates one of their contacts (``updateContact``, one field) over GraphQL
through the ASGI app, as a frontend would: ``--updates`` times with the audit trail
recording, and as many with its flush listener removed, in interleaved rounds so machine
load hits both alike. Prints the median milliseconds per update of each and the overhead
(issue 17's goal: at most 15%). Nothing is asserted; figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

UPDATE = """mutation($id: ID!, $z: String!) { updateContact(id: $id, input: {zone: $z}) {
  contact { id } errors { code } } }"""
CREATE = """mutation { createContact(input: {kind: COMPANY, companyName: "Bench audit SL"}) {
  contact { id } } }"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from sqlalchemy import event
    from starlette.testclient import TestClient

    from gateway import migrate
    from gateway.app import Gateway, create_app
    from gateway.audit import trail
    from gateway.config import Settings
    from gateway.db import Database
    from gateway.demo import seed_demo
    from gateway.plugins import build_registry
    from gateway.testing import GraphQLClient, empty_database

    data = Path(tempfile.mkdtemp())
    settings = Settings(
        data_dir=data,
        database_url=args.database_url or f"sqlite:///{data}/bench.db",
        password_hash_profile="fast",
        jobs_in_process=False,
    )
    registry = build_registry()
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db.engine, registry)
    if args.database_url:
        empty_database(db)
    gateway = Gateway(settings=settings, db=db, registry=registry)
    seed_demo(gateway)
    factories = (db._read, db._write)

    def audit(on: bool) -> None:
        for factory in factories:
            listening = event.contains(factory, "after_flush", trail._after_flush)
            if on and not listening:
                event.listen(factory, "after_flush", trail._after_flush)
            elif not on and listening:
                event.remove(factory, "after_flush", trail._after_flush)

    with TestClient(create_app(gateway)) as http:
        rep = GraphQLClient(http).login("rep1@demo.test")
        contact = rep(CREATE).data["createContact"]["contact"]["id"]
        timings: dict[bool, list[float]] = {True: [], False: []}
        per_round = max(1, args.updates // args.rounds)
        for round_no in range(args.rounds * 2):
            on = round_no % 2 == 0
            audit(on)
            for i in range(per_round):
                started = time.perf_counter()
                r = rep(UPDATE, {"id": contact, "z": f"z{round_no}-{i}"})
                timings[on].append(time.perf_counter() - started)
                assert r.data["updateContact"]["errors"] == [], r
        audit(True)
    with_audit = statistics.median(timings[True]) * 1000
    without = statistics.median(timings[False]) * 1000
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{engine}: updateContact median {without:.2f} ms without the audit trail, "
        f"{with_audit:.2f} ms with it: overhead {100 * (with_audit / without - 1):+.1f}% "
        f"({len(timings[True])} updates each)"
    )


if __name__ == "__main__":
    main()
