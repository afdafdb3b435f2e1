"""A real ``crm-gateway serve --demo`` process (uvicorn, two workers), driven over HTTP from
this process the way a frontend would."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.conftest import TEST_PLUGINS
from tests.servers import serve

pytestmark = pytest.mark.slow


@pytest.fixture
def server(gateway, tmp_path: Path):
    env = {
        "DATABASE_URL": gateway.settings.resolved_database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
    }
    with (
        (tmp_path / "server.log").open("w+") as log,
        serve(tmp_path, "--demo", "--workers", "2", env=env, log=log) as (base, _),
        httpx2.Client(base_url=base, timeout=30) as http,
    ):
        yield http, log


def test_serve_demo_answers_login_then_me_over_http(server):
    http, log = server
    log.seek(0)
    banner = log.read()
    assert "GraphiQL: http://127.0.0.1:" in banner and "rep1@demo.test" in banner
    assert "demo-password" in banner
    client = GraphQLClient(http).login("manager@demo.test")
    # Several requests, spread over both workers: every worker honours the same token.
    for _ in range(6):
        me = client("{ me { user { email } tenant { slug } profile { kind } } }")
        assert me.errors == []
        assert me.data["me"] == {
            "user": {"email": "manager@demo.test"},
            "tenant": {"slug": "demo"},
            "profile": {"kind": "HIERARCHICAL"},
        }
    assert http.get("/graphql", headers={"accept": "text/html"}).status_code == 200
    assert client("mutation { logout { ok } }").data == {"logout": {"ok": True}}
    for _ in range(4):
        assert client("{ me { user { email } } }").codes == ["UNAUTHENTICATED"]
