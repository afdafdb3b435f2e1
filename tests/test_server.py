"""A real ``crm-gateway serve --demo`` process (uvicorn, two workers), driven over HTTP from
this process the way a frontend would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.conftest import REPO, TEST_PLUGINS

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(gateway, tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": gateway.settings.resolved_database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
        "PYTHONPATH": str(REPO),
        "CRM_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start:\n{log.read()}")
            time.sleep(0.2)
        with httpx2.Client(base_url=base, timeout=30) as http:
            yield http, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


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
