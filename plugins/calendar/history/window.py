"""What the timeline asks every source for, and what a source answers: the argument and
the result of the ``crm_timeline_events`` hook (``plugins/calendar/hookspecs.py``).

A timeline is ordered newest first by ``(at, kind, id)`` compared as a tuple, descending:
a page continues after the last entry of the previous one (keyset, no OFFSET). A source
(one kind of event of one table) returns, for each contact, at most ``limit`` events older
than that position, newest first. :meth:`TimelineWindow.collect` builds that statement
from the source's columns, so a module writes no pagination of its own; its statement is
an ORM statement, so the caller's record visibility applies to it as to any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, true

from gateway.sdk import CallerContext


@dataclass(frozen=True, order=True)
class TimelinePosition:
    """An entry's place in the timeline (the cursor of a page)."""

    at: datetime
    kind: str
    id: int


@dataclass(frozen=True)
class TimelineEvent:
    """One event a source reports about a contact.

    ``subject_type``/``subject_id`` name the record the event is about (a GraphQL type
    implementing ``Node`` and the record's id: ``"Invoice"``, 7), shown as the entry's
    ``subject``; ``id`` keeps entries of the same kind and instant apart (the event row's
    id, e.g. a stage change's). ``detail`` is a short text the source may add; it must show
    only what the caller may read.
    """

    kind: str
    contact_id: int
    at: datetime
    id: int
    subject_type: str | None = None
    subject_id: int | None = None
    detail: str | None = None

    @property
    def position(self) -> TimelinePosition:
        return TimelinePosition(self.at, self.kind, self.id)


@dataclass(frozen=True)
class TimelineWindow:
    """The events wanted: of ``contact_ids`` (all visible to the caller), of ``kinds``
    (``None``: every kind), at most ``limit`` per contact, older than ``after``."""

    contact_ids: tuple[int, ...]
    limit: int
    kinds: frozenset[str] | None = None
    after: TimelinePosition | None = None

    def wants(self, kind: str) -> bool:
        """Whether events of ``kind`` are asked for (skip the statement otherwise)."""
        return self.kinds is None or kind in self.kinds

    def older(self, kind: str, at: Any, id: Any) -> ColumnElement[bool]:
        """The condition on a source of ``kind`` that keeps the events after the cursor:
        ``(at, kind, id) < (after.at, after.kind, after.id)``, with ``kind`` a constant."""
        c = self.after
        if c is None:
            return true()
        if kind < c.kind:
            return at <= c.at
        if kind > c.kind:
            return at < c.at
        return or_(at < c.at, and_(at == c.at, id < c.id))

    def collect(
        self,
        context: CallerContext,
        kind: str,
        base: Select[Any],
        *,
        contact: Any,
        at: Any,
        id: Any,
        subject_type: str | None = None,
        subject_id: Any = None,
        detail: Any = None,
    ) -> list[TimelineEvent]:
        """Run one source: ``base`` (a ``select()`` with its joins and conditions, e.g.
        ``select().select_from(Invoice).where(Invoice.status == "PAID")``) plus the
        contact, the cursor, and at most ``limit`` rows per contact (a ``ROW_NUMBER``
        window), in one statement through the caller's session. ``subject_id`` defaults to
        ``id``; ``detail`` is an optional text column."""
        if not self.wants(kind) or not self.contact_ids:
            return []
        rank = func.row_number().over(partition_by=contact, order_by=(at.desc(), id.desc()))
        inner = (
            base.add_columns(
                contact.label("contact_id"),
                at.label("at"),
                id.label("id"),
                (subject_id if subject_id is not None else id).label("subject_id"),
                (detail if detail is not None else literal(None)).label("detail"),
                rank.label("rank"),
            )
            .where(contact.in_(self.contact_ids), at.is_not(None), self.older(kind, at, id))
            .subquery()
        )
        rows = context.session.execute(
            select(
                inner.c.contact_id, inner.c.at, inner.c.id, inner.c.subject_id, inner.c.detail
            ).where(inner.c.rank <= self.limit)
        )
        return [
            TimelineEvent(
                kind=kind,
                contact_id=row.contact_id,
                at=row.at,
                id=row.id,
                subject_type=subject_type,
                subject_id=row.subject_id,
                detail=row.detail,
            )
            for row in rows
        ]


def newest_first(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    return sorted(events, key=lambda e: e.position, reverse=True)
