"""Graceful shutdown of ``crm-gateway serve``: on SIGTERM a request in flight finishes,
new connections are refused, and the app shuts down (job runner stopped, database
closed) before the process exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from tests.conftest import REPO
from tests.test_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.engine_agnostic]


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PLUGINS": "tests.plugins.slow",
        "PYTHONPATH": str(REPO),
        "CRM_LOG_LEVEL": "info",
    }
    env.pop("DATABASE_URL", None)
    log = (tmp_path / "server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--shutdown-seconds", "20"],
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
                if httpx2.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start:\n{log.read()}")
            time.sleep(0.2)
        answers: list[httpx2.Response] = []
        slow = threading.Thread(
            target=lambda: answers.append(
                httpx2.get(f"{base}/slow-test/wait?seconds=2", timeout=30)
            )
        )
        slow.start()
        time.sleep(0.7)  # the request is in flight
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx2.TransportError):
            httpx2.get(f"{base}/healthz", timeout=2)
        slow.join(30)
        assert [(a.status_code, a.json()) for a in answers] == [(200, {"waited": 2.0})]
        # uvicorn re-raises the signal once it has shut down cleanly (exit status -15).
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
        log.seek(0)
        output = log.read()
        assert "Waiting for application shutdown." in output
        assert "Application shutdown complete." in output, output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
