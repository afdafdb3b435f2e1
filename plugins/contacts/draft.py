"""A contact being created, before it is a row: the create rules (``services.build_contact``)
fill a :class:`ContactDraft` — plain attributes, every column at its default — and then

* ``create_contact`` turns it into a ``Contact`` for the unit of work (:meth:`to_contact`);
* ``create_contacts`` (imports) inserts many drafts as rows (``gateway.bulk``) and hands
  them back, holding exactly what was written.

Why not a transient ``Contact``: filling an ORM instance fires an attribute event per
value and builds a collection adapter per list — for an import, more than the INSERTs
themselves. The attribute list below mirrors the model's columns (a test checks it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import inspect

from plugins.contacts.models import (
    Category,
    ClientKind,
    Contact,
    ContactAssignment,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    CustomValue,
    FiscalIdType,
    display_name,
)

#: The relationships a draft carries as plain lists.
COLLECTIONS = ("emails", "phones", "tag_links", "custom_values", "assignments")


class ChildDraft:
    """A new contact's email or phone as plain attributes (building an ORM instance costs
    more than inserting its row): ``ContactDraft.to_contact`` makes the ORM row,
    ``create_contacts`` inserts :meth:`values` as a row of :attr:`model`."""

    model: ClassVar[type[Any]]

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def values(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def to_row(self) -> Any:
        return self.model(**self.__dict__)


class EmailDraft(ChildDraft):
    model = ContactEmail
    tenant_id: int
    kind: str
    address: str
    position: int


class PhoneDraft(ChildDraft):
    model = ContactPhone
    tenant_id: int
    kind: str
    number: str
    digits: str
    position: int


@lru_cache(maxsize=1)
def columns() -> tuple[tuple[str, Any], ...]:
    """(attribute, column default) of every ``Contact`` column."""
    return tuple((prop.key, prop.columns[0].default) for prop in inspect(Contact).column_attrs)


class ContactDraft:
    """A new contact's values (every ``Contact`` column) and its dependent rows."""

    id: int | None
    tenant_id: int
    kind: ContactKind
    first_name: str
    last_name: str
    company_name: str
    company_id: int | None
    client_kind: ClientKind | None
    category: Category | None
    contact_type_id: int | None
    currency: str
    website: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    fiscal_id: str
    fiscal_id_type: FiscalIdType | None
    source: str
    segment: str
    zone: str
    description: str
    discount: Decimal | None
    photo: bytes | None
    photo_mime: str | None
    owner_id: int | None
    access: str
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    sort_name: str
    search_text: str
    search_first_name: str
    search_last_name: str
    search_company_name: str
    search_emails: str
    search_phones: str
    search_fiscal_id: str
    search_tags: str

    emails: list[EmailDraft]
    phones: list[PhoneDraft]
    tag_links: list[ContactTagLink]
    custom_values: list[CustomValue]
    assignments: list[ContactAssignment]
    #: The company a person belongs to, when given (read by whoever shows the new contact).
    company: Contact | None

    def __init__(self, **values: Any) -> None:
        for attr, default in columns():
            if attr in values:
                value = values[attr]
            elif default is None:
                value = None
            elif default.is_callable:
                value = default.arg(None)
            else:
                value = default.arg
            setattr(self, attr, value)
        self.emails, self.phones, self.tag_links = [], [], []
        self.custom_values, self.assignments = [], []
        self.company = None

    @property
    def display_name(self) -> str:
        return display_name(self.kind, self.company_name, self.first_name, self.last_name)

    def row(self) -> dict[str, Any]:
        """The contact's row (without ``id`` until it has one)."""
        row = {attr: getattr(self, attr) for attr, _ in columns()}
        if row["id"] is None:
            del row["id"]
        return row

    def to_contact(self) -> Contact:
        """A new ``Contact`` holding the draft, with its dependent rows, for the session."""
        contact = Contact(**self.row())
        contact.emails = [e.to_row() for e in self.emails]
        contact.phones = [p.to_row() for p in self.phones]
        for name in ("tag_links", "custom_values", "assignments"):
            setattr(contact, name, getattr(self, name))
        if self.company is not None:
            contact.company = self.company
        return contact
