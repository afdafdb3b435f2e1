"""Test helpers for the gateway's own suite and for partners testing their plugins.

Real databases only: :func:`temporary_database` yields an SQLite file, or a throwaway
PostgreSQL database created on the server you name and dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from gateway.db import Base, Database, normalise_url
from gateway.plugins import PluginRegistry


@contextmanager
def temporary_database(directory: Path, server_url: str | None = None) -> Iterator[str]:
    """The URL of a new, empty database; removed on exit (PostgreSQL) or left in ``directory``.

    A throwaway PostgreSQL database does not wait for its commits to reach the disk
    (``synchronous_commit = off``: a crash could lose the last commits, never corrupt):
    a flush costs 1 to 4 ms per commit on this project's CI machine, and a suite commits tens
    of thousands of times."""
    if not server_url:
        yield f"sqlite:///{directory / 'crm.sqlite3'}"
        return
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        url = make_url(normalise_url(server_url)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


#: (database URL, tables) → the statements that empty them, in one script, and every table
#: they empty (PostgreSQL; tables and sequences do not change once migrated).
_PG_SCRIPTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}


def empty_database(db: Database, registry: PluginRegistry | None = None) -> None:
    """Delete every row of the registry's tables (between tests; migrations stay applied)
    and restart the id sequences. Without ``registry``, of every mapped table: the models
    of any imported plugin, whether or not its tables exist — pass the registry you migrated.

    On PostgreSQL plain ``DELETE``s with foreign-key triggers off for the session (tables in
    any order) are ~10x faster than ``TRUNCATE`` on the handful of rows a test leaves — a
    TRUNCATE replaces every table's files. Without the superuser right that takes, it falls
    back to ``TRUNCATE ... CASCADE``."""
    mapped = registry.sorted_tables if registry is not None else Base.metadata.sorted_tables
    tables = [t.name for t in reversed(mapped)]
    if db.is_sqlite:
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (our table names)
            # ids start again at 1, as the sequences restarted on PostgreSQL below
            conn.execute(text("DELETE FROM sqlite_sequence"))
        return
    key = (db.engine.url.render_as_string(hide_password=False), tuple(tables))
    cached = _PG_SCRIPTS.get(key)
    if cached is None:
        with db.engine.begin() as conn:
            tables += conn.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename LIKE 'procrastinate%'"
                )
            ).all()
            sequences = conn.scalars(
                text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()"
                )
            ).all()
        statements = [
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{table}"' for table in tables),  # noqa: S608 (our table names)
            *(f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences),
        ]
        cached = _PG_SCRIPTS[key] = (";\n".join(statements), tables)
    script, tables = cached
    try:
        # one round trip: a test's teardown sent ~150 statements one by one before
        with db.engine.begin() as conn:
            conn.exec_driver_sql(script)
    except DBAPIError:
        quoted = ", ".join(f'"{t}"' for t in tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@dataclass(frozen=True)
class Snapshot:
    """Every row of the registry's tables at one moment, put back in one statement per
    table: a suite restores the demo data this way instead of seeding it per test (seeding
    goes through every module's services and takes 10 to 20 times longer).

    Restoring expects the tables to hold none of the snapshot's rows (an emptied database);
    it answers ``False``, writing nothing, when they do."""

    rows: tuple[tuple[Table, tuple[dict[str, Any], ...]], ...]

    @classmethod
    def take(cls, db: Database, registry: PluginRegistry) -> Snapshot:
        with db.engine.connect() as conn:
            rows = tuple(
                (table, tuple(dict(r) for r in conn.execute(select(table)).mappings()))
                for table in registry.sorted_tables
            )
        return cls(tuple((t, r) for t, r in rows if r))

    def restore(self, db: Database) -> bool:
        try:
            with db.engine.begin() as conn:
                # Foreign keys are checked at commit (SQLite) or, on PostgreSQL, not at all for
                # rows that were consistent when taken: tables go in any order.
                if db.is_sqlite:
                    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                else:
                    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for table, rows in self.rows:
                    conn.execute(table.insert(), list(rows))
                counters = [
                    func.setval(
                        func.pg_get_serial_sequence(table.name, column.name),
                        select(func.max(column)).scalar_subquery(),
                    )
                    for table, _ in self.rows
                    if (column := table.autoincrement_column) is not None
                ]
                if counters and not db.is_sqlite:  # the next ids follow the restored ones
                    conn.execute(select(*counters))
        except DBAPIError:  # rows already there (or no right to defer the checks)
            return False
        return True


class _HTTP(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Response:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return self.body.get("data") or {}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p)"
    " { token errors { code message } } }"
)


class GraphQLClient:
    """GraphQL over HTTP, as a frontend does it; keeps the bearer token after :meth:`login`.

    ``http`` is anything with ``post(url, json=..., headers=...)``: Starlette's TestClient
    for the in-process app, or an ``httpx2.Client`` for a real server.
    """

    def __init__(self, http: _HTTP, path: str = "/graphql") -> None:
        self.http = http
        self.path = path
        self.token: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Response:
        r = self.http.post(
            self.path, json={"query": query, "variables": variables or {}}, headers=self.headers()
        )
        is_json = r.headers.get("content-type", "").startswith("application/json")
        return Response(r.status_code, r.json() if is_json else {"raw": r.text})

    def login(self, email: str, password: str = "demo-password") -> GraphQLClient:
        payload = self(LOGIN, {"e": email, "p": password}).data["login"]
        if payload["errors"]:
            raise AssertionError(f"login of {email} failed: {payload['errors']}")
        self.token = payload["token"]
        return self
