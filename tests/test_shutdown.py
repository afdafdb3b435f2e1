"""Graceful shutdown of ``crm-gateway serve``: on SIGTERM a request in flight finishes,
new connections are refused, and the app shuts down (job runner stopped, database
closed) before the process exits."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx2
import pytest

from tests.servers import serve

pytestmark = [pytest.mark.slow, pytest.mark.engine_agnostic]


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path):
    env = {
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PLUGINS": "tests.plugins.slow",
        "CRM_LOG_LEVEL": "info",
    }
    with (
        (tmp_path / "server.log").open("w+") as log,
        serve(tmp_path, "--shutdown-seconds", "20", env=env, probe="/readyz", log=log) as (
            base,
            proc,
        ),
    ):
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
