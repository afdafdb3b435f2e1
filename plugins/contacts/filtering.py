"""Reading contacts: the list's filters and the search, as SQL over what the caller may see
(the session's access predicate applies), and the custom field definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    customfields,
    unreadable_fields,
    visible_rows,
)
from plugins.contacts import assignments
from plugins.contacts import validation as check
from plugins.contacts.models import (
    Category,
    Contact,
    ContactKind,
    ContactTagLink,
    CustomField,
    CustomValue,
    Tag,
)
from plugins.contacts.search_index import contains_word, in_ids


@dataclass
class ContactFilter:
    mine: bool = False
    kind: ContactKind | None = None
    category: Category | None = None
    client_kind: Any = None
    contact_type_id: int | None = None
    tags: list[str] = field(default_factory=list)
    owner_id: int | None = None
    source: str | None = None
    segment: str | None = None
    zone: str | None = None
    #: Assigned through this managing company and/or to this user (the same assignment).
    managing_company_id: int | None = None
    assigned_user_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    custom: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    # (key, equals, min, max)


#: The universal search's columns, each with the ``Contact`` fields that show its text: a
#: column is searched only when the caller may read every one of them (``email``/``emails``
#: and ``phone``/``phones`` show the same values). ``Contact.search_text`` holds them all,
#: for callers who may read them all.
SEARCHED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Contact.search_first_name, ("firstName",)),
    (Contact.search_last_name, ("lastName",)),
    (Contact.search_company_name, ("companyName",)),
    (Contact.search_emails, ("email", "emails")),
    (Contact.search_phones, ("phone", "phones")),
    (Contact.search_fiscal_id, ("fiscalId",)),
    (Contact.search_tags, ("tags",)),
)
#: A person is also found by its company's name, read on the company itself: the caller
#: must be able to read the link and the name, and to see that company.
COMPANY_SEARCH_READS = ("company", "companyName")


def search_condition(ctx: CallerContext, text: str) -> Any:
    """Every word of ``text`` (accents and case ignored) must appear in a field of the
    contact that the caller may read — names, emails, phones, fiscal ID, tags — or in the
    name of its company, when the caller may see that company. Fields the caller's profile
    hides are not searched: matches would reveal them, letter by letter."""
    words = [w for w in check.fold(text).split() if w]
    needed = {f for _, fields in SEARCHED for f in fields} | set(COMPANY_SEARCH_READS)
    hidden = unreadable_fields(ctx, "Contact", needed)
    columns = [column for column, fields in SEARCHED if not hidden.intersection(fields)]
    if len(columns) == len(SEARCHED):
        columns = [Contact.search_text]  # all of them in one column: one LIKE per word
    company = (
        None
        if hidden.intersection(COMPANY_SEARCH_READS)
        else visible_rows(ctx.access, Contact, "search_company")
    )
    dialect = ctx.session.get_bind().dialect.name

    def matches(word: str) -> Any:
        alternatives = []
        if columns:
            alternatives.append(
                contains_word(dialect, Contact.id, Contact.search_text, columns, word)
            )
        if company is not None:
            c = company.table.c
            named = contains_word(dialect, c.id, c.search_text, [c.search_company_name], word)
            ids = select(c.id).where(company.condition, named)
            alternatives.append(in_ids(dialect, Contact.company_id, ids))
        return or_(*alternatives) if alternatives else false()

    return and_(*(matches(w) for w in words))


def filtered(ctx: CallerContext, search: str | None, flt: ContactFilter | None) -> Select[Contact]:
    """The caller's visible contacts narrowed by search and filters, all in SQL."""
    caller = ctx.require_caller()
    tenant_id, user_id = caller.tenant_id, caller.user_id
    session = ctx.session
    stmt = select(Contact)
    if search and search.strip():
        stmt = stmt.where(search_condition(ctx, search))
    if flt is None:
        return stmt
    conditions: list[Any] = []
    if flt.mine:  # managed by the caller, or assigned to them for a managing company
        mine = assignments.matching(tenant_id, None, user_id)
        conditions.append(or_(Contact.owner_id == user_id, mine))
    if flt.managing_company_id is not None or flt.assigned_user_id is not None:
        conditions.append(
            assignments.matching(tenant_id, flt.managing_company_id, flt.assigned_user_id)
        )
    for attr in ("kind", "category", "client_kind", "contact_type_id", "owner_id"):
        value = getattr(flt, attr)
        if value is not None:
            conditions.append(getattr(Contact, attr) == value)
    for attr in ("source", "segment", "zone"):
        value = getattr(flt, attr)
        if value is not None:
            conditions.append(getattr(Contact, attr) == value)
    if flt.created_after:
        conditions.append(Contact.created_at >= flt.created_after)
    if flt.created_before:
        conditions.append(Contact.created_at < flt.created_before)
    if flt.updated_after:
        conditions.append(Contact.updated_at >= flt.updated_after)
    if flt.updated_before:
        conditions.append(Contact.updated_at < flt.updated_before)
    for tag in flt.tags:
        conditions.append(
            exists()
            .where(ContactTagLink.contact_id == Contact.id)
            .where(ContactTagLink.tag_id == Tag.id, Tag.name == tag)
            # explicit, for statements run as plain rows (the ORM hook adds it otherwise)
            .where(Tag.tenant_id == tenant_id, ContactTagLink.tenant_id == tenant_id)
        )
    if flt.custom:
        fields = custom_fields_by_key(session)
        for key, equals, low, high in flt.custom:
            definition = fields.get(key)
            if definition is None:
                raise BadUserInput(f"no custom field {key!r}", field="filter.customFields")
            conditions.append(
                customfields.matches(
                    CustomValue,
                    CustomValue.contact_id,
                    Contact.id,
                    definition,
                    equals=equals,
                    low=low,
                    high=high,
                )
            )
    return stmt.where(*conditions)


def custom_fields_by_key(session: Session, tenant_id: int | None = None) -> dict[str, CustomField]:
    """The custom field definitions by key (``tenant_id``: explicit, for system sessions)."""
    if tenant_id is None:
        return customfields.definitions(session, CustomField)
    stmt = select(CustomField).where(CustomField.tenant_id == tenant_id)
    return {f.key: f for f in session.scalars(stmt.order_by(CustomField.position))}
