"""HTTP load: real server processes and a load generator.

``wrk`` (Debian package ``wrk``) when installed, else a small asyncio + httpx2 generator
(``--load-tool python``). Both keep ``concurrency`` connections busy for a fixed time and
report requests per second and p50/p99 latency. On a small machine the load generator shares
the CPUs with the server: wrk needs much less CPU per request than a Python client, so the
figures of the two tools are not comparable with each other.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2


@dataclass
class LoadResult:
    tool: str
    concurrency: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path, port: int, start_timeout: float = 60
) -> Iterator[str]:
    """Start a server process, wait for ``/healthz`` (at most ``start_timeout`` s: more on a
    loaded machine), yield its base URL, stop it."""
    with server_process(argv, env, cwd, log, port, start_timeout) as (base, _proc):
        yield base


@contextmanager
def server_process(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path, port: int, start_timeout: float = 60
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`server`, yielding its process too (to read its CPU time, to profile it)."""
    base = f"http://127.0.0.1:{port}"
    with log.open("w+") as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    out.seek(0)
                    raise RuntimeError(f"{argv[:4]} did not start:\n{out.read()}")
                time.sleep(0.2)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bearer(base: str, email: str, password: str, login: str) -> dict[str, str]:
    """The ``Authorization`` header of ``email`` signed in on the gateway at ``base``
    (``login``: the sign-in mutation, :data:`gateway.testing.LOGIN`)."""
    r = httpx2.post(
        f"{base}/graphql",
        json={"query": login, "variables": {"e": email, "p": password}},
        timeout=60,
    )
    return {"Authorization": f"Bearer {r.json()['data']['login']['token']}"}


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if m is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m[1]) * _UNIT[m[2]]


def parse_wrk(output: str, concurrency: int) -> LoadResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", output, re.M)
    if done is None or p50 is None or p99 is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    return LoadResult(
        "wrk",
        concurrency,
        int(done[1]),
        _ms(done[2] + done[3]) / 1000,
        errors,
        _ms(p50[1]),
        _ms(p99[1]),
    )


def run_wrk(
    url: str,
    body: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    workdir: Path,
    timeout: float | None = None,
) -> LoadResult:
    """``timeout``: wrk's per-request timeout in seconds (its default is 2 s; a slower
    answer counts as an error and is left out of the latencies)."""
    script = workdir / f"wrk-post-{os.getpid()}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{body}]==]"]
    lines += [f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(int(seconds), 1)}s",
                "--latency",
                *([f"--timeout={max(int(timeout), 1)}s"] if timeout else []),
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink(missing_ok=True)
    return parse_wrk(out, concurrency)


async def _python_load(
    url: str, body: str, headers: dict[str, str], concurrency: int, seconds: float
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    content = body.encode()
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as http:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await http.post(url, content=content, headers=headers)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return LoadResult(
        "python",
        concurrency,
        len(latencies),
        elapsed,
        errors,
        1000 * latencies[len(latencies) // 2],
        1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


def tool_for(choice: str) -> str:
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), use --load-tool python")
    return choice


def load(
    tool: str,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    workdir: Path,
    timeout: float | None = None,
) -> LoadResult:
    body = json.dumps(payload)
    headers = {"Content-Type": "application/json", **headers}
    if tool == "wrk":
        return run_wrk(url, body, headers, concurrency, seconds, workdir, timeout)
    return asyncio.run(_python_load(url, body, headers, concurrency, seconds))
