"""Operations with real processes: ``crm-gateway serve --workers 2`` adds up both workers'
metrics (prometheus-client's multiprocess mode) and logs JSON lines; ``crm-gateway worker
--metrics-port`` serves its job metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, TEST_PLUGINS
from tests.servers import free_port
from tests.test_jobs import job_of, start

pytestmark = pytest.mark.slow

TOKEN = "scrape-me"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def counter(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300  # start-up only: slow on a busy 2-core machine
    while True:
        try:
            if httpx2.get(url, timeout=1, headers=AUTH).status_code in (200, 404):
                return
        except httpx2.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{proc.args} did not start:\n{log.read_text()}")
        time.sleep(0.2)


def env_for(gateway, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": gateway.settings.resolved_database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
        "PYTHONPATH": str(REPO),
        "CRM_METRICS_TOKEN": TOKEN,
        **extra,
    }


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_two_workers_add_up_their_metrics_and_log_json(gateway, demo, tmp_path: Path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by a previous run")
    port = free_port()
    log = tmp_path / "server.log"
    env = env_for(
        gateway,
        CRM_LOG_FORMAT="json",
        CRM_LOG_LEVEL="info",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", proc, log)
        deadline = time.monotonic() + 300  # both workers' start-up
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        login = httpx2.post(
            f"{base}/graphql",
            json={
                "query": "mutation LogIn($p: String!) { login(email: "
                '"rep1@demo.test", password: $p) { token } }',
                "variables": {"p": "demo-password"},
            },
            headers={"x-request-id": "login-req-7"},
        )
        token = login.json()["data"]["login"]["token"]
        # new connections, four at a time: the workers share the listening socket, and
        # one busy with a request leaves the next connection to the other
        requests = 24

        def ping(_: int) -> httpx2.Response:
            return httpx2.post(
                f"{base}/graphql",
                json={"query": "query ServedPing { me { user { id } } }"},
                headers={"authorization": f"Bearer {token}"},
                timeout=60,
            )

        with ThreadPoolExecutor(4) as pool:
            for r in pool.map(ping, range(requests)):
                assert r.status_code == 200 and "errors" not in r.json()
        assert httpx2.get(f"{base}/metrics").status_code == 401
        scraped = httpx2.get(f"{base}/metrics", headers=AUTH)
        assert scraped.status_code == 200
    finally:
        stop(proc)
    writers = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
    assert "1.db" not in writers  # the previous run's file was removed at start
    assert len(writers) >= 2, "both workers served requests and wrote their samples"
    served = counter(scraped.text, "crm_requests_total", operation="ServedPing", outcome="ok")
    assert served == requests  # whichever worker answered the scrape counted both
    statements = counter(scraped.text, "crm_request_statements_count", operation="ServedPing")
    assert statements == requests

    lines = log.read_text().splitlines()
    records = []
    for line in lines:
        if line.startswith("{"):
            records.append(json.loads(line))
        else:  # only the banner `serve` prints before uvicorn starts
            assert line.startswith(("GraphiQL:",)), line
    assert any(r["logger"].startswith("uvicorn") for r in records)
    requests_logged = [r for r in records if r["logger"] == "gateway.requests"]
    (sign_in,) = [r for r in requests_logged if r.get("operation") == "LogIn"]
    assert sign_in["request_id"] == "login-req-7" and sign_in["outcome"] == "ok"
    assert len([r for r in requests_logged if r.get("operation") == "ServedPing"]) == requests
    text = log.read_text()
    assert "demo-password" not in text and token not in text


def test_a_worker_serves_its_job_metrics(gateway, as_, tmp_path: Path):
    rep = as_("rep1")
    job_id = start(rep, "metered", 2)["job"]["id"]
    port = free_port()
    log = tmp_path / "worker.log"
    args = ["worker", "--metrics-port", str(port), "--heartbeat-seconds", "0.5"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            env=env_for(gateway, CRM_LOG_LEVEL="warning"),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_until_up(url, proc, log)
        deadline = time.monotonic() + 120
        while job_of(rep, job_id)["status"] != "SUCCEEDED":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert httpx2.get(url).status_code == 401
        scraped = httpx2.get(url, headers=AUTH)
    finally:
        stop(proc)
    assert scraped.status_code == 200
    runs = counter(scraped.text, "crm_job_runs_total", kind="notes.write", outcome="succeeded")
    assert runs >= 1
    assert "crm_jobs{" in scraped.text
