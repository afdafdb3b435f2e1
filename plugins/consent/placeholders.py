"""``[field]`` placeholders of a request's subject and body (MISSION K2): the fields a
template may use, the check when a configuration is saved, and the rendering.

Rendering produces plain text (the values as stored); the HTML part of the mail escapes
the whole rendered text, values included, so a client named ``<script>`` stays text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.sdk import BadUserInput, printable
from plugins.contacts.models import Contact

PATTERN = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]")


@dataclass(frozen=True)
class Employee:
    """A user (employee) seen through a template's client fields: the name split at its
    first space; the client-only fields are empty."""

    display_name: str
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    city: str = ""
    country: str = ""
    fiscal_id: str = ""

    @classmethod
    def named(cls, display_name: str) -> Employee:
        first, _, last = display_name.strip().partition(" ")
        return cls(display_name=display_name, first_name=first, last_name=last.strip())


@dataclass(frozen=True)
class Recipient:
    """What a template may show: the client (or employee), the sending company and the
    organisation."""

    contact: Contact | Employee
    email: str
    company: str
    organization: str


def _name(r: Recipient) -> str:
    return r.contact.display_name


#: name → (description, value). The list admins pick from (``consentTemplateFields``).
FIELDS: dict[str, tuple[str, Callable[[Recipient], str]]] = {
    "name": ("The client's name (a company's name, or a person's full name).", _name),
    "first_name": ("A person's first name.", lambda r: r.contact.first_name),
    "last_name": ("A person's last name.", lambda r: r.contact.last_name),
    "company_name": ("The client company's name.", lambda r: r.contact.company_name),
    "email": ("The address the request is sent to.", lambda r: r.email),
    "city": ("The client's city.", lambda r: r.contact.city),
    "country": ("The client's country (ISO code).", lambda r: r.contact.country),
    "fiscal_id": ("The client's fiscal ID.", lambda r: r.contact.fiscal_id),
    "managing_company": ("The managing company that asks.", lambda r: r.company),
    "organization": ("Your organisation's name.", lambda r: r.organization),
}


def check(text: str, field: str) -> None:
    """Refuse a template naming a placeholder that is not in :data:`FIELDS`."""
    unknown = sorted({m.group(1) for m in PATTERN.finditer(text)} - FIELDS.keys())
    if unknown:
        allowed = ", ".join(f"[{n}]" for n in FIELDS)
        raise BadUserInput(
            f"unknown placeholder {', '.join(f'[{n}]' for n in unknown)}; use {allowed}",
            field=field,
        )


def render(text: str, recipient: Recipient) -> str:
    """``text`` with each placeholder replaced by the recipient's value (plain text)."""

    def value(match: re.Match[str]) -> str:
        found = FIELDS.get(match.group(1))
        return printable(found[1](recipient) or "") if found else match.group(0)

    return PATTERN.sub(value, text)
