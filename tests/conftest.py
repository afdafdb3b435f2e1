"""Shared fixtures: a real database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL),
migrated once, emptied after every test; the ASGI app with two test-only plugins; a GraphQL
client that talks HTTP to it the way a frontend does."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Base, Database, normalise_url
from gateway.plugins import BUILTIN_PLUGINS, PluginRegistry, build_registry

TEST_PLUGINS = ("tests.plugins.notes", "tests.plugins.audit")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run: a temp SQLite file, or a new PostgreSQL database
    created on the server named by TEST_DATABASE_URL and dropped afterwards."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.sqlite3'}"
        return
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(server)).set(database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def registry() -> PluginRegistry:
    return build_registry(builtin=(*BUILTIN_PLUGINS, *TEST_PLUGINS), entry_points=False)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        password_hash_profile="fast",
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings, registry: PluginRegistry) -> Database:
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db.engine, registry)
    return db


def _empty(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def gateway(settings: Settings, registry: PluginRegistry, migrated: Database) -> Iterator[Gateway]:
    gw = Gateway(settings=settings, db=migrated, registry=registry)
    try:
        yield gw
    finally:
        _empty(migrated)


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
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GraphQLClient:
    """Talks GraphQL-over-HTTP to the ASGI app; remembers the bearer token after login."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.token: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Response:
        r = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers()
        )
        return Response(r.status_code, r.json() if r.headers.get("content-type", "").startswith("application/json") else {"raw": r.text})

    def login(self, email: str, password: str = "demo-password") -> GraphQLClient:
        r = self(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p)"
            " { token errors { code message } } }",
            {"e": email, "p": password},
        )
        payload = r.data["login"]
        assert payload["errors"] == [], payload
        self.token = payload["token"]
        return self


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
def demo(gateway: Gateway):
    from gateway.demo import seed_demo

    return {t.slug: t for t in seed_demo(gateway)}
