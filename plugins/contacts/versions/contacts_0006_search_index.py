"""contacts: a trigram index over the search text (pg_trgm GIN; SQLite FTS5 trigram)

The universal search matched every word with ``LIKE '%word%'``: a scan of the tenant's
contacts whatever the number of matches. ``search_text`` holds every searched field of the
contact (each per-field column is a substring of it), so one trigram index over it narrows
every search, also the per-field one of callers whose profile hides some fields; the
``LIKE`` stays as the exact test of the candidates (``plugins/contacts/search_index.py``).

* PostgreSQL: ``pg_trgm``'s GIN indexes on ``search_text`` and ``search_company_name``
  (a person's company is searched by its name alone), which ``LIKE '%word%'`` uses as it is.
* SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite >= 3.34) over
  ``contacts.search_text`` as external content (the index only, not a copy of the text),
  kept in step by triggers, so every path that writes contacts (the ORM, bulk ``INSERT``s,
  merges, deletes, a tenant's cascade) updates it. ``case_sensitive 1``: the text and the
  words are folded already, and the index must not fold what ``LIKE`` would not.

Objects named ``textsearch_*`` are left out of the model comparison (``gateway.migrate``):
the models cannot declare them.

Revision ID: contacts_0006
Revises: contacts_0005
Create Date: 2026-12-07 23:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = 'contacts_0006'
down_revision: str | Sequence[str] | None = 'contacts_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS = 'textsearch_contacts'
#: PostgreSQL: the search text, and the company name (a person's company is searched by it
#: alone; only companies have one, so its index is small).
PG_INDEXES = {
    'textsearch_contacts_trgm': 'search_text',
    'textsearch_contacts_company_trgm': 'search_company_name',
}
TRIGGERS = {
    'ai': f"""CREATE TRIGGER {FTS}_ai AFTER INSERT ON contacts BEGIN
  INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text);
END""",
    'ad': f"""CREATE TRIGGER {FTS}_ad AFTER DELETE ON contacts BEGIN
  INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END""",
    'au': f"""CREATE TRIGGER {FTS}_au AFTER UPDATE OF id, search_text ON contacts BEGIN
  INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text);
END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, column in PG_INDEXES.items():
            op.execute(f'CREATE INDEX {name} ON contacts USING gin ({column} gin_trgm_ops)')
        return
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5(search_text, content='contacts', "
        "content_rowid='id', tokenize='trigram case_sensitive 1')"
    )
    for statement in TRIGGERS.values():
        op.execute(statement)
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in PG_INDEXES:
            op.execute(f'DROP INDEX IF EXISTS {name}')
        return  # the extension may serve others: left installed
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {FTS}_{name}')
    op.execute(f'DROP TABLE IF EXISTS {FTS}')
