"""GraphQL types of the activity history: event categories, interactions and the entries of
a contact's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import (
    Connection,
    DeletePayload,
    Edge,
    Loader,
    Node,
    PageInfo,
    UserError,
    UserType,
    global_id,
    load_users,
)
from plugins.calendar.history import categories, links, service
from plugins.calendar.history.models import HistoryCategory, HistoryKind, Interaction
from plugins.calendar.history.timeline import INTERACTION, TASK_COMPLETED, TASK_CREATED, encode
from plugins.calendar.history.window import TimelineEvent
from plugins.calendar.models import Task
from plugins.calendar.types import TaskNode
from plugins.contacts.types import ContactNode

strawberry.enum(HistoryKind, name="HistoryKind", description="What a history category records.")
HistoryKindEnum: TypeAlias = HistoryKind


def categories_by_id(info: Info) -> Loader[int, HistoryCategory]:
    """The tenant's categories, loaded once per operation (few: the first lookup loads all)."""
    ctx = info.context

    def fetch(_ids: list[int]) -> dict[int, HistoryCategory]:
        every = {c.id: c for c in categories.category_list(ctx)}
        for category_id, category in every.items():
            loader.put(category_id, category)
        return every

    loader: Loader[int, HistoryCategory] = ctx.loader("calendar.history.categories", fetch)
    return loader


@strawberry.type(name="HistoryCategory", description="An admin-defined category of history events.")
class HistoryCategoryType:
    record: strawberry.Private[HistoryCategory]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("HistoryCategory", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="#RRGGBB.")
    def colour(self) -> str:
        return self.record.colour

    @strawberry.field(description="Its place in the list (0 first).")
    def position(self) -> int:
        return self.record.position

    @strawberry.field
    def kind(self) -> HistoryKindEnum:
        return self.record.kind


@strawberry.type(
    name="Interaction",
    description="Something that happened with a contact (a call, a meeting, an email, a "
    "note), logged by its author. Visible to whoever may see the contact.",
)
class InteractionType:
    record: strawberry.Private[Interaction]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Interaction", self.record.id)

    @strawberry.field(description="The contact it happened with.")
    def contact(self) -> ContactNode:
        return ContactNode(record=self.record.contact)

    @strawberry.field
    def category(self, info: Info) -> HistoryCategoryType | None:
        category_id = self.record.category_id
        found = categories_by_id(info).get(category_id) if category_id else None
        return HistoryCategoryType(record=found) if found is not None else None

    @strawberry.field(description="When it happened (UTC).")
    def occurred_at(self) -> datetime:
        return self.record.occurred_at

    @strawberry.field
    def text(self) -> str:
        return self.record.text

    @strawberry.field(description="Who logged it.")
    def author(self, info: Info) -> UserType | None:
        user_id = self.record.author_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field(
        description="The opportunity it was about (null if none, not visible to you, or "
        "the leads module is off)."
    )
    def opportunity(self, info: Info) -> Node | None:
        return links.opportunity_node(info.context, self.record.opportunity_id)

    @strawberry.field(description="Whether you may change or delete it (author or moderator).")
    def can_change(self, info: Info) -> bool:
        return service.may_change(info.context, self.record)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


def prime_rows(ctx: Any, rows: list[Interaction]) -> None:
    """Load a page's authors and opportunities in one statement each (categories load all
    at once)."""
    load_users(ctx, sorted({r.author_id for r in rows if r.author_id}))
    links.opportunities(ctx).prime(r.opportunity_id for r in rows)


@strawberry.type
class InteractionPayload:
    interaction: InteractionType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteInteractionPayload(DeletePayload):
    """``DeletePayload`` under the interaction's name."""


@strawberry.type
class HistoryCategoryPayload:
    category: HistoryCategoryType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteHistoryCategoryPayload(DeletePayload):
    """``DeletePayload`` under the history category's name."""


# -- the timeline ---------------------------------------------------------------------------


