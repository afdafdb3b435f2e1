"""GraphQL types of the contacts module."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway.sdk import (
    AccessLevel,
    AccessLevelEnum,
    CustomFieldColumns,
    DeletePayload,
    FieldTypeEnum,
    Node,
    UserError,
    UserType,
    global_id,
    guarded,
    load_users,
)
from plugins.contacts import assignments
from plugins.contacts.assignment_types import ContactAssignmentType
from plugins.contacts.models import (
    Category,
    ClientKind,
    Contact,
    ContactKind,
    ContactType,
    FiscalIdType,
    Tag,
)
from plugins.contacts.permissions import ContactsPermission
from plugins.contacts.services import custom_value_text

strawberry.enum(ContactKind, name="ContactKind")
ContactKindEnum: TypeAlias = ContactKind
strawberry.enum(ClientKind, name="ClientKind")
ClientKindEnum: TypeAlias = ClientKind
strawberry.enum(Category, name="ContactCategory")
CategoryEnum: TypeAlias = Category
strawberry.enum(FiscalIdType, name="FiscalIdType")
FiscalIdTypeEnum: TypeAlias = FiscalIdType


@strawberry.type(name="Tag")
class TagType:
    record: strawberry.Private[Tag]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Tag", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="Only profiles granted it may add or remove it.")
    def restricted(self) -> bool:
        return self.record.restricted


@strawberry.type(name="ContactType")
class ContactTypeType:
    record: strawberry.Private[ContactType]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ContactType", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name


@strawberry.type(name="CustomField")
class CustomFieldType:
    record: strawberry.Private[CustomFieldColumns]  # any entity's definitions (same columns)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CustomField", self.record.id)

    @strawberry.field
    def key(self) -> str:
        return self.record.key

    @strawberry.field
    def label(self) -> str:
        return self.record.label

    @strawberry.field
    def type(self) -> FieldTypeEnum:
        return self.record.type

    @strawberry.field
    def choices(self) -> list[str]:
        return self.record.choice_list

    @strawberry.field
    def required(self) -> bool:
        return self.record.required


@strawberry.type
class CustomFieldValue:
    key: str
    label: str
    type: FieldTypeEnum
    value: str | None = strawberry.field(
        description="As text: numbers in plain notation, dates as YYYY-MM-DD, true/false."
    )


@strawberry.type
class ContactEmailType:
    kind: str
    address: str


@strawberry.type
class ContactPhoneType:
    kind: str
    number: str


@strawberry.type
class Address:
    street: str
    city: str
    region: str
    postal_code: str
    country: str


@strawberry.type(name="Contact")
class ContactNode(Node):
    record: strawberry.Private[Contact]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Contact", self.record.id)

    @strawberry.field
    def kind(self) -> ContactKindEnum:
        return self.record.kind

    @strawberry.field
    def first_name(self) -> str:
        return self.record.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.record.last_name

    @strawberry.field
    def company_name(self) -> str:
        return self.record.company_name

    @guarded(derived_from=("Contact.firstName", "Contact.lastName", "Contact.companyName"))
    def display_name(self) -> str:
        return self.record.display_name

    @guarded(
        description="The first email address.",
        derived_from=("Contact.emails", "ContactEmailType.address"),
    )
    def email(self) -> str | None:
        return self.record.emails[0].address if self.record.emails else None

    @guarded(
        description="The first phone number.",
        derived_from=("Contact.phones", "ContactPhoneType.number"),
    )
    def phone(self) -> str | None:
        return self.record.phones[0].number if self.record.phones else None

    @guarded(derived_from=("Contact.email",))  # its first address is `email`
    def emails(self) -> list[ContactEmailType]:
        return [ContactEmailType(kind=e.kind, address=e.address) for e in self.record.emails]

    @guarded(derived_from=("Contact.phone",))  # its first number is `phone`
    def phones(self) -> list[ContactPhoneType]:
        return [ContactPhoneType(kind=p.kind, number=p.number) for p in self.record.phones]

    @strawberry.field(description="For persons: the company they belong to (if visible).")
    def company(self) -> ContactNode | None:
        company = self.record.company
        return ContactNode(record=company) if company is not None else None

    @strawberry.field
    def client_kind(self) -> ClientKindEnum | None:
        return self.record.client_kind

    @strawberry.field
    def category(self) -> CategoryEnum | None:
        return self.record.category

    @strawberry.field
    def contact_type(self, info: Info) -> ContactTypeType | None:
        type_id = self.record.contact_type_id
        if type_id is None:
            return None
        session = info.context.session

        def fetch(ids: list[int]) -> dict[int, ContactType]:
            # every type at once: a tenant has a handful, and a page shows most of them
            return {t.id: t for t in session.scalars(select(ContactType))}

        found = info.context.loader("contact_types", fetch).get(type_id)
        return ContactTypeType(record=found) if found else None

    @strawberry.field
    def currency(self) -> str:
        return self.record.currency

    @strawberry.field
    def website(self) -> str:
        return self.record.website

    @strawberry.field
    def address(self) -> Address:
        r = self.record
        return Address(
            street=r.street,
            city=r.city,
            region=r.region,
            postal_code=r.postal_code,
            country=r.country,
        )

    @strawberry.field
    def latitude(self) -> Decimal | None:
        return self.record.latitude

    @strawberry.field
    def longitude(self) -> Decimal | None:
        return self.record.longitude

    @strawberry.field
    def fiscal_id(self) -> str:
        return self.record.fiscal_id

    @strawberry.field
    def fiscal_id_type(self) -> FiscalIdTypeEnum | None:
        return self.record.fiscal_id_type

    @strawberry.field
    def source(self) -> str:
        return self.record.source

    @strawberry.field
    def segment(self) -> str:
        return self.record.segment

    @strawberry.field
    def zone(self) -> str:
        return self.record.zone

    @guarded(full_access=True, description="Internal notes: needs full access to the contact.")
    def description(self) -> str | None:
        return self.record.description

    @guarded(full_access=True, description="Discount in percent: needs full access.")
    def discount(self) -> Decimal | None:
        return self.record.discount

    @strawberry.field(description="The photo as a data URL (at most 200x300 pixels).")
    def photo(self) -> str | None:
        r = self.record
        if r.photo_mime is None or r.photo is None:
            return None
        return f"data:{r.photo_mime};base64,{base64.b64encode(r.photo).decode()}"

    @strawberry.field
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @strawberry.field(description="The manager: the user responsible for the contact.")
    def owner(self, info: Info) -> UserType | None:
        owner_id = self.record.owner_id
        found = load_users(info.context, [owner_id]).get(owner_id) if owner_id else None
        return UserType(record=found) if found else None

    @strawberry.field(
        description="The contact's users per managing company; each sees and changes it "
        "like its manager."
    )
    def assignments(self, info: Info) -> list[ContactAssignmentType]:
        rows = assignments.loader(info.context).get(self.record.id) or []
        return [ContactAssignmentType(record=r) for r in rows]

    @strawberry.field
    def tags(self) -> list[TagType]:
        return [TagType(record=link.tag) for link in self.record.tag_links]

    @strawberry.field
    def custom_fields(self) -> list[CustomFieldValue]:
        values = sorted(self.record.custom_values, key=lambda cv: cv.field.position)
        return [
            CustomFieldValue(
                key=cv.field.key,
                label=cv.field.label,
                type=cv.field.type,
                value=custom_value_text(cv),
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
class ContactPayload:
    contact: ContactNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteContactPayload(DeletePayload):
    """``DeletePayload`` under the name published before the kit shared it."""


MERGE = ContactsPermission.MERGE
