"""Export of contacts to Excel: exactly the rows and fields the caller may see."""

from __future__ import annotations

from typing import Any

from gateway.sdk import (
    add_sheet,
    effective_rules,
    has_full_access,
    new_workbook,
    parse_field,
    to_bytes,
)
from plugins.contacts.models import Contact

#: (GraphQL field, header, value) — the GraphQL name is what field rules refer to.
#: Address parts are shown by ``Contact.address`` and ``Address.<part>``: both must be readable.
COLUMNS: list[tuple[str, str, Any]] = [
    ("kind", "Kind", lambda c: c.kind.value),
    ("displayName", "Name", lambda c: c.display_name),
    ("companyName", "Company", lambda c: c.company_name),
    ("email", "Email", lambda c: c.emails[0].address if c.emails else ""),
    ("phone", "Phone", lambda c: c.phones[0].number if c.phones else ""),
    ("category", "Category", lambda c: c.category.value if c.category else ""),
    ("fiscalId", "Fiscal ID", lambda c: c.fiscal_id),
    ("address+Address.city", "City", lambda c: c.city),
    ("address+Address.country", "Country", lambda c: c.country),
    ("source", "Source", lambda c: c.source),
    ("segment", "Segment", lambda c: c.segment),
    ("zone", "Zone", lambda c: c.zone),
    ("tags", "Tags", lambda c: ", ".join(link.tag.name for link in c.tag_links)),
    ("access", "Access", lambda c: c.access),
    ("description", "Description", lambda c: c.description),
    ("discount", "Discount %", lambda c: float(c.discount) if c.discount is not None else ""),
]
FULL_ACCESS = {"description", "discount"}


def contacts_workbook(context: Any, contacts: list[Contact]) -> bytes:
    """Fields the caller may not read (effective field rules: derivations such as ``email``
    from ``emails`` followed) are left out; full-access fields are blank for contacts seen
    only through a public level; strings are never formulas."""
    rules = effective_rules(context.access)
    columns = [
        c
        for c in COLUMNS
        if not any(rules.hidden(parse_field(name, "Contact")) for name in c[0].split("+"))
    ]
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
