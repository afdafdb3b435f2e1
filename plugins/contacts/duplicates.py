"""Finding likely duplicate contacts and merging two of them (MISSION C8).

Duplicates are found in SQL among the contacts the caller may see: the same email address,
the same phone number (its last nine digits), the same fiscal ID, or the same name (case
and accents ignored). A merge keeps one contact, takes the chosen fields from the other,
unites emails, phones and tags, re-points every module's references (the kernel's
``crm_merge_records`` hook), and deletes the merged contact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    ChangeKind,
    audit,
    events,
    full_access_fields,
    full_access_rows,
    get_writable,
    unreadable_fields,
)
from plugins.contacts import assignments, fields, services
from plugins.contacts.models import Contact, ContactEmail, ContactPhone

#: GraphQL field names that can be taken from the merged contact (from the field table).
TAKEABLE = fields.MERGEABLE


class DuplicateReason(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    FISCAL_ID = "FISCAL_ID"
    NAME = "NAME"


#: The ``Contact`` fields that show the value each reason groups by. A reason is looked for
#: only when the caller may read all of them: the group's value would print a hidden value,
#: and the group and its reason alone would say that two contacts share one.
REASON_READS: dict[DuplicateReason, tuple[str, ...]] = {
    DuplicateReason.EMAIL: ("email", "emails"),
    DuplicateReason.PHONE: ("phone", "phones"),
    DuplicateReason.FISCAL_ID: ("fiscalId",),
    DuplicateReason.NAME: ("displayName", "firstName", "lastName", "companyName"),
}


@dataclass
class DuplicateGroup:
    reason: DuplicateReason
    value: str
    contacts: list[Contact]


def _groups(session: Session, key: Any, compared: Any, *joins: Any) -> list[tuple[str, int]]:
    """(key, contact id) of the ``compared`` contacts sharing a key with another one."""
    keyed = select(key.label("k"), Contact.id.label("cid")).select_from(Contact)
    for target, on in joins:
        keyed = keyed.join(target, on)
    base = keyed.where(key.is_not(None), key != "", compared).subquery()
    dup_keys = (
        select(base.c.k)
        .group_by(base.c.k)
        .having(func.count(func.distinct(base.c.cid)) > 1)
        .subquery()
    )
    rows = session.execute(
        select(base.c.k, base.c.cid)
        .where(base.c.k.in_(select(dup_keys.c.k)))
        .distinct()
        .order_by(base.c.k, base.c.cid)
    )
    return [(k, cid) for k, cid in rows]


def _readable_reasons(ctx: CallerContext) -> dict[DuplicateReason, Any]:
    """The reasons the caller may see, each with the contacts it may compare: all visible
    ones, or only those it has full access to when a field needs that (``@fullAccess``)."""
    reads = {f for fields in REASON_READS.values() for f in fields}
    hidden = unreadable_fields(ctx, "Contact", reads)
    full = full_access_fields(ctx, "Contact", reads)
    return {
        reason: full_access_rows(ctx.access, Contact) if full.intersection(fields) else true()
        for reason, fields in REASON_READS.items()
        if not hidden.intersection(fields)
    }


def find(ctx: CallerContext, limit: int, options: list[Any] | None = None) -> list[DuplicateGroup]:
    """Up to ``limit`` groups of visible contacts that look like the same one, by the values
    the caller may read."""
    session = ctx.session
    readable = _readable_reasons(ctx)
    last_nine = (
        func.right(ContactPhone.digits, 9)  # PostgreSQL's substr counts negatives differently
        if session.get_bind().dialect.name == "postgresql"
        else func.substr(ContactPhone.digits, -9, 9)
    )
    criteria = [
        (
            DuplicateReason.EMAIL,
            func.lower(ContactEmail.address),
            (ContactEmail, ContactEmail.contact_id == Contact.id),
        ),
        (
            DuplicateReason.PHONE,
            last_nine,
            (ContactPhone, ContactPhone.contact_id == Contact.id),
        ),
        (DuplicateReason.FISCAL_ID, Contact.fiscal_id, None),
        (DuplicateReason.NAME, Contact.sort_name, None),
    ]
    found: list[tuple[DuplicateReason, str, list[int]]] = []
    for reason, key, join in criteria:
        if reason not in readable:
            continue
        members: dict[str, list[int]] = defaultdict(list)
        for value, cid in _groups(session, key, readable[reason], *([join] if join else [])):
            members[value].append(cid)
        found += [(reason, value, ids) for value, ids in members.items()]
        if len(found) >= limit:
            break
    found = found[:limit]
    wanted = {cid for _, _, ids in found for cid in ids}
    stmt = select(Contact).where(Contact.id.in_(wanted)).options(*(options or []))
    contacts = {c.id: c for c in session.scalars(stmt)}
    return [
        DuplicateGroup(reason, value, [contacts[i] for i in ids if i in contacts])
        for reason, value, ids in found
    ]


def merge(ctx: CallerContext, keep_id: int, merge_id: int, take: list[str]) -> Contact:
    """Merge ``merge_id`` into ``keep_id`` (both must be yours to change)."""
    session = ctx.session
    if keep_id == merge_id:
        raise BadUserInput("choose two different contacts", field="mergeId")
    kept = get_writable(session, Contact, keep_id, "contact")
    merged = get_writable(session, Contact, merge_id, "contact")
    if kept.kind is not merged.kind:
        raise BadUserInput("a person and a company cannot be merged", field="mergeId")
    unknown = sorted(set(take) - set(TAKEABLE))
    if unknown:
        raise BadUserInput(f"cannot take {', '.join(unknown)}", field="take")
    data = services.ContactData(values={TAKEABLE[f]: getattr(merged, TAKEABLE[f]) for f in take})
    emails = [(e.kind, e.address) for e in kept.emails]
    seen = {a.lower() for _, a in emails}
    emails += [(e.kind, e.address) for e in merged.emails if e.address.lower() not in seen]
    phones = [(p.kind, p.number) for p in kept.phones]
    seen_digits = {p.digits for p in kept.phones}
    phones += [(p.kind, p.number) for p in merged.phones if p.digits not in seen_digits]
    data.emails, data.phones = emails, phones
    data.tags = sorted({link.tag.name for link in [*kept.tag_links, *merged.tag_links]})
    present = {cv.field_id for cv in kept.custom_values}
    data.custom_fields = {}
    for cv in merged.custom_values:
        if cv.field_id not in present:
            value = services.custom_value_text(cv)
            data.custom_fields[cv.field.key] = value
    # Persons of a merged company now belong to the kept one.
    for person in session.scalars(select(Contact).where(Contact.company_id == merged.id)):
        person.company_id = kept.id
    with audit.reason(session, "merge"):  # the audit trail names what the changes were
        assignments.adopt(ctx, kept, merged)
        ctx.hooks.crm_merge_records(context=ctx, entity=services.ENTITY, kept=kept, merged=merged)
        services.update_contact(ctx, kept, data)
        session.delete(merged)
        events.record_changed(ctx, ChangeKind.DELETED, services.ENTITY, merged)
        session.flush()
    return kept
