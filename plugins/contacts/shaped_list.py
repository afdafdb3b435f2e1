"""Contacts on the kernel's fast path (:mod:`gateway.shaping`), for the list and for
``contact(id)``: the contact's plain fields, derived from its field table, plus the computed
ones (display name, first email and phone), the address (embedded), the owner and its
profile and the company and its owner (joined), the emails, phones, tags and custom values
(JSON aggregates in the same statement), and the ``@fullAccess`` fields (by id only).
tests/test_shaped_lists.py and tests/test_shaped_nodes.py compare the shaped answers with
the general path's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, select

from gateway.sdk import plain_decimal, shaping
from plugins.contacts.fields import FIELDS
from plugins.contacts.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    ContactTagLink,
    CustomField,
    CustomValue,
    Tag,
    display_name,
)


def _first_of(model: Any, attribute: str) -> Any:
    """The first email/phone of the contact (by position), as a scalar sub-query."""
    return (
        select(getattr(model, attribute))
        .where(model.contact_id == Contact.id, model.tenant_id == Contact.tenant_id)
        .order_by(model.position, model.id)
        .limit(1)
        .scalar_subquery()
    )


def _tags(access: Any) -> Any:
    """The contact's tag links and tags (tenant criteria: tags follow the tenant only)."""
    return (
        select()
        .select_from(ContactTagLink)
        .join(Tag, (Tag.id == ContactTagLink.tag_id) & access.read_criteria(Tag))
        .where(ContactTagLink.contact_id == Contact.id, access.read_criteria(ContactTagLink))
    )


TAGS = shaping.ToMany(
    "Tag",
    {
        "id": shaping.node_id("Tag", Tag.id),
        "name": shaping.column(Tag.name),
        "restricted": shaping.typed((Tag.restricted,), lambda v: bool(v[0])),  # SQLite: 0/1
    },
    _tags,
    order=(Tag.id,),
)


def _rows_of(model: Any) -> Any:
    """The contact's rows of an emails/phones table (tenant criteria)."""
    return lambda access: (
        select()
        .select_from(model)
        .where(model.contact_id == Contact.id, access.read_criteria(model))
    )


EMAILS = shaping.ToMany(
    "ContactEmailType",
    {"kind": shaping.column(ContactEmail.kind), "address": shaping.column(ContactEmail.address)},
    _rows_of(ContactEmail),
    order=(ContactEmail.position, ContactEmail.id),
)
PHONES = shaping.ToMany(
    "ContactPhoneType",
    {"kind": shaping.column(ContactPhone.kind), "number": shaping.column(ContactPhone.number)},
    _rows_of(ContactPhone),
    order=(ContactPhone.position, ContactPhone.id),
)


#: NUMERIC(18, 6): the scale the ORM reads numbers at (SQLite stores them as floats).
_SCALE = Decimal("0.000001")


def _custom_value_text(v: tuple[Any, ...]) -> str | None:
    """``customfields.as_text`` of a value read as JSON elements: the number as text (a JSON
    number would be a float), the date as ISO text, the flag as a boolean or 0/1."""
    text, number, day, flag = v
    if text is not None:
        return str(text)
    if number is not None:
        return plain_decimal(Decimal(number).quantize(_SCALE))
    if day is not None:
        return str(day)
    if flag is not None:
        return "true" if flag else "false"
    return None


def _custom_values(access: Any) -> Any:
    """The contact's custom values and their definitions (tenant criteria)."""
    return (
        select()
        .select_from(CustomValue)
        .join(
            CustomField,
            (CustomField.id == CustomValue.field_id) & access.read_criteria(CustomField),
        )
        .where(CustomValue.contact_id == Contact.id, access.read_criteria(CustomValue))
    )


CUSTOM_FIELDS = shaping.ToMany(
    "CustomFieldValue",
    {
        "key": shaping.column(CustomField.key),
        "label": shaping.column(CustomField.label),
        "type": shaping.typed((CustomField.type,), lambda v: v[0]),  # stored as its name
        "value": shaping.typed(
            (
                CustomValue.value_text,
                cast(CustomValue.value_number, String),  # exact, not a JSON float
                CustomValue.value_date,
                CustomValue.value_bool,
            ),
            _custom_value_text,
        ),
    },
    _custom_values,
    order=(CustomField.position, CustomField.id),
)

ADDRESS = shaping.Embedded(
    "Address",
    {
        "street": shaping.column(Contact.street),
        "city": shaping.column(Contact.city),
        "region": shaping.column(Contact.region),
        "postalCode": shaping.column(Contact.postal_code),
        "country": shaping.column(Contact.country),
    },
)

OWNER = shaping.ToOne(shaping.USER, lambda contact, user: user.id == contact.owner_id)

#: Address parts are shown under ``address``; coordinates are floats of their own.
_NOT_PLAIN = ("street", "city", "region", "postalCode", "country", "latitude", "longitude")

_FIELDS = {
    **shaping.table_fields(Contact, FIELDS, skip=_NOT_PLAIN),
    "id": shaping.node_id("Contact", Contact.id),
    "displayName": shaping.typed(
        (Contact.kind, Contact.company_name, Contact.first_name, Contact.last_name),
        lambda v: display_name(*v),
    ),
    "email": shaping.typed((_first_of(ContactEmail, "address"),), lambda v: v[0]),
    "phone": shaping.typed((_first_of(ContactPhone, "number"),), lambda v: v[0]),
    "createdAt": shaping.column(Contact.created_at),
    "updatedAt": shaping.column(Contact.updated_at),
}
#: A contact as the target of another entity's to-one relation (a lead's, a contact's
#: company): its plain fields, address and owner (to-many relations read the listed row).
CONTACT_TARGET = shaping.Entity("Contact", Contact, _FIELDS, {"owner": OWNER, "address": ADDRESS})

CONTACT = shaping.Entity(
    "Contact",
    Contact,
    _FIELDS,
    {
        "owner": OWNER,
        "company": shaping.ToOne(
            CONTACT_TARGET, lambda contact, company: company.id == contact.company_id
        ),
        "address": ADDRESS,
        "tags": TAGS,
        "emails": EMAILS,
        "phones": PHONES,
        "customFields": CUSTOM_FIELDS,
    },
    full_access={
        "description": shaping.column(Contact.description),
        "discount": shaping.column(Contact.discount),
    },
)
