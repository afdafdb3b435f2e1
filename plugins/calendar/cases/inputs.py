"""GraphQL inputs of cases: creation and changes (partial, with ``strawberry.UNSET``), the
list filter, and what a filter reads (field rules)."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.sdk import LONG_TEXT, parse_global_id, text
from plugins.calendar.cases.service import CaseData, CaseFilter
from plugins.calendar.cases.types import CaseStatusEnum


@strawberry.input(description="A custom field's value for a case.")
class CaseCustomFieldInput:
    key: str = text(60)
    value: str | None = text(
        500, description="As text (see CustomFieldValue); null or empty clears it."
    )


def _ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> list[int]:
    return [parse_global_id(v, type_name, field) for v in values or []]


def _data(given: Any) -> CaseData:
    data = CaseData()
    for name in ("title", "description"):
        value = getattr(given, name, strawberry.UNSET)
        if value is not strawberry.UNSET:
            data.values[name] = value
    if given.participant_ids is not strawberry.UNSET:
        data.participant_ids = _ids(given.participant_ids, "Contact", "participantIds")
    if given.tags is not strawberry.UNSET:
        data.tags = list(given.tags or [])
    if given.restricted_to is not strawberry.UNSET:
        data.restricted_to = _ids(given.restricted_to, "User", "restrictedTo")
    if given.custom_fields is not strawberry.UNSET and given.custom_fields is not None:
        data.custom_fields = {c.key: c.value for c in given.custom_fields}
    return data


_RESTRICTED = (
    "Restrict the case to these users: it becomes PRIVATE (its owner, those above the owner "
    "and these users see it) and is shared with them for writing; they are notified. An "
    "empty list opens it to all again (PUBLIC_WRITE). Replaces the case's shares."
)


@strawberry.input(description="A new case: open to all unless `restrictedTo` names users.")
class CreateCaseInput:
    title: str = text(200)
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    participant_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Contacts taking part."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Tag names (new ones are created); replaces."
    )
    restricted_to: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description=_RESTRICTED
    )
    custom_fields: list[CaseCustomFieldInput] | None = strawberry.UNSET

    def to_data(self) -> CaseData:
        return _data(self)


@strawberry.input(description="Changes to a case; omitted fields stay as they are, lists replace.")
class UpdateCaseInput:
    title: str | None = text(200, default=strawberry.UNSET)
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    participant_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The participants (those you cannot see are kept).",
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Tag names (new ones are created); replaces."
    )
    restricted_to: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description=_RESTRICTED
    )
    custom_fields: list[CaseCustomFieldInput] | None = strawberry.UNSET

    def to_data(self) -> CaseData:
        return _data(self)


@strawberry.input(description="Which cases to list.")
class CaseFilterInput:
    status: CaseStatusEnum | None = None
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="Cases this contact takes part in."
    )
    tag: str | None = text(60, default=None, description="Cases with this tag (by name).")
    search: str | None = text(200, default=None, description="Words in the title.")

    def to_filter(self) -> CaseFilter:
        return CaseFilter(
            status=self.status,
            contact_id=parse_global_id(self.contact_id, "Contact", "filter.contactId")
            if self.contact_id
            else None,
            tag=self.tag,
            search=self.search,
        )


#: The ``Case`` fields each filter reads (refused when the caller's rules hide one).
FILTER_READS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "contact_id": ("participants",),
    "tag": ("tags",),
    "search": ("title",),
}
#: The list's order (newest first, then id) reads the creation time.
SORT_READS: tuple[str, ...] = ("createdAt",)
