"""Drop the benchmark's PostgreSQL databases: ``python -m bench.clean [--server URL] [--dry-run]``.

Benchmark datasets are large (100k to 1M contacts) and outlive the run that generated them, on
purpose: the next run reuses them. Their names start with ``crm_bench`` (the convention of
``bench/RESULTS.md``'s commands); this drops every such database on the server, and nothing
else. The default server is ``$DATABASE_URL``'s, else 127.0.0.1:5432 as ``postgres``.
"""

from __future__ import annotations

import argparse
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.db import normalise_url

PREFIX = "crm_bench"


def bench_databases(server_url: str) -> list[str]:
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p ORDER BY datname"),
                    {"p": PREFIX + "%"},
                )
            )
    finally:
        engine.dispose()


def drop(server_url: str, names: list[str]) -> None:
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for name in names:
                assert name.startswith(PREFIX)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clean", description=__doc__)
    default = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--server", default=default, help="any database URL on the server")
    parser.add_argument("--dry-run", action="store_true", help="list, drop nothing")
    args = parser.parse_args(argv)
    # connect to the maintenance database: the one in the URL may be among those dropped
    server = make_url(normalise_url(args.server)).set(database="postgres")
    url = server.render_as_string(hide_password=False)
    names = bench_databases(url)
    if not args.dry_run:
        drop(url, names)
    verb = "would drop" if args.dry_run else "dropped"
    print(f"{verb} {len(names)} database(s): {', '.join(names) or '-'}")


if __name__ == "__main__":
    main()
