"""The contact's fields, declared once: what the export, the merge, web forms and the
services' "which fields changed" mapping read, and what the contact import will read
(``import_as``: how to parse a cell; ``features`` names them as ``gateway.sdk.Feature``).

Each :class:`ContactField` names the GraphQL field (what field rules and clients use), the
``Contact`` attribute behind it, its label, its kind, and which features use it. A field
added here shows up in each of them; nothing else lists a contact's fields by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.sdk import Feature, ValueKind
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
    #: Read by the contact import, as this kind of cell (``None``: not imported).
    import_as: ValueKind | None = None
    #: An imported contact must have it. None is, alone: a person needs a first or last
    #: name, a company a company name (the service's check decides).
    required: bool = False

    @property
    def features(self) -> frozenset[Feature]:
        """The features that read this field, as the kernel's field tables name them."""
        flags = {
            Feature.EXPORT: self.export,
            Feature.MERGE: self.merge,
            Feature.WEB_FORM: self.web_form,
            Feature.IMPORT: self.import_as is not None,
        }
        return frozenset(f for f, on in flags.items() if on)

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


V = ValueKind
T, C, N, R, L = (
    FieldKind.TEXT,
    FieldKind.CHOICE,
    FieldKind.NUMBER,
    FieldKind.REFERENCE,
    FieldKind.LIST,
)

#: Every field, in the export's column order (web forms keep this order too).
FIELDS: tuple[ContactField, ...] = (
    ContactField("kind", "kind", "Kind", C, export=True, show=_enum("kind"), import_as=V.CHOICE),
    ContactField(
        "displayName",
        None,
        "Name",
        FieldKind.COMPUTED,
        export=True,
        show=lambda c: c.display_name,
    ),
    ContactField(
        "firstName", "first_name", "First name", T, merge=True, web_form=True, import_as=V.TEXT
    ),
    ContactField(
        "lastName", "last_name", "Last name", T, merge=True, web_form=True, import_as=V.TEXT
    ),
    ContactField(
        "companyName",
        "company_name",
        "Company",
        T,
        export=True,
        merge=True,
        web_form=True,
        import_as=V.TEXT,
    ),
    ContactField(
        "email",
        None,
        "Email",
        L,
        export=True,
        show=lambda c: c.emails[0].address if c.emails else "",
        web_form=True,
        import_as=V.EMAIL,
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
        import_as=V.PHONE,
    ),
    ContactField(
        "phones",
        "phones",
        "Phones",
        L,
        rules=("phones", "ContactPhoneType.number", "ContactPhoneType.kind"),
    ),
    ContactField("website", "website", "Website", T, merge=True, web_form=True, import_as=V.TEXT),
    ContactField(
        "category",
        "category",
        "Category",
        C,
        export=True,
        show=_enum("category"),
        merge=True,
        import_as=V.CHOICE,
    ),
    ContactField("clientKind", "client_kind", "Client kind", C, merge=True, import_as=V.CHOICE),
    ContactField(
        "fiscalId", "fiscal_id", "Fiscal ID", C, export=True, merge=True, import_as=V.TEXT
    ),
    ContactField(
        "fiscalIdType", "fiscal_id_type", "Fiscal ID type", C, merge=True, import_as=V.CHOICE
    ),
    ContactField(
        "street", "street", "Street", T, rules=_address("street"), merge=True, import_as=V.TEXT
    ),
    ContactField(
        "city",
        "city",
        "City",
        T,
        rules=_address("city"),
        export=True,
        merge=True,
        web_form=True,
        import_as=V.TEXT,
    ),
    ContactField(
        "region", "region", "Region", T, rules=_address("region"), merge=True, import_as=V.TEXT
    ),
    ContactField(
        "postalCode",
        "postal_code",
        "Postal code",
        T,
        rules=_address("postalCode"),
        merge=True,
        import_as=V.TEXT,
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
        import_as=V.CHOICE,
    ),
    ContactField("source", "source", "Source", T, export=True, merge=True, import_as=V.TEXT),
    ContactField("segment", "segment", "Segment", T, export=True, merge=True, import_as=V.TEXT),
    ContactField("zone", "zone", "Zone", T, export=True, merge=True, import_as=V.TEXT),
    ContactField(
        "tags",
        "tags",
        "Tags",
        L,
        export=True,
        show=lambda c: ", ".join(link.tag.name for link in c.tag_links),
    ),
    ContactField("access", "access", "Access", C, export=True, import_as=V.CHOICE),
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
        import_as=V.TEXT,
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
        import_as=V.DECIMAL,
    ),
    ContactField("currency", "currency", "Currency", C, merge=True, import_as=V.CHOICE),
    ContactField("latitude", "latitude", "Latitude", N, merge=True),
    ContactField("longitude", "longitude", "Longitude", N, merge=True),
    ContactField("company", "company_id", "Company", R, import_as=V.REFERENCE),
    ContactField("contactType", "contact_type_id", "Contact type", R, import_as=V.REFERENCE),
    ContactField("owner", "owner_id", "Manager", R, import_as=V.REFERENCE),
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
#: The fields the contact import reads, in column order.
IMPORTED = tuple(f for f in FIELDS if f.import_as is not None)


def written_fields(attr: str) -> tuple[str, ...]:
    """The GraphQL fields writing service attribute ``attr`` writes (for field rules and
    change events)."""
    found = BY_ATTR.get(attr)
    if found is not None:
        return found.reads
    head, *rest = attr.split("_")
    return (head + "".join(p.capitalize() for p in rest),)
