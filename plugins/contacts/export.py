"""Export of contacts to Excel: exactly the rows and fields the caller may see."""

from __future__ import annotations

from typing import Any

from gateway.access.fields import has_full_access
from gateway.access.reads import unreadable_fields
from gateway.excel import add_sheet, new_workbook, to_bytes
from plugins.contacts.models import Contact

#: (GraphQL field, header, value) — the GraphQL name is what field rules refer to.
COLUMNS: list[tuple[str, str, Any]] = [
    ("kind", "Kind", lambda c: c.kind.value),
    ("displayName", "Name", lambda c: c.display_name),
    ("companyName", "Company", lambda c: c.company_name),
    ("email", "Email", lambda c: c.emails[0].address if c.emails else ""),
    ("phone", "Phone", lambda c: c.phones[0].number if c.phones else ""),
    ("category", "Category", lambda c: c.category.value if c.category else ""),
    ("fiscalId", "Fiscal ID", lambda c: c.fiscal_id),
    ("city", "City", lambda c: c.city),
    ("country", "Country", lambda c: c.country),
    ("source", "Source", lambda c: c.source),
    ("segment", "Segment", lambda c: c.segment),
    ("zone", "Zone", lambda c: c.zone),
    ("tags", "Tags", lambda c: ", ".join(link.tag.name for link in c.tag_links)),
    ("access", "Access", lambda c: c.access),
    ("description", "Description", lambda c: c.description),
    ("discount", "Discount %", lambda c: float(c.discount) if c.discount is not None else ""),
]
FULL_ACCESS = {"description", "discount"}
#: Columns printing the value of other fields too: left out when any of them is unreadable.
ALSO_SHOWS: dict[str, tuple[str, ...]] = {
    "displayName": ("firstName", "lastName", "companyName"),
    "email": ("emails",),
    "phone": ("phones",),
}


def contacts_workbook(context: Any, contacts: list[Contact]) -> bytes:
    """Columns showing a field the caller may not read (field rules, ``@requires``) are
    left out; full-access fields are blank for contacts seen only through a public level;
    strings are never formulas."""
    shown = {name: (name, *ALSO_SHOWS.get(name, ())) for name, _, _ in COLUMNS}
    hidden = unreadable_fields(context, "Contact", {f for fields in shown.values() for f in fields})
    columns = [c for c in COLUMNS if not hidden.intersection(shown[c[0]])]
    rows = []
    for contact in contacts:
        full = has_full_access(context, contact)
        rows.append(
            [
                value(contact) if full or name not in FULL_ACCESS else ""
                for name, _, value in columns
            ]
        )
    workbook = new_workbook()
    add_sheet(workbook, "Contacts", [header for _, header, _ in columns], rows)
    return to_bytes(workbook)
