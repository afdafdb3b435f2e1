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
def client(tmp_path):
    with temporary_database(tmp_path) as url:
        settings = Settings(data_dir=tmp_path, database_url=url, password_hash_profile="fast")
        registry = build_registry([crm_hello], entry_points=False)
        db = Database(url)
        migrate.upgrade(db.engine, registry)
        with db.transaction() as s:
            tenant = identity.create_tenant(s, "t1", "Tenant One")
            identity.create_user(
                s,
                tenant_id=tenant.id,
                email="a@t1.test",
                password="password-1",
                display_name="A",
                profile=identity.get_profile(s, tenant.id, "Standard"),
                hash_profile="fast",
            )
        gateway = Gateway(settings=settings, db=db, registry=registry)
        with TestClient(create_app(gateway)) as http:
            yield GraphQLClient(http).login("a@t1.test", "password-1")


def test_hello_greets_from_the_callers_tenant(client):
    assert client('{ hello(name: "Ana") }').data == {"hello": "Hello, Ana, from t1!"}
