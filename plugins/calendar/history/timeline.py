"""A contact's timeline: its interactions, its tasks (created, completed) and the events
other modules report through ``crm_timeline_events``, merged newest first and paged by a
keyset cursor. Every source is one statement for any number of contacts (a page of
contacts asks once), so the statements per page do not grow with the page size."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from gateway.sdk import BadUserInput, CallerContext, unreadable_fields
from plugins.calendar.history.models import Interaction
from plugins.calendar.history.window import (
    TimelineEvent,
    TimelinePosition,
    TimelineWindow,
    newest_first,
)
from plugins.calendar.models import Task, TaskStatus
from plugins.contacts.models import Contact

INTERACTION = "interaction"
TASK_CREATED = "task.created"
TASK_COMPLETED = "task.completed"
#: Most entries one page may hold.
MAX_PAGE = 100
DEFAULT_PAGE = 20
#: Longest kind name a filter may give, and most kinds.
MAX_KIND = 60
MAX_KINDS = 50


def encode(position: TimelinePosition) -> str:
    payload = ["tl", position.at.isoformat(), position.kind, position.id]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode(cursor: str) -> TimelinePosition:
    """A cursor :func:`encode` wrote; BAD_USER_INPUT on anything else (clients can forge)."""
    try:
        tag, at, kind, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(at)
        if (
            tag != "tl"
            or moment.tzinfo is None
            or not isinstance(kind, str)
            or not 0 < len(kind) <= MAX_KIND
            or not isinstance(pk, int)
            or isinstance(pk, bool)
            or not 0 <= pk < 2**63
        ):
            raise ValueError("not a timeline cursor")
        return TimelinePosition(moment.astimezone(UTC), kind, pk)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadUserInput("not a valid cursor", field="after") from exc


def window_of(
    contact_ids: Iterable[int],
    first: int | None,
    after: str | None,
    kinds: Sequence[str] | None,
) -> TimelineWindow:
    """The window a page asks for; one more entry per contact than shown tells whether a
    next page exists."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise BadUserInput(f"first must be between 0 and {MAX_PAGE}", field="first")
    wanted: frozenset[str] | None = None
    if kinds is not None:
        if len(kinds) > MAX_KINDS or any(not 0 < len(k) <= MAX_KIND for k in kinds):
            raise BadUserInput(
                f"at most {MAX_KINDS} kinds of 1 to {MAX_KIND} characters", field="kinds"
            )
        wanted = frozenset(kinds)
    return TimelineWindow(
        contact_ids=tuple(sorted(set(contact_ids))),
        limit=size + 1,
        kinds=wanted,
        after=decode(after) if after else None,
    )


def _own_events(ctx: CallerContext, window: TimelineWindow) -> list[TimelineEvent]:
    """The calendar's sources. A kind whose date field (or the task's link to its contact)
    the caller's field rules hide is left out: its entries would show that value."""
    found: list[TimelineEvent] = []
    if not unreadable_fields(ctx, "Interaction", ["occurredAt"]):
        found += window.collect(
            ctx,
            INTERACTION,
            # the join carries the contacts' visibility (service.visible)
            select().select_from(Interaction).join(Contact, Interaction.contact_id == Contact.id),
            contact=Interaction.contact_id,
            at=Interaction.occurred_at,
            id=Interaction.id,
        )
    hidden = unreadable_fields(ctx, "Task", ["contact", "createdAt", "completedAt"])
    if "contact" not in hidden:
        if "createdAt" not in hidden:
            found += window.collect(
                ctx,
                TASK_CREATED,
                select().select_from(Task),
                contact=Task.contact_id,
                at=Task.created_at,
                id=Task.id,
            )
        if "completedAt" not in hidden:
            found += window.collect(
                ctx,
                TASK_COMPLETED,
                select().select_from(Task).where(Task.status == TaskStatus.DONE),
                contact=Task.contact_id,
                at=Task.completed_at,
                id=Task.id,
            )
    return found


def events(ctx: CallerContext, window: TimelineWindow) -> dict[int, list[TimelineEvent]]:
    """Each contact's events in the window, newest first, at most ``window.limit``."""
    every = _own_events(ctx, window)
    for answer in ctx.hooks.crm_timeline_events(context=ctx, window=window):
        every.extend(answer or ())
    per_contact: dict[int, list[TimelineEvent]] = defaultdict(list)
    for event in newest_first(every):
        kept = per_contact[event.contact_id]
        if len(kept) < window.limit and window.wants(event.kind):
            kept.append(event)
    return {cid: per_contact.get(cid, []) for cid in window.contact_ids}


def visible_contact(ctx: CallerContext, contact_id: int) -> bool:
    return ctx.session.get(Contact, contact_id) is not None


def known_kinds() -> tuple[str, ...]:
    return (INTERACTION, TASK_CREATED, TASK_COMPLETED)
