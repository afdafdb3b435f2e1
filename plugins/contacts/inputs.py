"""GraphQL inputs of the contacts module, and their translation to service data."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from gateway.sdk import (
    LONG_TEXT,
    AccessLevelEnum,
    Direction,
    parse_global_id,
    text,
)
from plugins.contacts.assignment_types import ContactAssignmentInput
from plugins.contacts.services import ContactData, ContactFilter
from plugins.contacts.types import (
    CategoryEnum,
    ClientKindEnum,
    ContactKindEnum,
    FiscalIdTypeEnum,
)


@strawberry.input
class EmailInput:
    address: str = text(254)
    kind: str = text(20, default="WORK")


@strawberry.input
class PhoneInput:
    number: str = text(40)
    kind: str = text(20, default="WORK")


@strawberry.input
class CustomFieldInput:
    key: str = text(60)
    value: str | None = text(
        500, description="As text (see CustomFieldValue); null or empty clears it."
    )


@strawberry.input(
    description="A new contact. `email` and `phone` are shorthands for the "
    "first address and number; `emails`/`phones` give several."
)
class CreateContactInput:
    kind: ContactKindEnum
    first_name: str | None = text(100, default=None)
    last_name: str | None = text(100, default=None)
    company_name: str | None = text(200, default=None)
    company_id: strawberry.ID | None = None
    email: str | None = text(254, default=None)
    phone: str | None = text(40, default=None)
    emails: list[EmailInput] | None = None
    phones: list[PhoneInput] | None = None
    client_kind: ClientKindEnum | None = None
    category: CategoryEnum | None = None
    contact_type_id: strawberry.ID | None = None
    currency: str | None = None
    website: str | None = text(200, default=None)
    street: str | None = text(200, multiline=True, default=None)
    city: str | None = text(100, default=None)
    region: str | None = text(100, default=None)
    postal_code: str | None = text(20, default=None)
    country: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    fiscal_id: str | None = text(40, default=None)
    fiscal_id_type: FiscalIdTypeEnum | None = None
    source: str | None = text(80, default=None)
    segment: str | None = text(80, default=None)
    zone: str | None = text(80, default=None)
    description: str | None = text(LONG_TEXT, multiline=True, default=None)
    discount: Decimal | None = None
    tags: list[str] | None = text(60, default=None)
    custom_fields: list[CustomFieldInput] | None = None
    access: AccessLevelEnum | None = None
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The manager; you by default."
    )
    assignments: list[ContactAssignmentInput] | None = strawberry.field(
        default=None, description="Its users per managing company (one per company)."
    )


@strawberry.input(
    description="A partial update: only the fields given change; lists "
    "(emails, phones, tags, customFields) replace the current ones."
)
class UpdateContactInput:
    kind: ContactKindEnum | None = strawberry.UNSET
    first_name: str | None = text(100, default=strawberry.UNSET)
    last_name: str | None = text(100, default=strawberry.UNSET)
    company_name: str | None = text(200, default=strawberry.UNSET)
    company_id: strawberry.ID | None = strawberry.UNSET
    email: str | None = text(254, default=strawberry.UNSET)
    phone: str | None = text(40, default=strawberry.UNSET)
    emails: list[EmailInput] | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.UNSET
    client_kind: ClientKindEnum | None = strawberry.UNSET
    category: CategoryEnum | None = strawberry.UNSET
    contact_type_id: strawberry.ID | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    website: str | None = text(200, default=strawberry.UNSET)
    street: str | None = text(200, multiline=True, default=strawberry.UNSET)
    city: str | None = text(100, default=strawberry.UNSET)
    region: str | None = text(100, default=strawberry.UNSET)
    postal_code: str | None = text(20, default=strawberry.UNSET)
    country: str | None = strawberry.UNSET
    latitude: Decimal | None = strawberry.UNSET
    longitude: Decimal | None = strawberry.UNSET
    fiscal_id: str | None = text(40, default=strawberry.UNSET)
    fiscal_id_type: FiscalIdTypeEnum | None = strawberry.UNSET
    source: str | None = text(80, default=strawberry.UNSET)
    segment: str | None = text(80, default=strawberry.UNSET)
    zone: str | None = text(80, default=strawberry.UNSET)
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    discount: Decimal | None = strawberry.UNSET
    tags: list[str] | None = text(60, default=strawberry.UNSET)
    custom_fields: list[CustomFieldInput] | None = strawberry.UNSET
    access: AccessLevelEnum | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET


_PLAIN = [
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "client_kind",
    "category",
    "currency",
    "website",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "fiscal_id",
    "fiscal_id_type",
    "source",
    "segment",
    "zone",
    "description",
    "discount",
    "access",
]
_IDS = {"company_id": "Contact", "contact_type_id": "ContactType", "owner_id": "User"}
#: Fields that cannot be cleared with null (they are required or have a default).
_NOT_NULL = {"kind", "access", "owner_id"}


def to_data(given: Any) -> ContactData:
    """Input (create or partial update) → service data; UNSET fields are left out."""
    data = ContactData()
    for name in _PLAIN:
        value = getattr(given, name)
        if value is strawberry.UNSET or (value is None and isinstance(given, CreateContactInput)):
            continue
        if value is None and name in _NOT_NULL:
            continue
        data.values[name] = value
    for name, type_name in _IDS.items():
        value = getattr(given, name)
        if value is strawberry.UNSET or (value is None and name in _NOT_NULL):
            continue
        if value is None and isinstance(given, CreateContactInput):
            continue
        field = name.replace("_id", "Id").replace("contact_type", "contactType")
        data.values[name] = parse_global_id(value, type_name, field) if value else None
    emails = _list(given.emails)
    if emails is None and given.email not in (strawberry.UNSET, None):
        emails = [("WORK", given.email)]
    elif emails is not None:
        emails = [(e.kind.upper(), e.address) for e in given.emails]
    data.emails = emails
    phones = _list(given.phones)
    if phones is None and given.phone not in (strawberry.UNSET, None):
        phones = [("WORK", given.phone)]
    elif phones is not None:
        phones = [(p.kind.upper(), p.number) for p in given.phones]
    data.phones = phones
    data.tags = _list(given.tags)
    custom = _list(given.custom_fields)
    data.custom_fields = {c.key: c.value for c in custom} if custom is not None else None
    if isinstance(given, CreateContactInput) and given.assignments:
        data.assignments = [
            a.to_data(f"input.assignments.{i}") for i, a in enumerate(given.assignments)
        ]
    return data


def _list(value: Any) -> Any:
    return None if value is strawberry.UNSET or value is None else value


@strawberry.input
class CustomFieldFilter:
    key: str = text(60)
    equals: str | None = text(500, default=None)
    min: str | None = text(500, default=None)
    max: str | None = text(500, default=None)


@strawberry.input
class ContactFilterInput:
    mine: bool = strawberry.field(
        default=False, description="Only contacts you manage or are assigned."
    )
    kind: ContactKindEnum | None = None
    category: CategoryEnum | None = None
    client_kind: ClientKindEnum | None = None
    contact_type_id: strawberry.ID | None = None
    tags: list[str] | None = text(60, default=None, description="All of these tags.")
    owner_id: strawberry.ID | None = None
    source: str | None = None
    segment: str | None = None
    zone: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    custom_fields: list[CustomFieldFilter] | None = None
    managing_company_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Assigned through this managing company (with assignedUserId: to that "
        "user through it).",
    )
    assigned_user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Assigned to this user (for any managing company)."
    )

    def to_filter(self) -> ContactFilter:
        return ContactFilter(
            mine=self.mine,
            kind=self.kind,
            category=self.category,
            client_kind=self.client_kind,
            contact_type_id=parse_global_id(self.contact_type_id, "ContactType", "filter")
            if self.contact_type_id
            else None,
            tags=self.tags or [],
            owner_id=parse_global_id(self.owner_id, "User", "filter") if self.owner_id else None,
            source=self.source,
            segment=self.segment,
            zone=self.zone,
            created_after=self.created_after,
            created_before=self.created_before,
            updated_after=self.updated_after,
            updated_before=self.updated_before,
            custom=[(c.key, c.equals, c.min, c.max) for c in self.custom_fields or []],
            managing_company_id=parse_global_id(
                self.managing_company_id, "ManagingCompany", "filter.managingCompanyId"
            )
            if self.managing_company_id
            else None,
            assigned_user_id=parse_global_id(self.assigned_user_id, "User", "filter.assignedUserId")
            if self.assigned_user_id
            else None,
        )


@strawberry.enum
class ContactSortField(Enum):
    NAME = "sort_name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


#: The ``Contact`` fields each filter and each sort order read. A profile whose field rules
#: hide one of them may not filter or sort by it: the matches, the order and the cursors
#: (which carry the sort value) would reveal what the rule hides.
FILTER_READS: dict[str, tuple[str, ...]] = {
    "mine": ("owner", "assignments"),
    "kind": ("kind",),
    "category": ("category",),
    "client_kind": ("clientKind",),
    "contact_type_id": ("contactType",),
    "tags": ("tags",),
    "owner_id": ("owner",),
    "source": ("source",),
    "segment": ("segment",),
    "zone": ("zone",),
    "created_after": ("createdAt",),
    "created_before": ("createdAt",),
    "updated_after": ("updatedAt",),
    "updated_before": ("updatedAt",),
    "custom_fields": ("customFields",),
    "managing_company_id": ("assignments",),
    "assigned_user_id": ("assignments",),
}
SORT_READS: dict[ContactSortField, tuple[str, ...]] = {
    ContactSortField.NAME: ("displayName", "firstName", "lastName", "companyName"),
    ContactSortField.CREATED_AT: ("createdAt",),
    ContactSortField.UPDATED_AT: ("updatedAt",),
}


@strawberry.input
class ContactOrder:
    field: ContactSortField = ContactSortField.NAME
    direction: Direction = Direction.ASC
