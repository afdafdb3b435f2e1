"""Root fields of the activity history: event categories, interactions and a contact's
timeline. Thin resolvers over ``categories``, ``service`` and ``timeline``."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    Connection,
    NotFound,
    Order,
    RequestContext,
    Window,
    guarded,
    list_records,
    mutate,
    parse_global_id,
)
from plugins.calendar.history import categories, service, timeline
from plugins.calendar.history.inputs import (
    SORT_READS,
    LogInteractionInput,
    UpdateHistoryCategoryInput,
    UpdateInteractionInput,
)
from plugins.calendar.history.models import HistoryCategory, Interaction
from plugins.calendar.history.permissions import HistoryPermission as P
from plugins.calendar.history.types import (
    DeleteHistoryCategoryPayload,
    DeleteInteractionPayload,
    HistoryCategoryPayload,
    HistoryCategoryType,
    HistoryKindEnum,
    InteractionPayload,
    InteractionType,
    TimelineEntry,
    TimelinePage,
    prime_rows,
    timeline_connection,
)

Ctx = Info[RequestContext, None]


@strawberry.field(description="The history event categories (defaults created on first use).")
def history_categories(info: Ctx) -> list[HistoryCategoryType]:
    ctx = info.context
    ctx.require_caller()
    return [HistoryCategoryType(record=c) for c in categories.on_demand(ctx)]


@strawberry.field(
    description="A contact's interactions you may see (those of a contact you may see), "
    "newest first, keyset-paged."
)
def interactions(
    info: Ctx,
    contact_id: strawberry.ID,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[InteractionType]:
    ctx = info.context
    ctx.require_caller()
    pk = parse_global_id(contact_id, "Contact", "contactId")
    listed = list_records(
        ctx,
        Interaction,
        "Interaction",
        service.of_contacts(ctx, [pk]),
        order=Order(Interaction.occurred_at, True, SORT_READS),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
    )
    prime_rows(ctx, listed.rows)
    return Connection.of(listed, lambda r: InteractionType(record=r))


@strawberry.field(
    description="One interaction, or null if it does not exist or its contact "
    "is not visible to you."
)
def interaction(info: Ctx, id: strawberry.ID) -> InteractionType | None:
    ctx = info.context
    ctx.require_caller()
    try:
        found = service.get_visible(ctx, parse_global_id(id, "Interaction"))
    except NotFound:
        return None
    return InteractionType(record=found)


@strawberry.field(
    description="A contact's timeline, newest first: its interactions, its tasks (created, "
    "completed) and what other modules report (e.g. `invoice.issued`, `invoice.paid`, "
    "`opportunity.created`, `opportunity.stage_changed`). `kinds` keeps only those kinds. "
    "Forward pages only (`first`, at most 100; `after`). Null for a contact you may not see."
)
def contact_timeline(
    info: Ctx,
    contact_id: strawberry.ID,
    first: int | None = None,
    after: str | None = None,
    kinds: list[str] | None = None,
) -> Connection[TimelineEntry] | None:
    ctx = info.context
    ctx.require_caller()
    pk = parse_global_id(contact_id, "Contact", "contactId")
    window = timeline.window_of([pk], first, after, kinds)
    if not timeline.visible_contact(ctx, pk):
        return None
    events = timeline.events(ctx, window)[pk]
    size = window.limit - 1
    return timeline_connection(TimelinePage(ctx, events[:size]), events, size, after)


# -- mutations --------------------------------------------------------------------------------


def _payload(result: Interaction) -> InteractionPayload:
    return InteractionPayload(interaction=InteractionType(record=result))


@strawberry.mutation(description="Log an interaction on a contact you may see; you are its author.")
def log_interaction(info: Ctx, input: LogInteractionInput) -> InteractionPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Interaction:
        contact = parse_global_id(input.contact_id, "Contact", "contactId")
        created = service.log_interaction(ctx, contact, input.to_data())
        session.flush()
        return created

    return mutate(ctx, InteractionPayload, work, _payload)


@strawberry.mutation(
    description="Change an interaction (its author, or with calendar.moderate_history)."
)
def update_interaction(
    info: Ctx, id: strawberry.ID, input: UpdateInteractionInput
) -> InteractionPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Interaction:
        found = service.get_visible(ctx, parse_global_id(id, "Interaction"))
        changed = service.update_interaction(ctx, found, input.to_data())
        session.flush()
        return changed

    return mutate(ctx, InteractionPayload, work, _payload)


@strawberry.mutation(
    description="Delete an interaction (its author, or with calendar.moderate_history)."
)
def delete_interaction(info: Ctx, id: strawberry.ID) -> DeleteInteractionPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        found = service.get_visible(ctx, parse_global_id(id, "Interaction"))
        service.delete_interaction(ctx, found)

    return mutate(
        ctx, DeleteInteractionPayload, work, lambda _: DeleteInteractionPayload(deleted_id=id)
    )


def _category_payload(c: HistoryCategory) -> HistoryCategoryPayload:
    return HistoryCategoryPayload(category=HistoryCategoryType(record=c))


@guarded(
    permission=P.MANAGE_CATEGORIES.value,
    description="Add a history category (name, #RRGGBB, kind); it goes last.",
)
def create_history_category(
    info: Ctx, name: str, colour: str, kind: HistoryKindEnum = HistoryKindEnum.OTHER
) -> HistoryCategoryPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> HistoryCategory:
        return categories.create(ctx, name, colour, kind)

    return mutate(ctx, HistoryCategoryPayload, work, _category_payload)


@guarded(permission=P.MANAGE_CATEGORIES.value, description="Change a history category.")
def update_history_category(
    info: Ctx, id: strawberry.ID, input: UpdateHistoryCategoryInput
) -> HistoryCategoryPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> HistoryCategory:
        found = categories.get(ctx, parse_global_id(id, "HistoryCategory"))
        return categories.change(ctx, found, input.values())

    return mutate(ctx, HistoryCategoryPayload, work, _category_payload)


@guarded(
    permission=P.MANAGE_CATEGORIES.value,
    description="Delete a history category; its interactions stay, without a category.",
)
def delete_history_category(info: Ctx, id: strawberry.ID) -> DeleteHistoryCategoryPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> None:
        categories.delete(ctx, categories.get(ctx, parse_global_id(id, "HistoryCategory")))

    return mutate(
        ctx,
        DeleteHistoryCategoryPayload,
        work,
        lambda _: DeleteHistoryCategoryPayload(deleted_id=id),
    )


QUERY_FIELDS = [history_categories, interactions, interaction, contact_timeline]
MUTATION_FIELDS = [
    log_interaction,
    update_interaction,
    delete_interaction,
    create_history_category,
    update_history_category,
    delete_history_category,
]
