"""Pooled PostgreSQL connections are pinged only after an idle spell (gateway/pool_ping.py),
and one that died meanwhile is replaced without the caller noticing."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import text

from gateway import pool_ping
from gateway.db import Database

URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="PostgreSQL only (TEST_DATABASE_URL)")
psycopg = pytest.importorskip("psycopg")


def _pings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Empty statements (SQLAlchemy's ping) the driver is asked to send from now on."""
    sent: list[str] = []
    original = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if str(query).strip() in ("", ";"):
            sent.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return sent


def test_busy_connections_are_not_pinged_idle_ones_are(monkeypatch: pytest.MonkeyPatch) -> None:
    assert URL is not None
    db = Database(URL)
    try:
        with db.engine.connect() as c:
            c.execute(text("SELECT 1"))
        pings = _pings(monkeypatch)
        with db.engine.connect() as c:  # back from the pool at once: no ping
            c.execute(text("SELECT 2"))
        assert pings == []
        monkeypatch.setattr(pool_ping, "PING_AFTER_IDLE", -1.0)
        with db.engine.connect() as c:  # "idle" for longer than allowed: pinged
            c.execute(text("SELECT 3"))
        assert len(pings) == 1
    finally:
        db.dispose()


def test_a_connection_killed_while_idle_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    assert URL is not None
    db = Database(URL)
    try:
        with db.engine.connect() as c:
            pid = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer = Database(URL)
        try:
            with killer.engine.connect() as k:
                k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        finally:
            killer.dispose()
        monkeypatch.setattr(pool_ping, "PING_AFTER_IDLE", -1.0)
        with db.engine.connect() as c:
            assert c.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        db.dispose()
