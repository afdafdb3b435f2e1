"""Shared fixtures: a real database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL),
migrated once, emptied after every test; the ASGI app with two test-only plugins; a GraphQL
client that talks HTTP to it the way a frontend does."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database
from gateway.plugins import PluginRegistry, build_registry
from gateway.testing import GraphQLClient, Snapshot, empty_database, temporary_database

#: Gateways the suite starts itself (CLI commands, `serve` subprocesses) register no
#: installed third-party plugin either: a partner's plugin in the environment must not add
#: its tables to, or clash by name with, what is tested (tests/test_isolation.py).
os.environ["CRM_DISCOVER_PLUGINS"] = "0"

#: The registry the suite runs with, named here (not discovered): installed third-party
#: plugins stay out, and a stale editable install cannot change what is tested.
BUILTIN_PLUGINS = (
    "gateway.core.plugin",
    "plugins.contacts",
    "plugins.leads",
    "plugins.invoices",
    "plugins.calendar",
    "plugins.consent",
)
TEST_PLUGINS = ("tests.plugins.notes", "tests.plugins.audit")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def site_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder standing for the environment's installed distributions, for tests of
    entry-point discovery: they see what the test installs there, not what the machine has."""
    site = tmp_path / "site-packages"
    site.mkdir()
    discover = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **_: discover(path=[str(site)]))
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run: a temp SQLite file, or a new PostgreSQL database
    created on the server named by TEST_DATABASE_URL and dropped afterwards."""
    with temporary_database(
        tmp_path_factory.mktemp("db"), os.environ.get("TEST_DATABASE_URL")
    ) as url:
        yield url


@pytest.fixture(scope="session")
def registry() -> PluginRegistry:
    return build_registry(builtin=(*BUILTIN_PLUGINS, *TEST_PLUGINS), entry_points=False)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        password_hash_profile="fast",
        # Tests run queued jobs themselves (gateway.jobs.run_pending): deterministic.
        jobs_in_process=False,
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings, registry: PluginRegistry) -> Database:
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db.engine, registry)
    return db


@pytest.fixture
def gateway(settings: Settings, registry: PluginRegistry, migrated: Database) -> Iterator[Gateway]:
    gw = Gateway(settings=settings, db=migrated, registry=registry)
    try:
        yield gw
    finally:
        empty_database(migrated, registry)


@pytest.fixture
def app(gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_app(gateway)) as http:
        yield http


@pytest.fixture
def gql(app: TestClient) -> GraphQLClient:
    return GraphQLClient(app)


@pytest.fixture
def client_for(app: TestClient):
    """``client_for("rep1@demo.test")``: a signed-in client (needs the ``demo`` fixture)."""
    return lambda email, password="demo-password": GraphQLClient(app).login(email, password)


@pytest.fixture
def as_(demo, client_for):
    """``as_("rep1")``: a signed-in client per demo user, created once per test."""
    clients: dict[str, GraphQLClient] = {}

    def get(name: str) -> GraphQLClient:
        email = name if "@" in name else f"{name}@demo.test"
        if email not in clients:
            clients[email] = client_for(email)
        return clients[email]

    return get


#: (database, UTC day) → the demo data as first seeded in this process, and its rows:
#: seeding runs the modules' services (~0.3 s, 0.5 s on PostgreSQL, in ~650 tests);
#: restoring the rows takes a few statements. Keyed by day because modules seed dates
#: relative to today.
_DEMO: dict[tuple[str, datetime.date], tuple[dict, Snapshot]] = {}


@pytest.fixture
def demo(gateway: Gateway):
    from gateway.demo import seed_demo

    key = (str(gateway.db.engine.url), datetime.datetime.now(datetime.UTC).date())
    cached = _DEMO.get(key)
    if cached is not None and cached[1].restore(gateway.db):
        return cached[0]
    # a snapshot only of the demo data alone: another fixture may have added rows first
    empty = cached is None and not Snapshot.take(gateway.db, gateway.registry).rows
    tenants = {t.slug: t for t in seed_demo(gateway)}
    if empty:
        _DEMO[key] = (tenants, Snapshot.take(gateway.db, gateway.registry))
    return tenants


class StatementLog:
    """SQL statements the app sends, recorded from the engine (``with log: ...``)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementLog:
        from sqlalchemy import event

        self.statements.clear()
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.statements if table in s]


@pytest.fixture
def sql_log(gateway) -> StatementLog:
    return StatementLog(gateway.db.engine)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) collecting what it receives."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, _server, _session, envelope):
            from email import message_from_bytes, policy

            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def mail_app(gateway, smtp_server):
    """The app with SMTP pointed at the loopback server; yields (TestClient, inbox)."""
    from dataclasses import replace

    settings = replace(gateway.settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    mailing = Gateway(settings=settings, db=gateway.db, registry=gateway.registry)
    with TestClient(create_app(mailing)) as http:
        yield http, smtp_server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, skip what does not depend on the database engine (CLI
    scaffolding, scripts, process signals): the SQLite pass covers it."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="engine-agnostic: covered by the SQLite pass")
    for item in items:
        if item.get_closest_marker("engine_agnostic") is not None:
            item.add_marker(skip)
