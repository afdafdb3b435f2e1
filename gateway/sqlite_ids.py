"""Ids are never reused, on SQLite too.

A plain SQLite ``INTEGER PRIMARY KEY`` hands out ``max(id) + 1``: delete the newest
contact and the next one created takes its id. Anything still holding the old id — a
frontend's cached global ID, a queued job's payload, a reminder, the audit trail, an
external calendar's event link — would then name a different record, possibly one its
holder may not see. PostgreSQL's sequences never go back; ``AUTOINCREMENT`` gives SQLite
the same guarantee (a counter in ``sqlite_sequence``).

* New tables: every ``CREATE TABLE`` compiled for SQLite whose key is one integer column
  gets ``AUTOINCREMENT`` (a compile hook, so kernel, module and partner migrations alike,
  and Alembic's batch rebuilds, need nothing).
* Tables created before this existed are rebuilt once by :func:`adopt_autoincrement`
  (run by :func:`gateway.migrate.upgrade`; a no-op when every table has it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Integer, Table, inspect, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable


def _keyed_by_integer(table: Table) -> bool:
    """One integer key column that is no foreign key (SQLite's condition for AUTOINCREMENT)."""
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        return False
    (column,) = columns
    return (
        isinstance(column.type, Integer)
        and not column.foreign_keys
        and column.autoincrement in (True, "auto")
    )


@compiles(CreateTable, "sqlite")
def _create_table(element: CreateTable, compiler: Any, **kw: Any) -> str:
    table = element.element
    if _keyed_by_integer(table):
        table.dialect_kwargs["sqlite_autoincrement"] = True
    return str(compiler.visit_create_table(element, **kw))


def tables_without_autoincrement(connection: Connection, names: list[str]) -> list[str]:
    """Those of ``names`` whose key is one integer column and which lack AUTOINCREMENT."""
    found = []
    inspector = inspect(connection)
    for name in names:
        sql = connection.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": name},
        )
        if sql is None or "AUTOINCREMENT" in sql.upper():
            continue
        key = inspector.get_pk_constraint(name)["constrained_columns"]
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        foreign = {c for fk in inspector.get_foreign_keys(name) for c in fk["constrained_columns"]}
        if len(key) == 1 and isinstance(columns[key[0]]["type"], Integer) and key[0] not in foreign:
            found.append(name)
    return found


def adopt_autoincrement(connection: Connection, names: list[str]) -> list[str]:
    """Rebuild the tables of ``names`` that lack AUTOINCREMENT (Alembic's batch "move and
    copy", which keeps rows, indexes and constraints; their triggers are put back), their
    counters starting after the largest id. Foreign keys are switched off for the rebuild,
    as SQLite's documented procedure for table changes asks, and checked afterwards.
    Returns the rebuilt tables."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    todo = tables_without_autoincrement(connection, names)
    if not todo:
        return []
    # PRAGMA foreign_keys is ignored inside a transaction, and the engine's connections
    # begin one for every statement (gateway.db): set it on the driver's connection.
    connection.commit()
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            operations = Operations(MigrationContext.configure(connection))
            for name in todo:
                # Alembic's copy keeps columns, keys and indexes, not triggers (the contacts'
                # search index is kept by some): they go with the old table, and come back.
                triggers = connection.scalars(
                    text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                    {"t": name},
                ).all()
                with operations.batch_alter_table(
                    name, recreate="always", table_kwargs={"sqlite_autoincrement": True}
                ):
                    pass
                for trigger in triggers:
                    connection.exec_driver_sql(trigger)
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
    return todo
