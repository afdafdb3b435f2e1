"""One declarative base and metadata for every module, and the engine/session plumbing.

Database work is synchronous SQLAlchemy executed in worker threads (see
docs/architecture.md, "Database work and the event loop"): each GraphQL operation runs in one
thread with one Session, so lazy loads and the ORM events that enforce visibility work as
documented, and the event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

import gateway.sqlite_ids  # noqa: F401  (registers SQLite's CREATE TABLE … AUTOINCREMENT)
from gateway import pool_ping

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model, kernel and plugins alike: one metadata, one naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def str_enum(cls: type[StrEnum]) -> Enum:
    """A ``StrEnum`` column stored as its values in a VARCHAR (portable, readable)."""
    return Enum(
        cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert(session: Session, model: Any) -> Any:
    """``INSERT`` into ``model`` in the session's dialect, so it takes ``on_conflict_do_nothing``
    / ``on_conflict_do_update`` (PostgreSQL and SQLite spell them alike): how rows that two
    transactions may both add first — defaults made on first use, counters — are added."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE (no RETURNING) and say how many rows it changed: the verdict of
    a compare-and-set (``UPDATE … WHERE used_at IS NULL`` claimed it, or someone was first).

    ``Session.execute`` is typed to answer a ``Result``; for these statements it is a
    ``CursorResult``, which has ``rowcount`` (SQLAlchemy's documented cast).
    """
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


def normalise_url(url: str) -> str:
    """Let operators write ``postgresql://``; we drive PostgreSQL with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for write transactions.

    pysqlite's own transaction handling starts transactions late and never as IMMEDIATE, so
    two writers can deadlock on the lock upgrade; we take over BEGIN (SQLAlchemy's documented
    recipe) and open write transactions with IMMEDIATE.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("crm_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _refuse_writes(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Read sessions (queries) must not write: writes go through a write session
    (``context.transaction()``), which is atomic and, on SQLite, takes the write lock."""
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise RuntimeError("a read session tried to write; use a write session")


def _refuse_write_statements(state: ORMExecuteState) -> None:
    """Nor may a read session run INSERT/UPDATE/DELETE statements (on PostgreSQL they would
    commit at once, outside any transaction)."""
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("a read session tried to write; use a write session")


class Database:
    """An engine plus two session factories: reads, and writes (``BEGIN IMMEDIATE`` on SQLite)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine = create_engine(self.url, **kwargs)
        if is_sqlite:
            _configure_sqlite(self.engine)
        else:  # instead of pool_pre_ping, which pinged on every checkout (pool_ping.py)
            pool_ping.install(self.engine)
        self.is_sqlite = is_sqlite
        # Reads on PostgreSQL run without an explicit transaction: under READ COMMITTED each
        # statement has its own snapshot either way, and BEGIN + ROLLBACK cost about a
        # millisecond per request (bench/RESULTS.md). Read sessions never write (see
        # _refuse_writes). SQLite keeps its read transaction: one snapshot for the operation.
        self.reader = (
            self.engine
            if is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._read = sessionmaker(bind=self.reader, expire_on_commit=False)
        event.listen(self._read, "before_flush", _refuse_writes)
        event.listen(self._read, "do_orm_execute", _refuse_write_statements)
        self._write = sessionmaker(
            bind=self.engine.execution_options(crm_write=True), expire_on_commit=False
        )

    def session(self, *, write: bool = False) -> Session:
        """A new session; the caller owns it (closes it, commits writes)."""
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write unit of work: commit on success, roll back on any exception."""
        with self.session(write=True) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.session() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
