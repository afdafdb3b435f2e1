"""The contact's fields, declared once: what the export, the merge, web forms and the
services' "which fields changed" mapping read (and the coming import will).

Each :class:`ContactField` names the GraphQL field (what field rules and clients use), the
``Contact`` attribute behind it, its label, its kind, and which features use it. A field
added here shows up in each of them; nothing else lists a contact's fields by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugins.contacts.models import Contact


class FieldKind(StrEnum):
    """How a field's value is stored and written."""

    TEXT = "TEXT"  # a plain string column, trimmed on write
    CHOICE = "CHOICE"  # an enum or code (kind, category, country, currency…)
    NUMBER = "NUMBER"  # a decimal (discount, coordinates)
    REFERENCE = "REFERENCE"  # another record's id (company, contact type, owner)
    LIST = "LIST"  # rows of their own (emails, phones, tags, custom values)
    COMPUTED = "COMPUTED"  # read-only, computed from others


@dataclass(frozen=True)
class ContactField:
    #: The GraphQL field of ``Contact`` (what field rules refer to).
    name: str
    #: The ``Contact`` attribute (the service's input key); ``None``: no column of its own.
    attr: str | None
    #: The column header of the export and the label of a web form field.
    label: str
    kind: FieldKind
    #: The GraphQL fields this one reads or writes for field rules (address parts are
    #: shown by ``address`` and ``Address.<part>``); default: ``(name,)``.
    rules: tuple[str, ...] = ()
    #: Exported, with ``show`` (default: the attribute) giving the cell's value.
    export: bool = False
    show: Callable[[Contact], Any] | None = None
    #: Needs full access to the contact (blank in the export otherwise).
    full_access: bool = False
    #: May be taken from the merged contact in ``mergeContacts(take: [...])``.
    merge: bool = False
    #: May be collected by a web form, with this label (default: ``label``).
    web_form: bool = False
    form_label: str = ""

    @property
    def reads(self) -> tuple[str, ...]:
        return self.rules or (self.name,)

    def value(self, contact: Contact) -> Any:
        if self.show is not None:
            return self.show(contact)
        return getattr(contact, self.attr) if self.attr else None


def _address(part: str) -> tuple[str, ...]:
    return ("address", f"Address.{part}")


def _enum(attr: str) -> Callable[[Contact], Any]:
    def show(contact: Contact) -> Any:
        value = getattr(contact, attr)
        return value.value if value is not None else ""

    return show


T, C, N, R, L = (
    FieldKind.TEXT,
    FieldKind.CHOICE,
    FieldKind.NUMBER,
    FieldKind.REFERENCE,
    FieldKind.LIST,
)

#: Every field, in the export's column order (web forms keep this order too).
FIELDS: tuple[ContactField, ...] = (
    ContactField("kind", "kind", "Kind", C, export=True, show=_enum("kind")),
    ContactField(
        "displayName",
        None,
        "Name",
        FieldKind.COMPUTED,
        export=True,
        show=lambda c: c.display_name,
    ),
    ContactField("firstName", "first_name", "First name", T, merge=True, web_form=True),
    ContactField("lastName", "last_name", "Last name", T, merge=True, web_form=True),
    ContactField(
        "companyName", "company_name", "Company", T, export=True, merge=True, web_form=True
    ),
    ContactField(
        "email",
        None,
        "Email",
        L,
        export=True,
        show=lambda c: c.emails[0].address if c.emails else "",
        web_form=True,
    ),
    ContactField(
        "emails",
        "emails",
        "Emails",
        L,
        rules=("emails", "ContactEmailType.address", "ContactEmailType.kind"),
    ),
    ContactField(
        "phone",
        None,
        "Phone",
        L,
        export=True,
        show=lambda c: c.phones[0].number if c.phones else "",
        web_form=True,
    ),
    ContactField(
        "phones",
        "phones",
        "Phones",
        L,
        rules=("phones", "ContactPhoneType.number", "ContactPhoneType.kind"),
    ),
    ContactField("website", "website", "Website", T, merge=True, web_form=True),
    ContactField(
        "category", "category", "Category", C, export=True, show=_enum("category"), merge=True
    ),
    ContactField("clientKind", "client_kind", "Client kind", C, merge=True),
    ContactField("fiscalId", "fiscal_id", "Fiscal ID", C, export=True, merge=True),
    ContactField("fiscalIdType", "fiscal_id_type", "Fiscal ID type", C, merge=True),
    ContactField("street", "street", "Street", T, rules=_address("street"), merge=True),
    ContactField(
        "city", "city", "City", T, rules=_address("city"), export=True, merge=True, web_form=True
    ),
    ContactField("region", "region", "Region", T, rules=_address("region"), merge=True),
    ContactField(
        "postalCode", "postal_code", "Postal code", T, rules=_address("postalCode"), merge=True
    ),
    ContactField(
        "country",
        "country",
        "Country",
        C,
        rules=_address("country"),
        export=True,
        merge=True,
        web_form=True,
        form_label="Country (ISO code, e.g. ES)",
    ),
    ContactField("source", "source", "Source", T, export=True, merge=True),
    ContactField("segment", "segment", "Segment", T, export=True, merge=True),
    ContactField("zone", "zone", "Zone", T, export=True, merge=True),
    ContactField(
        "tags",
        "tags",
        "Tags",
        L,
        export=True,
        show=lambda c: ", ".join(link.tag.name for link in c.tag_links),
    ),
    ContactField("access", "access", "Access", C, export=True),
    ContactField(
        "description",
        "description",
        "Description",
        T,
        export=True,
        full_access=True,
        merge=True,
        web_form=True,
        form_label="Message",
    ),
    ContactField(
        "discount",
        "discount",
        "Discount %",
        N,
        export=True,
        show=lambda c: float(c.discount) if c.discount is not None else "",
        full_access=True,
        merge=True,
    ),
    ContactField("currency", "currency", "Currency", C, merge=True),
    ContactField("latitude", "latitude", "Latitude", N, merge=True),
    ContactField("longitude", "longitude", "Longitude", N, merge=True),
    ContactField("company", "company_id", "Company", R),
    ContactField("contactType", "contact_type_id", "Contact type", R),
    ContactField("owner", "owner_id", "Manager", R),
    ContactField(
        "customFields",
        "custom_fields",
        "Custom fields",
        L,
        rules=("customFields", "CustomFieldValue.value"),
    ),
)

BY_NAME = {f.name: f for f in FIELDS}
BY_ATTR = {f.attr: f for f in FIELDS if f.attr}

#: Plain string attributes (trimmed on write), with their GraphQL names.
TEXT_ATTRS = {f.attr: f.name for f in FIELDS if f.kind is FieldKind.TEXT and f.attr}
#: The fields a merge may take from the merged contact: GraphQL name → attribute.
MERGEABLE = {f.name: f.attr for f in FIELDS if f.merge and f.attr}
#: The export's columns, in order.
EXPORTED = tuple(f for f in FIELDS if f.export)
#: The fields a web form may collect, in order: GraphQL name → field.
FORM_FIELDS = {f.name: f for f in FIELDS if f.web_form}


def written_fields(attr: str) -> tuple[str, ...]:
    """The GraphQL fields writing service attribute ``attr`` writes (for field rules and
    change events)."""
    found = BY_ATTR.get(attr)
    if found is not None:
        return found.reads
    head, *rest = attr.split("_")
    return (head + "".join(p.capitalize() for p in rest),)
