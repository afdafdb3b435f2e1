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
from plugins.contacts.fields import EXPORTED
from plugins.contacts.models import Contact


def contacts_workbook(context: Any, contacts: list[Contact]) -> bytes:
    """Fields the caller may not read (effective field rules: derivations such as ``email``
    from ``emails`` followed) are left out; full-access fields are blank for contacts seen
    only through a public level; strings are never formulas."""
    rules = effective_rules(context.access)
    columns = [
        f
        for f in EXPORTED
        if not any(rules.hidden(parse_field(name, "Contact")) for name in f.reads)
    ]
    rows = []
    for contact in contacts:
        full = has_full_access(context, contact)
        rows.append([f.value(contact) if full or not f.full_access else "" for f in columns])
    workbook = new_workbook()
    add_sheet(workbook, "Contacts", [f.label for f in columns], rows)
    return to_bytes(workbook)
