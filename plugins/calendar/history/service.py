"""Interactions (issue 15 item 4): logging one on a contact, changing and deleting it, and
reading a contact's history. Free of GraphQL; every function takes a ``CallerContext``.

An interaction shares its contact's visibility: every read starts from :func:`visible`,
which joins the contact, so the session's visibility predicate on contacts (added to every
ORM statement) drops the interactions of contacts the caller may not see — in lists,
lookups by id, the timeline and nested fields alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    ChangeKind,
    Forbidden,
    NotFound,
    audit,
    check_writable_fields,
    events,
    utcnow,
)
from plugins.calendar.history import categories, links
from plugins.calendar.history.models import Interaction
from plugins.calendar.history.permissions import HistoryPermission
from plugins.contacts.models import Contact

ENTITY = "interaction"
#: The longest text an interaction holds.
TEXT_LENGTH = 10_000
#: Model attribute → the GraphQL field of ``Interaction`` that writing it changes.
WRITES = {
    "category_id": "category",
    "occurred_at": "occurredAt",
    "text": "text",
    "opportunity_id": "opportunity",
}


@dataclass
class InteractionData:
    """The fields the caller set (partial updates), by model attribute."""

    values: dict[str, Any] = field(default_factory=dict)


def visible() -> Select[Interaction]:
    """Interactions of contacts the caller may see (the join carries the contacts'
    visibility predicate; the interactions' tenant predicate is added as to every table)."""
    return (
        select(Interaction)
        .join(Contact, Interaction.contact_id == Contact.id)
        .options(contains_eager(Interaction.contact))
    )


def get_visible(ctx: CallerContext, interaction_id: int, field: str = "id") -> Interaction:
    """The interaction, or NOT_FOUND when it does not exist or its contact is hidden."""
    found = ctx.session.scalar(visible().where(Interaction.id == interaction_id))
    if found is None:
        raise NotFound("no such interaction", field=field)
    return found


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _apply(ctx: CallerContext, interaction: Interaction, data: InteractionData) -> None:
    v = data.values
    if "category_id" in v:
        category_id = v["category_id"]
        if category_id is not None:
            categories.get(ctx, category_id, "categoryId")
        interaction.category_id = category_id
    if "occurred_at" in v:
        if v["occurred_at"] is None:
            raise BadUserInput("an interaction happened at some time", field="occurredAt")
        interaction.occurred_at = _utc(v["occurred_at"])
    if "text" in v:
        clean = (v["text"] or "").strip()
        if len(clean) > TEXT_LENGTH:
            raise BadUserInput(f"at most {TEXT_LENGTH} characters", field="text")
        interaction.text = clean
    if "opportunity_id" in v:
        interaction.opportunity_id = links.checked_opportunity(ctx, v["opportunity_id"])


def _check_fields(ctx: CallerContext, keys: list[str]) -> None:
    """Refuse writing fields the caller's field rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, "Interaction", {WRITES.get(k, k) for k in keys})


def log_interaction(ctx: CallerContext, contact_id: int, data: InteractionData) -> Interaction:
    """The one creation path: on a contact the caller may see, written by the caller, at
    ``occurred_at`` (default: now)."""
    caller = ctx.require_caller()
    _check_fields(ctx, list(data.values))
    # the session reads visible contacts only: a hidden one does not exist for the caller
    if ctx.session.get(Contact, contact_id) is None:
        raise NotFound("no such contact", field="contactId")
    interaction = Interaction(
        tenant_id=caller.tenant_id,
        contact_id=contact_id,
        author_id=caller.user_id,
        occurred_at=utcnow(),
        text="",
    )
    _apply(ctx, interaction, data)
    if not interaction.text and interaction.category_id is None:
        raise BadUserInput("give a text or a category", field="text")
    ctx.session.add(interaction)
    events.record_changed(ctx, ChangeKind.CREATED, ENTITY, interaction)
    return interaction


def may_change(ctx: CallerContext, interaction: Interaction) -> bool:
    """Its author may change it; so may whoever holds ``calendar.moderate_history``."""
    return interaction.author_id == ctx.user_id or ctx.has(HistoryPermission.MODERATE.value)


def _require_change(ctx: CallerContext, interaction: Interaction) -> None:
    if not may_change(ctx, interaction):
        raise Forbidden("only its author or a history moderator may change an interaction")


def update_interaction(
    ctx: CallerContext, interaction: Interaction, data: InteractionData
) -> Interaction:
    _require_change(ctx, interaction)
    _check_fields(ctx, list(data.values))
    _apply(ctx, interaction, data)
    if not interaction.text and interaction.category_id is None:
        raise BadUserInput("give a text or a category", field="text")
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, interaction, frozenset(data.values))
    return interaction


def delete_interaction(ctx: CallerContext, interaction: Interaction) -> None:
    _require_change(ctx, interaction)
    events.ensure_deletable(ctx, ENTITY, interaction)
    ctx.session.delete(interaction)
    events.record_changed(ctx, ChangeKind.DELETED, ENTITY, interaction)


def of_contacts(ctx: CallerContext, contact_ids: list[int]) -> Select[Interaction]:
    """The visible interactions of these contacts (list filters add to it)."""
    return visible().where(Interaction.contact_id.in_(contact_ids))


def move_history(ctx: CallerContext, kept: Contact, merged: Contact) -> None:
    """Duplicate contacts merged: the merged contact's history becomes the kept one's (it
    would otherwise die with the merged contact). An ORM update: the tenant predicate
    applies."""
    audit.relink(ctx.session, Interaction.contact_id, merged.tenant_id, merged.id, kept.id)
