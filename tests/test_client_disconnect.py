"""A client that disconnects mid-request (its body half sent, or its answer not awaited)
leaves no "Exception in ASGI application" traceback in a real uvicorn server's log, and
the server keeps answering."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.conftest import TEST_PLUGINS
from tests.servers import serve

pytestmark = [pytest.mark.slow, pytest.mark.engine_agnostic]  # the ASGI layer

QUERY = "{ contacts(first: 50) { edges { node { id displayName customFields { key } } } } }"


@pytest.fixture
def server(gateway, tmp_path: Path):
    """``crm-gateway serve --demo`` in a process of its own, its stderr in a file."""
    env = {
        "DATABASE_URL": gateway.settings.resolved_database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
        "CRM_LOG_LEVEL": "info",
    }
    with (
        (tmp_path / "stderr.log").open("w+") as stderr,
        serve(tmp_path, "--demo", env=env, log=stderr, stdout=subprocess.DEVNULL) as (base, _),
        httpx2.Client(base_url=base, timeout=30) as http,
    ):
        yield http, int(base.rsplit(":", 1)[1]), stderr


def _request(port: int, token: str, body: bytes, send: int) -> socket.socket:
    """A raw connection that has sent the request's head and ``send`` bytes of its body."""
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(head + body[:send])
    return conn


def test_a_client_gone_mid_request_logs_no_traceback(server):
    http, port, stderr = server
    client = GraphQLClient(http).login("manager@demo.test")
    assert client.token is not None
    body = json.dumps({"query": QUERY}).encode()
    for _ in range(3):
        # the body half sent, then the connection closed (the server is reading the body)
        conn = _request(port, client.token, body, len(body) // 2)
        time.sleep(0.1)
        conn.close()
        # the whole request sent, then the connection reset before the answer
        conn = _request(port, client.token, body, len(body))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    # The server still answers, and has had time to notice every disconnect.
    for _ in range(3):
        assert client(QUERY).errors == []
    time.sleep(0.5)
    stderr.seek(0)
    log = stderr.read()
    assert "Uvicorn running" in log or "Application startup complete" in log, log
    assert "Exception in ASGI application" not in log, log
    assert "Traceback" not in log, log
