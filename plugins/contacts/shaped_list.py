"""The contacts list on the kernel's fast path (:mod:`gateway.shaping`): the contact's plain
fields, derived from its field table, plus the computed ones (display name, first email and
phone), the owner (joined) and the tags (a JSON aggregate in the page statement).
tests/test_shaped_results.py compares the shaped answers with the general path's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.sdk import shaping
from plugins.contacts.fields import FIELDS
from plugins.contacts.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    ContactTagLink,
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

#: Address parts are shown under ``address``; coordinates are floats of their own.
_NOT_PLAIN = ("street", "city", "region", "postalCode", "country", "latitude", "longitude")

CONTACT = shaping.Entity(
    "Contact",
    Contact,
    {
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
    },
    {
        "owner": shaping.ToOne(shaping.USER, lambda: shaping.USER.model.id == Contact.owner_id),
        "tags": TAGS,
    },
)
#: A contact as the target of another entity's to-one relation: its plain fields only.
CONTACT_TARGET = shaping.Entity("Contact", Contact, CONTACT.fields)
