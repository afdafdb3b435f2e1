"""The contacts' import templates (MISSION M1): "contact / company" and "contact /
individual", their columns taken from the field table (labels, GraphQL names for field
rules) and their drop-downs from the tenant's catalogues, read through the caller's context
(contact types, sources, segments, tags the caller may assign, users who may own contacts,
countries)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from babel import Locale
from sqlalchemy import select

from gateway.sdk import Profile, ProfileKind, SheetColumn, SheetTemplate, User
from plugins.contacts.fields import BY_NAME
from plugins.contacts.models import ClientKind, Contact, ContactType, FiscalIdType, Tag, TagGrant
from plugins.contacts.permissions import ContactsPermission as P


def contact_types(ctx: Any) -> Sequence[str]:
    return list(ctx.session.scalars(select(ContactType.name).order_by(ContactType.name)))


def _distinct(ctx: Any, column: Any) -> Sequence[str]:
    """Values already used on contacts the caller may see (the session's predicate)."""
    stmt = select(column).where(column != "").distinct().order_by(column).limit(2_000)
    return list(ctx.session.scalars(stmt))


def sources(ctx: Any) -> Sequence[str]:
    return _distinct(ctx, Contact.source)


def segments(ctx: Any) -> Sequence[str]:
    return _distinct(ctx, Contact.segment)


def tags(ctx: Any) -> Sequence[str]:
    """Tags the caller may put on a contact: none without the permission; restricted ones
    only with a grant to the caller's profile (administrators: all)."""
    caller = ctx.caller
    if caller is None or not ctx.has(P.ASSIGN_TAGS.value):
        return []
    stmt = select(Tag.name).order_by(Tag.name)
    if not caller.is_admin:
        granted = select(TagGrant.tag_id).where(TagGrant.profile_id == caller.profile_id)
        stmt = stmt.where(Tag.restricted.is_(False) | Tag.id.in_(granted))
    return list(ctx.session.scalars(stmt))


def users(ctx: Any) -> Sequence[str]:
    """Active users of the tenant who may manage contacts (assistants may not)."""
    stmt = (
        select(User.email)
        .join(Profile, Profile.id == User.profile_id)
        .where(User.is_active.is_(True), Profile.kind != ProfileKind.ASSISTANT)
        .order_by(User.email)
    )
    return list(ctx.session.scalars(stmt))


@cache
def _country_codes() -> tuple[str, ...]:
    codes = [str(code) for code in Locale("en").territories]
    return tuple(sorted(c for c in codes if len(c) == 2 and c.isalpha() and c != "ZZ"))


def countries(ctx: Any) -> Sequence[str]:
    return _country_codes()


def _column(name: str, *, required: bool = False, **kw: Any) -> SheetColumn:
    f = BY_NAME[name]
    return SheetColumn(header=f.label, key=name, required=required, reads=f.reads, **kw)


def _common() -> tuple[SheetColumn, ...]:
    return (
        _column("fiscalIdType", kind="CHOICE", choices=tuple(FiscalIdType)),
        _column("fiscalId", format="Tax ID (CIF, NIF, NIE or other), e.g. B12345678"),
        _column(
            "emails", kind="EMAIL", multiple=True, format="Email address, e.g. ana@example.com"
        ),
        _column("phones", kind="PHONE", multiple=True, format="Phone number, e.g. +34 600 000 000"),
        _column("contactType", kind="CHOICE", choices_from=contact_types),
        _column("street", format="Street and number"),
        _column("city"),
        _column("region", format="Province or state"),
        _column("postalCode", format="Postal code as text, e.g. 08001"),
        _column("country", kind="CHOICE", choices_from=countries, format="ISO code, e.g. ES"),
        _column("source", kind="CHOICE", choices_from=sources, format="Where the client came from"),
        _column("segment", kind="CHOICE", choices_from=segments),
        _column("zone"),
        _column("tags", kind="LIST", multiple=True, choices_from=tags),
        _column("owner", kind="CHOICE", choices_from=users, format="The manager's email"),
        _column("description", format="Free text"),
    )


COMPANY = SheetTemplate(
    entity="contact",
    variant="company",
    title="Companies",
    type_name="Contact",
    description="Clients that are companies.",
    columns=(
        _column("companyName", required=True, format="The company's name"),
        _column("website", format="Web address, e.g. https://example.com"),
        *_common(),
    ),
    notes=("One company per row. Leave a cell empty to leave the value unset.",),
)

INDIVIDUAL = SheetTemplate(
    entity="contact",
    variant="individual",
    title="Individuals",
    type_name="Contact",
    description="Clients that are persons (individuals or self-employed).",
    columns=(
        _column("firstName", required=True, format="First name"),
        _column("lastName", format="Last name(s)"),
        _column(
            "clientKind",
            kind="CHOICE",
            choices=(ClientKind.INDIVIDUAL.value, ClientKind.SELF_EMPLOYED.value),
        ),
        *_common(),
    ),
    notes=("One person per row. Leave a cell empty to leave the value unset.",),
)

DOCUMENTS = SheetTemplate(
    entity="contact",
    variant="documents",
    title="Clients by document number",
    type_name="Contact",
    description="Existing clients named by their document number, for mass updates: tag "
    "them, set their source and segment, assign them (chosen before the upload).",
    columns=(_column("fiscalId", required=True, format="The client's tax ID, e.g. B12345678"),),
    notes=(
        "One client per row. Rows that name no client you may change are reported, not created.",
    ),
)

TEMPLATES = (COMPANY, INDIVIDUAL, DOCUMENTS)
