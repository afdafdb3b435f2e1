"""The ``[field]`` placeholders a mailing may use, declared per audience, and how a
template is checked and filled.

A placeholder is ``[key]`` (letters, digits, underscores; case-insensitive). Any other
bracketed text (``[1]``, ``[see below]``) is left as written; a ``[key]`` that is not
declared for the audience is refused when the mailing is saved, previewed or sent.

A placeholder whose field the caller's profile hides (a field rule, MISSION A10) is
*refused*, not sent empty: an author who may not read a client's email address must not
learn it by mailing it to themselves, and a silently blank greeting is a worse surprise
than an error naming the rule. No declared field needs full access to the record
(``@fullAccess``), so what the author's profile may read is what every recipient shows.

Values are one line of printable text; in the HTML part, both the author's text and the
values are HTML-escaped, so neither can inject markup. Substitution is one pass: a value
that itself reads ``[email]`` stays that text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.sdk import BadUserInput, CallerContext, printable, unreadable_fields
from plugins.consent.mailing.models import Audience

PATTERN = re.compile(r"\[([A-Za-z][A-Za-z0-9_]*)\]")


@dataclass(frozen=True)
class Placeholder:
    #: What the author writes between brackets.
    key: str
    label: str
    #: The GraphQL fields (``Type.field``) whose field rules decide if the author may use it.
    reads: tuple[str, ...]
    value: Callable[[Any], str]


def _contact_email(contact: Any) -> str:
    return contact.emails[0].address if contact.emails else ""


def _attr(name: str) -> Callable[[Any], str]:
    return lambda record: str(getattr(record, name) or "")


CONTACT_PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("name", "Name", ("Contact.displayName",), lambda c: c.display_name),
    Placeholder("first_name", "First name", ("Contact.firstName",), _attr("first_name")),
    Placeholder("last_name", "Last name", ("Contact.lastName",), _attr("last_name")),
    Placeholder("company", "Company", ("Contact.companyName",), _attr("company_name")),
    Placeholder("email", "Email", ("Contact.email",), _contact_email),
    Placeholder("city", "City", ("Contact.address", "Address.city"), _attr("city")),
)
#: A lead of the leads module, read through the registry's model (attributes by name).
LEAD_PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("name", "Name", ("Lead.name",), _attr("name")),
    Placeholder("company", "Company", ("Lead.company",), _attr("company")),
    Placeholder("email", "Email", ("Lead.email",), _attr("email")),
)
DECLARED: dict[Audience, tuple[Placeholder, ...]] = {
    Audience.CONTACTS: CONTACT_PLACEHOLDERS,
    Audience.LEADS: LEAD_PLACEHOLDERS,
}


def declared(audience: Audience) -> dict[str, Placeholder]:
    return {p.key: p for p in DECLARED[audience]}


def hidden_reads(ctx: CallerContext, placeholder: Placeholder) -> list[str]:
    """The fields behind ``placeholder`` that the caller's profile may not read."""
    hidden = []
    for read in placeholder.reads:
        type_name, _, field = read.partition(".")
        if unreadable_fields(ctx, type_name, [field]):
            hidden.append(read)
    return hidden


def used(text: str) -> list[str]:
    """The placeholder keys ``text`` uses, lower-cased, in order of first use."""
    return list(dict.fromkeys(m.group(1).lower() for m in PATTERN.finditer(text)))


def check(ctx: CallerContext, audience: Audience, subject: str, body: str) -> list[Placeholder]:
    """The placeholders the subject and body use; BAD_USER_INPUT (naming ``subject`` or
    ``body``) for one not declared for ``audience`` or hidden from the caller."""
    known = declared(audience)
    found: dict[str, Placeholder] = {}
    for field, text in (("subject", subject), ("body", body)):
        keys = used(text)
        unknown = [k for k in keys if k not in known]
        if unknown:
            allowed = ", ".join(f"[{k}]" for k in known)
            raise BadUserInput(
                f"unknown placeholder {', '.join(f'[{k}]' for k in unknown)}; "
                f"a mailing to {audience.value.lower()} may use {allowed}",
                field=field,
            )
        for key in keys:
            hidden = hidden_reads(ctx, known[key])
            if hidden:
                raise BadUserInput(
                    f"[{key}] is not available: your profile may not read {', '.join(hidden)}",
                    field=field,
                )
            found[key] = known[key]
    return list(found.values())


def values_of(
    record: Any, placeholders: Iterable[Placeholder], address: str = ""
) -> dict[str, str]:
    """One recipient's values, as one printable line each; ``[email]`` is the address the
    message goes to (a contact may have several)."""
    values = {p.key: printable(p.value(record), one_line=True) for p in placeholders}
    if address and "email" in values:
        values["email"] = printable(address, one_line=True)
    return values


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each known ``[key]`` replaced by its value, in one pass (a value is
    never read for placeholders itself)."""

    def value(match: re.Match[str]) -> str:
        return values.get(match.group(1).lower(), match.group(0))

    return PATTERN.sub(value, text)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(subject: str, body: str, values: dict[str, str]) -> Rendered:
    """The subject (one line), the plain-text body and its HTML alternative (escaped;
    blank lines make paragraphs, single line breaks ``<br>``)."""
    text = printable(fill(body, values))
    escaped = html.escape(text.replace("\r\n", "\n"))
    paragraphs = [p for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    markup = "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>\n" for p in paragraphs)
    return Rendered(
        subject=printable(fill(subject, values), one_line=True),
        text=text,
        html=f"<!DOCTYPE html>\n<html><body>\n{markup}</body></html>\n",
    )
