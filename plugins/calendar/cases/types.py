"""GraphQL types of cases: the case, its tags, documents and custom field definitions, and
the payloads. Nested lists (participants, tasks, chosen users) come from ``loading``: one
statement for every case of the operation, never one per case."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    AccessLevel,
    AccessLevelEnum,
    DeletePayload,
    Node,
    OkPayload,
    UserError,
    UserType,
    customfields,
    global_id,
    load_users,
)
from plugins.calendar.cases import loading
from plugins.calendar.cases.models import (
    Case,
    CaseCustomField,
    CaseDocument,
    CaseStatus,
    CaseTag,
)
from plugins.calendar.types import TaskNode
from plugins.contacts.types import ContactNode, CustomFieldType, CustomFieldValue

strawberry.enum(CaseStatus, name="CaseStatus", description="OPEN until closed.")
CaseStatusEnum: TypeAlias = CaseStatus


@strawberry.type(name="CaseTag", description="A tag of cases (cases have their own tags).")
class CaseTagType:
    record: strawberry.Private[CaseTag]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CaseTag", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name


@strawberry.type(name="CaseCustomField")
class CaseCustomFieldType(CustomFieldType):
    """The contacts' custom-field type over the cases' own definitions, with its own IDs."""

    record: strawberry.Private[CaseCustomField]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CaseCustomField", self.record.id)


@strawberry.type(name="CaseDocument", description="A file attached to a case.")
class CaseDocumentType:
    record: strawberry.Private[CaseDocument]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CaseDocument", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.file.name

    @strawberry.field
    def content_type(self) -> str:
        return self.record.file.content_type

    @strawberry.field
    def size(self) -> int:
        return self.record.file.size

    @strawberry.field
    def added_at(self) -> datetime:
        return self.record.added_at

    @strawberry.field(description="Who attached it.")
    def added_by(self, info: Info) -> UserType | None:
        user_id = self.record.added_by_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field(
        description="A signed link for you, valid a few minutes (CRM_FILE_LINK_SECONDS); the "
        "download checks again that you see the case."
    )
    def download_url(self, info: Info) -> str:
        return loading.document_url(info.context, self.record)


@strawberry.type(name="Case")
class CaseNode(Node):
    record: strawberry.Private[Case]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Case", self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field
    def status(self) -> CaseStatusEnum:
        return self.record.status

    @strawberry.field(description="When it was closed (null while open).")
    def closed_at(self) -> datetime | None:
        return self.record.closed_at

    @strawberry.field(description="Who created it (its owner for record access).")
    def owner(self, info: Info) -> UserType | None:
        user_id = self.record.owner_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field(
        description="PUBLIC_WRITE: open to all (the default); PRIVATE: restricted to its "
        "owner, those above the owner and the chosen users (`restrictedTo`)."
    )
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @strawberry.field(description="Whether only chosen users (and the owner's line) see it.")
    def restricted(self) -> bool:
        return self.record.access == AccessLevel.PRIVATE.value

    @strawberry.field(description="The users a restricted case is shared with.")
    def restricted_to(self, info: Info) -> list[UserType]:
        ids = loading.shares(info.context, self.record.id)
        users = load_users(info.context, ids)
        return [UserType(record=users[i]) for i in ids if i in users]

    @strawberry.field(description="The participating contacts you may see.")
    def participants(self, info: Info) -> list[ContactNode]:
        return [ContactNode(record=c) for c in loading.participants(info, self.record.id)]

    @strawberry.field
    def tags(self) -> list[CaseTagType]:
        return [CaseTagType(record=link.tag) for link in self.record.tag_links]

    @strawberry.field(
        description="The case's tasks you may see, by deadline (done ones too unless "
        "`includeCompleted: false`); at most `first` (up to 100). The full, paginated list "
        "is `tasks(filter: {caseId})`."
    )
    def tasks(self, info: Info, first: int = 50, include_completed: bool = True) -> list[TaskNode]:
        found = loading.tasks(info, self.record.id, first, include_completed)
        return [TaskNode(record=t) for t in found]

    @strawberry.field
    def documents(self) -> list[CaseDocumentType]:
        return [CaseDocumentType(record=d) for d in self.record.documents]

    @strawberry.field
    def custom_fields(self) -> list[CustomFieldValue]:
        values = sorted(self.record.custom_values, key=lambda cv: cv.field.position)
        return [
            CustomFieldValue(
                key=cv.field.key,
                label=cv.field.label,
                type=cv.field.type,
                value=customfields.as_text(cv),
            )
            for cv in values
        ]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


@strawberry.type
class CasePayload:
    case: CaseNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteCasePayload(DeletePayload):
    """``DeletePayload`` under the case's name."""


@strawberry.type
class CaseDocumentPayload:
    document: CaseDocumentType | None = None
    case: CaseNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CaseCustomFieldPayload:
    custom_field: CaseCustomFieldType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CasesRemovedPayload(OkPayload):
    """``OkPayload`` for removed case custom fields."""