class TimelinePage:
    """The events of one timeline request (one contact, or a page of contacts): loads the
    records the entries show in one statement per kind of record, for the whole page."""

    def __init__(self, ctx: Any, events: list[TimelineEvent]) -> None:
        self.ctx = ctx
        self.events = events
        self._loaded: dict[str, dict[int, Any]] = {}

    def _ids(self, test: Any) -> list[int]:
        return sorted({e.subject_id or e.id for e in self.events if test(e)})

    def interaction(self, event_id: int) -> Interaction | None:
        if "interaction" not in self._loaded:
            ids = self._ids(lambda e: e.kind == INTERACTION)
            rows = self.ctx.session.scalars(service.visible().where(Interaction.id.in_(ids)))
            self._loaded["interaction"] = found = {r.id: r for r in rows}
            prime_rows(self.ctx, list(found.values()))
        return self._loaded["interaction"].get(event_id)

    def task(self, task_id: int) -> Task | None:
        if "task" not in self._loaded:
            ids = self._ids(lambda e: e.kind in (TASK_CREATED, TASK_COMPLETED))
            rows = self.ctx.session.scalars(
                select(Task).where(Task.id.in_(ids)).options(selectinload(Task.contact))
            )
            self._loaded["task"] = tasks = {r.id: r for r in rows}
            load_users(self.ctx, sorted({t.owner_id for t in tasks.values() if t.owner_id}))
        return self._loaded["task"].get(task_id)

    def subject(self, type_name: str | None, record_id: int | None) -> Any:
        """The ``Node`` of a module's record (through the registry: visible-only, ``None``
        when its module is off for the tenant)."""
        if type_name is None or record_id is None:
            return None
        registry = self.ctx.gateway.registry
        entity = registry.entity_of_type.get(type_name)
        if entity is None or entity.graphql_factory is None:
            return None
        if registry.entity_module[entity.entity] not in self.ctx.enabled_modules:
            return None
        key = f"subject:{type_name}"
        if key not in self._loaded:
            ids = sorted(
                {
                    e.subject_id
                    for e in self.events
                    if e.subject_type == type_name and e.subject_id is not None
                }
            )
            model = entity.model
            rows = self.ctx.session.scalars(select(model).where(model.id.in_(ids)))
            self._loaded[key] = {r.id: r for r in rows}
        record = self._loaded[key].get(record_id)
        return entity.graphql_factory(record) if record is not None else None


@strawberry.interface(
    name="TimelineEntry",
    description="One entry of a contact's timeline: `kind` says what happened "
    "(`interaction`, `task.created`, `task.completed`, or a module's kind such as "
    "`invoice.issued`), `occurredAt` when.",
)
class TimelineEntry:
    event: strawberry.Private[TimelineEvent]
    page: strawberry.Private[TimelinePage]

    @strawberry.field
    def kind(self) -> str:
        return self.event.kind

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.event.at


@strawberry.type(description="An interaction logged on the contact.")
class InteractionTimelineEntry(TimelineEntry):
    @strawberry.field
    def interaction(self) -> InteractionType | None:
        found = self.page.interaction(self.event.id)
        return InteractionType(record=found) if found is not None else None


@strawberry.type(
    description="A task of the contact was created (`task.created`) or completed "
    "(`task.completed`)."
)
class TaskTimelineEntry(TimelineEntry):
    @strawberry.field
    def task(self) -> TaskNode | None:
        found = self.page.task(self.event.id)
        return TaskNode(record=found) if found is not None else None


@strawberry.type(
    description="An event another module reported (`crm_timeline_events`) about one of its "
    "records, e.g. an invoice issued or an opportunity moved to another stage."
)
class RecordTimelineEntry(TimelineEntry):
    @strawberry.field(description="The record the event is about.")
    def subject(self) -> Node | None:
        return self.page.subject(self.event.subject_type, self.event.subject_id)

    @strawberry.field(description="A short text the reporting module adds (e.g. a stage name).")
    def detail(self) -> str | None:
        return self.event.detail


def entry(event: TimelineEvent, page: TimelinePage) -> TimelineEntry:
    if event.kind == INTERACTION:
        return InteractionTimelineEntry(event=event, page=page)
    if event.kind in (TASK_CREATED, TASK_COMPLETED):
        return TaskTimelineEntry(event=event, page=page)
    return RecordTimelineEntry(event=event, page=page)


def timeline_connection(
    page: TimelinePage, events: list[TimelineEvent], size: int, after: str | None
) -> Connection[TimelineEntry]:
    """A page of one contact's timeline: the first ``size`` of ``events`` (one more tells
    that a next page exists), its entries' records loaded through ``page``."""
    shown = events[:size]
    cursors = [encode(e.position) for e in shown]
    return Connection(
        edges=[Edge(cursor=c, node=entry(e, page)) for e, c in zip(shown, cursors, strict=True)],
        page_info=PageInfo(
            has_next_page=len(events) > size,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
    )


TIMELINE_TYPES = [InteractionTimelineEntry, TaskTimelineEntry, RecordTimelineEntry]
