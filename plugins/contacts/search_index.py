"""The search's trigram index: which contacts may hold a word, looked up in an index that
grows with the matches rather than with the table, then tested exactly with ``LIKE``.

``Contact.search_text`` is every searched column of the contact joined with spaces
(``services.refresh_search``; folding folded text changes nothing), and a search word holds
no space, so a word found in any one column is found in ``search_text``. One index over
``search_text`` therefore narrows every search — the per-field one of callers whose profile
hides some fields included — and the ``LIKE`` on the readable columns stays the exact test
of the candidates: the index decides how fast, never what matches.

* PostgreSQL: ``pg_trgm`` GIN indexes on ``search_text`` and ``search_company_name``;
  ``LIKE '%word%'`` uses them as it is (revision ``contacts_0006``).
* SQLite: the FTS5 table ``textsearch_contacts`` (``trigram`` tokenizer, external content
  ``contacts.search_text``, kept by triggers); a phrase of the word finds the rows whose
  text holds it.

A word of fewer than 3 characters has no trigram to look up: it is tested with ``LIKE``
alone, a scan of the rows the other conditions leave (correct, as slow as before).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, any_, column, func, or_, select, table

#: Characters of the shortest word the trigram indexes can find.
MIN_INDEXED = 3
FTS_NAME = "textsearch_contacts"
#: The columns with a ``pg_trgm`` GIN index of their own: the search text, and the company
#: name, which the search of a person's company reads alone (only companies have one: a
#: short index, not the matches of every contact whose text holds the word).
PG_INDEXED = frozenset({"search_text", "search_company_name"})
#: The SQLite FTS5 table (``rowid`` is the contact's id); the column named like the table
#: is FTS5's handle for a ``MATCH`` over the whole row.
FTS = table(FTS_NAME, column("rowid", Integer), column(FTS_NAME))


def fts_phrase(word: str) -> str:
    """``word`` as an FTS5 string: one phrase, every character literal."""
    return '"' + word.replace('"', '""') + '"'


def contains_word(
    dialect: str, row_id: Any, text: Any, columns: Sequence[Any], word: str
) -> ColumnElement[bool]:
    """``word`` appears in one of ``columns`` of a contacts row (the entity or an alias),
    whose id is ``row_id`` and whose ``search_text`` is ``text``; ``columns`` may be
    ``[text]`` (the caller may read every searched field)."""
    exact = or_(*(c.contains(word, autoescape=True) for c in columns))
    if len(word) < MIN_INDEXED:
        return exact
    if dialect == "postgresql":
        if len(columns) == 1 and columns[0].key in PG_INDEXED:
            return exact  # an indexed column itself
        return and_(text.contains(word, autoescape=True), exact)
    if dialect == "sqlite":
        candidates = select(FTS.c.rowid).where(FTS.c[FTS_NAME].bool_op("MATCH")(fts_phrase(word)))
        return and_(row_id.in_(candidates), exact)
    return exact


def in_ids(dialect: str, column: Any, ids: Select[Any]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(ARRAY(ids))``: an uncorrelated
    array computed once, which an index scan can take, so an ``OR`` of it and the trigram
    index becomes a ``BitmapOr`` of two index scans (``IN (subquery)`` is a hashed subplan
    tested on every row: a scan)."""
    if dialect == "postgresql":
        return column == any_(func.array(ids.scalar_subquery()))
    return column.in_(ids)
