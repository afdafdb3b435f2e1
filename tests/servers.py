"""Real ``crm-gateway serve`` processes for the tests that need one (HTTP over sockets,
several workers, shutdown, browsers): started on a free port, waited for, stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx2
import pytest

REPO = Path(__file__).resolve().parent.parent

#: How long a server may take to answer its probe. Start-up is seconds on an idle machine;
#: on a busy 2-core one (the suite's own workers, PostgreSQL) it has taken minutes. A
#: deadline for start-up only, never a timing the test asserts.
START_SECONDS = 300

#: Settings a developer's shell may hold that would point the server elsewhere.
INHERITED = ("DATABASE_URL", "CRM_DATA_DIR", "CRM_PLUGINS")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(
    directory: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    probe: str = "/healthz",
    log: IO[str] | None = None,
    stdout: int | IO[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m gateway serve --port P *args`` in ``directory``, with the environment
    minus :data:`INHERITED`, plus ``env``; yields (base URL, process) once ``probe``
    answers 200. Output goes to ``log`` (default ``server-P.log`` in ``directory``, shown
    if the server does not start); ``stdout`` separates standard output from it."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in INHERITED}
    environment.update({"PYTHONPATH": str(REPO), "CRM_LOG_LEVEL": "warning", **(env or {})})
    own = log is None
    out = log if log is not None else (directory / f"server-{port}.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), *args],
        env=environment,
        stdout=out if stdout is None else stdout,
        stderr=subprocess.STDOUT if stdout is None else out,
        cwd=directory,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx2.get(f"{base}{probe}", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out.seek(0)
                pytest.fail(f"server did not start:\n{out.read()}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if own:
            out.close()
