"""Storage: migrations match the models; SQLite runs with WAL, busy timeout, foreign keys and
BEGIN IMMEDIATE for writes; timestamps come back timezone-aware UTC."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, select, text

from gateway import migrate
from gateway.db import Base, normalise_url
from gateway.tenancy.models import Tenant


def test_migrations_produce_exactly_the_models(migrated, registry):
    # The registry's models only: Base.metadata also holds those of any plugin imported by
    # another test (or installed in the environment and discovered there).
    models = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in registry.sorted_tables:
        table.to_metadata(models)
    with migrated.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": migrate.include_name})
        diff = compare_metadata(context, models)
    assert diff == []
    assert migrate.pending(migrated.engine, registry) == set()


def test_each_plugin_has_its_own_branch(registry):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(registry))
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    assert {"core", "notes", "audit"} <= labels


def test_upgrade_is_idempotent(migrated, registry):
    migrate.upgrade(migrated.engine, registry)
    assert migrate.pending(migrated.engine, registry) == set()


def test_timestamps_are_timezone_aware_utc(gateway):
    with gateway.db.transaction() as s:
        s.add(Tenant(slug="t", name="T"))
    with gateway.db.reading() as s:
        created = s.scalar(select(Tenant.created_at))
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    with pytest.raises(Exception, match="naive datetime"), gateway.db.transaction() as s:
        s.add(Tenant(slug="u", name="U", created_at=datetime(2026, 1, 1)))
    assert datetime.now(UTC) >= created


def test_sqlite_pragmas(gateway):
    if not gateway.db.is_sqlite:
        pytest.skip("SQLite only")
    with gateway.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_sqlite_write_sessions_take_the_write_lock_at_begin(gateway):
    if not gateway.db.is_sqlite:
        pytest.skip("SQLite only")
    path = gateway.db.engine.url.database
    with gateway.db.session(write=True) as session:
        session.execute(select(Tenant.id))  # BEGIN IMMEDIATE: the write lock is ours already
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with gateway.db.session() as session:
        session.execute(select(Tenant.id))  # plain BEGIN: readers never block writers
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_postgres_urls_use_psycopg3():
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_read_sessions_refuse_writes(gateway, demo):
    """Queries use read sessions (no transaction on PostgreSQL): writing through one is a
    bug, refused whether it is a flush or a statement."""
    import pytest
    from sqlalchemy import update

    from gateway.identity.models import User

    with gateway.db.reading() as session:
        with pytest.raises(RuntimeError, match="read session"):
            session.execute(update(User).values(display_name="x"))
        user = session.get(User, demo["demo"].users["rep1@demo.test"].id)
        user.display_name = "changed"
        with pytest.raises(RuntimeError, match="read session"):
            session.flush()
