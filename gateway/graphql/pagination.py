"""Relay-style connections with keyset pagination: stable under inserts, and each page costs
an index range scan whatever its position (no OFFSET)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from gateway.errors import BadUserInput
from gateway.graphql.common import MAX_KEY

T = TypeVar("T")


class Keyed(Protocol):
    """A mapped model: its ``id`` column is the keyset's tie-breaker."""

    id: Any


M = TypeVar("M", bound=Keyed)

#: ``selectinload(..., chunksize=BATCH)`` for relations of a page: SQLAlchemy's default of
#: 500 keys per ``IN`` would split the relations of a full page (500 rows, plus the one
#: keyset pagination reads to know there is a next page) or of its nested collections (a
#: page's invoice lines) into several statements, so the statement count would grow with
#: the page size. Well below SQLite's and PostgreSQL's bound-parameter limits.
BATCH = 10_000


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "ASC"
    DESC = "DESC"


def encode_cursor(value: Any, pk: int) -> str:
    payload = ["t", value.isoformat(), pk] if isinstance(value, datetime) else ["s", value, pk]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, int]:
    """The sort value and id a cursor holds; BAD_USER_INPUT for anything :func:`encode_cursor`
    could not have written (cursors are opaque, but a client can forge one): an id that does
    not fit a 64-bit key, a non-finite or out-of-range number, a date-time without a zone,
    text with NUL or lone surrogates (no database column can hold them)."""
    try:
        kind, value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if kind == "t":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("a date-time cursor carries its zone")
            value = value.astimezone(UTC)  # as stored; OverflowError at the ends of time
        if not _fits(pk) or not (_fits(value) or _sane_text(value) or kind == "t"):
            raise ValueError("a cursor holds a scalar sort value and an id")
        return value, pk
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadUserInput("not a valid cursor", field="after") from exc


def _fits(value: Any) -> bool:
    """An integer the key and integer columns can hold (``MAX_KEY``: 32-bit on PostgreSQL;
    booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_KEY


def _sane_text(value: Any) -> bool:
    return isinstance(value, str) and _UNSTORABLE.search(value) is None


#: NUL and lone surrogates: PostgreSQL text cannot hold them, psycopg cannot encode them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def after_cursor(sort_column: Any, id_column: Any, cursor: str, descending: bool) -> Any:
    """The keyset condition "after this cursor"; BAD_USER_INPUT for a cursor of another order.

    A cursor carries the sort column's value: one taken from a list sorted by name cannot
    continue a list sorted by date (it would compare text with timestamps).
    """
    value, pk = decode_cursor(cursor)
    if not isinstance(value, sort_column.type.python_type):
        raise BadUserInput("this cursor belongs to a list in another order", field="after")
    bound = tuple_(sort_column, id_column)
    return bound < (value, pk) if descending else bound > (value, pk)


@dataclass
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool

    @property
    def info(self) -> PageInfo:
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.has_previous,
            start_cursor=self.cursors[0] if self.cursors else None,
            end_cursor=self.cursors[-1] if self.cursors else None,
        )


def keyset_page(
    session: Session,
    stmt: Select[M],
    sort_column: Any,
    id_column: Any,
    *,
    first: int,
    after: str | None,
    descending: bool = False,
) -> Page[M]:
    """The next ``first`` rows of ``stmt`` ordered by (sort column, id) after ``after``."""
    if after is not None:
        stmt = stmt.where(after_cursor(sort_column, id_column, after, descending))
    order = (sort_column.desc(), id_column.desc()) if descending else (sort_column, id_column)
    rows = list(session.scalars(stmt.order_by(*order).limit(first + 1)).unique())
    has_next = len(rows) > first
    rows = rows[:first]
    sort_key = sort_column.key
    cursors = [encode_cursor(getattr(r, sort_key), r.id) for r in rows]
    return Page(rows=rows, cursors=cursors, has_next=has_next, has_previous=after is not None)
