"""Fields the activity history adds to the contacts module's ``Contact`` (through the
calendar's ``crm_type_fields``): its latest interactions and its timeline, present only
where the calendar module is on. Each costs one statement per source for a whole page of
contacts (``CallerContext.nested_loader`` fetches for every contact the operation read)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    Connection,
    RequestContext,
    TypeField,
    check_filterable_fields,
)
from plugins.calendar.history import timeline
from plugins.calendar.history.inputs import SORT_READS
from plugins.calendar.history.models import Interaction
from plugins.calendar.history.types import (
    InteractionType,
    TimelineEntry,
    TimelinePage,
    prime_rows,
    timeline_connection,
)
from plugins.calendar.history.window import TimelineEvent
from plugins.contacts.models import Contact
from plugins.contacts.types import ContactNode

Ctx = Info[RequestContext, None]

#: The most interactions ``Contact.interactions`` returns per contact (the full list is the
#: paginated ``interactions(contactId)``).
MAX_NESTED = 100


def interactions_of_contacts(
    ctx: RequestContext, contact_ids: list[int], first: int
) -> dict[int, list[Interaction]]:
    """The ``first`` latest interactions of each contact, for a page of contacts in one
    statement (a window numbers each contact's interactions); the join to the contact
    carries its visibility."""
    ranked = (
        select(Interaction)
        .join(Contact, Interaction.contact_id == Contact.id)
        .where(Interaction.contact_id.in_(contact_ids))
        .add_columns(
            func.row_number()
            .over(
                partition_by=Interaction.contact_id,
                order_by=(Interaction.occurred_at.desc(), Interaction.id.desc()),
            )
            .label("rank")
        )
        .subquery()
    )
    row = aliased(Interaction, ranked)
    rows = list(
        ctx.session.scalars(
            select(row).where(ranked.c.rank <= first).order_by(row.contact_id, ranked.c.rank)
        )
    )
    prime_rows(ctx, rows)
    found: dict[int, list[Interaction]] = defaultdict(list)
    for one in rows:
        found[one.contact_id].append(one)
    return {contact_id: found.get(contact_id, []) for contact_id in contact_ids}


def _first(first: int) -> None:
    if not 0 <= first <= MAX_NESTED:  # refused, never truncated
        raise BadUserInput(f"first must be between 0 and {MAX_NESTED}", field="first")


@strawberry.field(
    name="interactions",
    description="This contact's latest interactions, newest first: at most `first` (up to "
    "100). The full, paginated list is `interactions(contactId)`.",
)
def contact_interactions(root: ContactNode, info: Ctx, first: int = 20) -> list[InteractionType]:
    ctx = info.context
    _first(first)
    check_filterable_fields(ctx.access, "Interaction", set(SORT_READS))
    loader = ctx.nested_loader(
        f"calendar.contact_interactions:{first}",
        Contact,
        lambda ids: interactions_of_contacts(ctx, ids, first),
    )
    return [InteractionType(record=r) for r in loader.get(root.record.id) or []]


def timelines_of_contacts(
    ctx: RequestContext, contact_ids: list[int], first: int, kinds: list[str] | None
) -> dict[int, Connection[TimelineEntry]]:
    """The first page of each contact's timeline; one statement per source for them all,
    and one page object so that the entries' records load once for every contact."""
    window = timeline.window_of(contact_ids, first, None, kinds)
    per_contact = timeline.events(ctx, window)
    shown: list[TimelineEvent] = [e for events in per_contact.values() for e in events[:first]]
    page = TimelinePage(ctx, shown)
    return {
        cid: timeline_connection(page, events, first, None) for cid, events in per_contact.items()
    }


@strawberry.field(
    name="timeline",
    description="The first page of this contact's timeline, newest first (at most `first`, "
    "up to 100; `kinds` keeps only those kinds). Continue with "
    "`contactTimeline(contactId, after: pageInfo.endCursor)`.",
)
def contact_timeline(
    root: ContactNode, info: Ctx, first: int = 20, kinds: list[str] | None = None
) -> Connection[TimelineEntry]:
    ctx = info.context
    _first(first)
    key = f"calendar.contact_timeline:{first}:{sorted(kinds) if kinds is not None else None}"
    loader = ctx.nested_loader(
        key, Contact, lambda ids: timelines_of_contacts(ctx, ids, first, kinds)
    )
    found: Any = loader.get(root.record.id)
    return (
        found if found is not None else timeline_connection(TimelinePage(ctx, []), [], first, None)
    )


FIELDS = [TypeField("Contact", contact_interactions), TypeField("Contact", contact_timeline)]
