"""``/healthz`` (the process answers) and ``/readyz`` (database reachable, migrations
current, job engine reachable), as an orchestrator probes them."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.db import Database
from gateway.testing import temporary_database


def probe(gateway: Gateway, path: str = "/readyz") -> tuple[int, dict]:
    with TestClient(create_app(gateway)) as http:
        r = http.get(path)
        return r.status_code, r.json()


def test_a_migrated_database_is_ready(app, gateway):
    r = app.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}
    if gateway.db.is_sqlite:  # the suite runs jobs itself (CRM_JOBS_IN_PROCESS=0)
        assert body["checks"]["jobs"] == {"ok": True, "engine": "external worker"}
    else:
        assert body["checks"]["jobs"] == {"ok": True, "engine": "procrastinate", "workers": 0}
    assert app.get("/healthz").json() == {"status": "ok"}


def test_an_unreachable_database_is_not_ready_but_alive(gateway, tmp_path: Path):
    lost = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}")
    gone = Gateway(settings=gateway.settings, db=lost, registry=gateway.registry)
    status, body = probe(gone)
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"]["database"] == {"ok": False, "problem": "the database is unreachable"}
    assert not body["checks"]["migrations"]["ok"] and not body["checks"]["jobs"]["ok"]
    assert probe(gone, "/healthz") == (200, {"status": "ok"})


def test_pending_migrations_are_not_ready_until_upgraded(gateway, tmp_path: Path):
    with temporary_database(tmp_path, os.environ.get("TEST_DATABASE_URL")) as url:
        fresh = Database(url)
        try:
            behind = Gateway(settings=gateway.settings, db=fresh, registry=gateway.registry)
            status, body = probe(behind)
            assert status == 503
            migrations = body["checks"]["migrations"]
            assert migrations["ok"] is False and "crm-gateway db upgrade" in migrations["problem"]
            assert "core_0001" in migrations["pending"]
            assert body["checks"]["database"] == {"ok": True}
            migrate.upgrade(fresh.engine, gateway.registry)
            assert probe(behind)[0] == 200
        finally:
            fresh.dispose()


def test_the_in_process_job_runner_must_run(gateway):
    if not gateway.db.is_sqlite:
        pytest.skip("SQLite runs jobs in process")
    running = Gateway(
        settings=replace(gateway.settings, jobs_in_process=True, job_poll_seconds=0.05),
        db=gateway.db,
        registry=gateway.registry,
    )
    app = create_app(running)
    with TestClient(app) as http:
        assert http.get("/readyz").json()["checks"]["jobs"] == {"ok": True, "engine": "in-process"}
        app.state.readiness.runner.stop()  # as if the runner thread had died
        r = http.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["jobs"]["problem"] == "the job runner stopped"


def test_postgresql_needs_the_job_engines_schema_and_counts_live_workers(gateway, tmp_path):
    if gateway.db.is_sqlite:
        pytest.skip("PostgreSQL runs jobs on procrastinate")
    with gateway.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 hour')"
            )
        )
    assert probe(gateway)[1]["checks"]["jobs"] == {
        "ok": True,
        "engine": "procrastinate",
        "workers": 1,
    }
    with temporary_database(tmp_path, os.environ["TEST_DATABASE_URL"]) as url:
        fresh = Database(url)
        try:
            migrate.upgrade(fresh.engine, gateway.registry)
            with fresh.engine.begin() as conn:
                conn.execute(text("DROP FUNCTION procrastinate_defer_jobs_v1 CASCADE"))
            bare = Gateway(settings=gateway.settings, db=fresh, registry=gateway.registry)
            status, body = probe(bare)
            assert status == 503
            assert body["checks"]["jobs"] == {
                "ok": False,
                "engine": "procrastinate",
                "problem": "its schema is missing: run `crm-gateway db upgrade`",
            }
        finally:
            fresh.dispose()
