"""GraphQL inputs of the activity history (partial changes with ``strawberry.UNSET``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.sdk import LONG_TEXT, parse_global_id, text
from plugins.calendar.history.service import InteractionData
from plugins.calendar.history.types import HistoryKindEnum


def _data(given: Any) -> InteractionData:
    values: dict[str, Any] = {}
    for name in ("occurred_at", "text"):
        value = getattr(given, name, strawberry.UNSET)
        if value is not strawberry.UNSET:
            values[name] = value
    for name, type_name, field in (
        ("category_id", "HistoryCategory", "categoryId"),
        ("opportunity_id", "Opportunity", "opportunityId"),
    ):
        value = getattr(given, name, strawberry.UNSET)
        if value is not strawberry.UNSET:
            values[name] = parse_global_id(value, type_name, field) if value is not None else None
    return InteractionData(values=values)


@strawberry.input(description="An interaction to log on a contact; you are its author.")
class LogInteractionInput:
    contact_id: strawberry.ID
    category_id: strawberry.ID | None = strawberry.UNSET
    occurred_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When it happened; default: now."
    )
    text: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    opportunity_id: strawberry.ID | None = strawberry.UNSET

    def to_data(self) -> InteractionData:
        return _data(self)


@strawberry.input(description="Changes to an interaction; omitted fields stay as they are.")
class UpdateInteractionInput:
    category_id: strawberry.ID | None = strawberry.UNSET
    occurred_at: datetime | None = strawberry.UNSET
    text: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    opportunity_id: strawberry.ID | None = strawberry.UNSET

    def to_data(self) -> InteractionData:
        return _data(self)


@strawberry.input(description="Changes to a history category; omitted fields stay.")
class UpdateHistoryCategoryInput:
    name: str | None = text(80, default=strawberry.UNSET)
    colour: str | None = text(7, default=strawberry.UNSET)
    kind: HistoryKindEnum | None = strawberry.UNSET
    position: int | None = strawberry.field(
        default=strawberry.UNSET, description="Move it to this place (0 first)."
    )

    def values(self) -> dict[str, Any]:
        given = {
            "name": self.name,
            "colour": self.colour,
            "kind": self.kind,
            "position": self.position,
        }
        return {k: v for k, v in given.items() if v is not strawberry.UNSET}


#: The ``Interaction`` fields each list filter reads (refused when the caller's rules hide
#: one).
FILTER_READS: dict[str, tuple[str, ...]] = {"category_ids": ("category",)}
#: The history's order (newest first) reads when it happened.
SORT_READS: tuple[str, ...] = ("occurredAt",)
