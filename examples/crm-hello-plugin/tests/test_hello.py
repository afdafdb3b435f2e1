"""How a partner tests a plugin: a real gateway with the plugin installed, over HTTP."""

from __future__ import annotations

import crm_hello
import pytest
from starlette.testclient import TestClient

from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database
from gateway.identity import services as identity
from gateway.plugins import build_registry
from gateway.testing import GraphQLClient, temporary_database


@pytest.fixture
def login(tmp_path):
    """Sign in as ``greeter@t1.test`` (Standard holds ``hello.greet``) or ``plain@t2.test``
    (Standard without it)."""
    with temporary_database(tmp_path) as url:
        settings = Settings(data_dir=tmp_path, database_url=url, password_hash_profile="fast")
        registry = build_registry([crm_hello], entry_points=False)
        db = Database(url)
        migrate.upgrade(db.engine, registry)
        with db.transaction() as s:
            for slug, email, held in (("t1", "greeter", ["hello.greet"]), ("t2", "plain", [])):
                tenant = identity.create_tenant(s, slug, slug.upper(), standard_permissions=held)
                identity.create_user(
                    s,
                    tenant_id=tenant.id,
                    email=f"{email}@{slug}.test",
                    password="password-1",
                    display_name=email,
                    profile=identity.get_profile(s, tenant.id, "Standard"),
                    hash_profile="fast",
                )
        gateway = Gateway(settings=settings, db=db, registry=registry)
        with TestClient(create_app(gateway)) as http:
            yield lambda email: GraphQLClient(http).login(email, "password-1")


def test_hello_greets_from_the_callers_tenant(login):
    assert login("greeter@t1.test")('{ hello(name: "Ana") }').data == {
        "hello": "Hello, Ana, from t1!"
    }


def test_hello_needs_the_permission_it_declares(login):
    r = login("plain@t2.test")('{ hello(name: "Ana") }')
    assert r.codes == ["FORBIDDEN"]
    assert r.errors[0]["extensions"]["permission"] == "hello.greet"
