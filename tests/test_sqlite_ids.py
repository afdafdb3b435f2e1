"""Ids are never reused (gateway.sqlite_ids): a deleted record's id stays its own, on SQLite
as on PostgreSQL, so a cached global ID, a queued job or the audit trail never comes to name
another record."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text

from gateway.bulk import _new_ids
from gateway.sqlite_ids import adopt_autoincrement, tables_without_autoincrement

CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id } errors { code message } } }"""
DELETE = "mutation($id: ID!) { deleteContact(id: $id) { deletedId errors { code } } }"
READ = "query($id: ID!) { contact(id: $id) { id displayName } }"


def _create(client, name: str) -> str:
    payload = client(CREATE, {"input": {"kind": "PERSON", "firstName": name}}).data
    assert payload["createContact"]["errors"] == [], payload
    return payload["createContact"]["contact"]["id"]


def test_a_deleted_records_id_is_not_given_again(as_) -> None:
    admin = as_("admin")
    newest = _create(admin, "Newest")  # the table's largest id: SQLite's rowid would reuse it
    assert admin(DELETE, {"id": newest}).data["deleteContact"]["errors"] == []
    following = _create(admin, "Following")
    assert following != newest
    # the old global ID still names nothing
    for who in ("rep1", "admin"):
        assert as_(who)(READ, {"id": newest}).data.get("contact") is None


def test_every_integer_keyed_table_has_a_counter_that_never_goes_back(gateway) -> None:
    if not gateway.db.is_sqlite:
        pytest.skip("PostgreSQL's sequences never go back")
    with gateway.db.engine.connect() as connection:
        assert tables_without_autoincrement(connection, sorted(gateway.registry.tables)) == []
        assert (
            connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'contacts'"))
            .upper()
            .count("AUTOINCREMENT")
        )


def test_tables_that_predate_it_are_rebuilt_keeping_rows_indexes_and_references(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as c:
        c.exec_driver_sql("PRAGMA foreign_keys=ON")
        c.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        c.exec_driver_sql("CREATE UNIQUE INDEX ix_parent_name ON parent (name)")
        c.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, "
            "parent_id INTEGER NOT NULL REFERENCES parent (id))"
        )
        c.exec_driver_sql("CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b))")
        c.exec_driver_sql("CREATE TABLE log (name TEXT)")
        c.exec_driver_sql(
            "CREATE TRIGGER parent_log AFTER INSERT ON parent BEGIN "
            "INSERT INTO log (name) VALUES (new.name); END"
        )
        c.exec_driver_sql("INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        c.exec_driver_sql("INSERT INTO child (id, parent_id) VALUES (1, 3)")
        c.exec_driver_sql("DELETE FROM parent WHERE id = 2")
    with engine.connect() as c:
        assert adopt_autoincrement(c, ["child", "pair", "parent"]) == ["child", "parent"]
        assert adopt_autoincrement(c, ["child", "pair", "parent"]) == []  # once
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT id, name FROM parent ORDER BY id").all() == [
            (1, "a"),
            (3, "c"),
        ]
        assert c.exec_driver_sql("SELECT parent_id FROM child").scalar() == 3
        indexes = {r[1] for r in c.exec_driver_sql("PRAGMA index_list(parent)")}
        assert "ix_parent_name" in indexes
        references = c.exec_driver_sql("PRAGMA foreign_key_list(child)").all()
        assert [(r[2], r[3], r[4]) for r in references] == [("parent", "parent_id", "id")]
        c.exec_driver_sql("INSERT INTO parent (name) VALUES ('d')")
        c.exec_driver_sql("DELETE FROM parent WHERE name = 'd'")
        c.exec_driver_sql("INSERT INTO parent (name) VALUES ('e')")
        assert c.exec_driver_sql("SELECT id FROM parent WHERE name = 'e'").scalar() == 5
        # its trigger survived the rebuild (the contacts' search index is kept by triggers)
        assert c.exec_driver_sql("SELECT name FROM log ORDER BY name").scalars().all() == [
            "a",
            "b",
            "c",
            "d",
            "e",
        ]
    engine.dispose()


def test_new_tables_get_the_counter_and_bulk_ids_follow_it(tmp_path) -> None:
    """A CREATE TABLE compiled for SQLite gets AUTOINCREMENT (no migration has to ask), and
    the ids a bulk insert takes in advance come after every id given, not after the largest
    one left."""
    metadata = MetaData()
    table = Table("things", metadata, Column("id", Integer, primary_key=True), Column("n", String))
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    metadata.create_all(engine)
    with engine.begin() as c:
        ddl = c.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'things'"))
        assert "AUTOINCREMENT" in ddl.upper()
        c.execute(table.insert(), [{"n": "a"}, {"n": "b"}, {"n": "c"}])
        c.execute(table.delete().where(table.c.id == 3))
        assert _new_ids(c, table, 2) == [4, 5]
        c.execute(table.insert(), [{"id": 4, "n": "d"}, {"id": 5, "n": "e"}])
        c.execute(table.delete().where(table.c.id >= 4))
        assert _new_ids(c, table, 1) == [6]
    engine.dispose()
