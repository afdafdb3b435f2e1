"""Contacts' side of the kernel import (``gateway.imports``): columns, matching, and writes
through the contact services — the same ``create_contact`` / ``update_contact`` /
``delete_contact`` that ``createContact`` and web forms call, under the importing user's
access and field rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gateway.sdk import (
    CallerContext,
    ImportColumn,
    check_writable_fields,
    customfields,
    plain_decimal,
    records_by_id,
)
from plugins.contacts import assignments, services
from plugins.contacts.fields import written_fields
from plugins.contacts.imports import columns as cols
from plugins.contacts.imports.parsing import NUMBERS, TEXT, contact_data
from plugins.contacts.models import (
    Category,
    ClientKind,
    Contact,
    ContactEmail,
    CustomField,
    FiscalIdType,
)

#: Every attribute an import may write, in a before-image.
_ATTRS = (
    *TEXT.values(),
    *NUMBERS.values(),
    "category",
    "client_kind",
    "fiscal_id_type",
    "fiscal_id",
    "access",
    "country",
    "currency",
    "contact_type_id",
    "owner_id",
    "company_id",
)

#: Attributes stored as enums (a before-image holds their values).
_ENUMS = {"category": Category, "client_kind": ClientKind, "fiscal_id_type": FiscalIdType}


def _plain(value: Any) -> Any:
    if hasattr(value, "value"):  # an enum
        return value.value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return value


class ContactImporter:
    entity = "contact"
    variants = cols.VARIANTS

    def columns(self, ctx: CallerContext, variant: str) -> Sequence[ImportColumn]:
        if variant not in cols.BY_VARIANT:
            return []
        custom = [
            (d.key, d.label, d.required, d.type.value)
            for d in customfields.definitions(ctx.session, CustomField).values()
        ]
        return cols.columns(variant, custom)

    def check_writable(self, ctx: CallerContext, keys: Sequence[str]) -> None:
        written: set[str] = set()
        for key in keys:
            if key == "id":
                continue
            if key.startswith(cols.CUSTOM_PREFIX):
                written.update(written_fields("custom_fields"))
            elif key in ("managingCompany", "branch", "assignedUser"):
                written.add(assignments.FIELD)
            elif key == "addTags":
                written.update(written_fields("tags"))
            elif key in ("email", "phone"):
                written.update(written_fields(key + "s"))
            else:
                written.add(key)
        check_writable_fields(ctx.access, "Contact", written)

    def match_value(self, key: str, row: Mapping[str, str]) -> str | None:
        raw = row.get(key)
        if not raw:
            return None
        if key == "email":
            first = raw.replace(";", ",").split(",")[0].strip()
            return first.casefold() or None
        if key == "fiscalId":
            return re.sub(r"[\s\-.]", "", raw).upper() or None
        if key == "id":
            return raw.strip()
        return raw

    def find(self, ctx: CallerContext, key: str, values: set[str]) -> dict[str, list[Any]]:
        session = ctx.session
        found: dict[str, list[Any]] = {}
        if key == "id":
            return records_by_id(ctx, Contact, "Contact", values)
        if key == "fiscalId":
            for contact in session.scalars(select(Contact).where(Contact.fiscal_id.in_(values))):
                found.setdefault(contact.fiscal_id, []).append(contact)
        elif key == "email":
            rows = session.execute(
                select(func.lower(ContactEmail.address), Contact)
                .join(Contact, Contact.id == ContactEmail.contact_id)
                .where(func.lower(ContactEmail.address).in_(values))
            )
            for address, contact in rows:
                bucket = found.setdefault(address, [])
                if contact not in bucket:
                    bucket.append(contact)
        return found

    def creatable(self, variant: str) -> bool:
        return variant != cols.DOCUMENTS

    def prepare(self, ctx: CallerContext, variant: str, row: Mapping[str, str]) -> Any:
        return contact_data(ctx, variant, row)

    def create(self, ctx: CallerContext, variant: str, prepared: Any) -> Any:
        return services.create_contact(ctx, prepared)

    def create_many(self, ctx: CallerContext, variant: str, prepared: Sequence[Any]) -> list[Any]:
        return list(services.create_contacts(ctx, prepared))

    def update(self, ctx: CallerContext, record: Any, row: Mapping[str, str]) -> bool:
        before = self.snapshot(ctx, record)
        data = contact_data(ctx, None, row, base_tags=before["tags"])
        wanted = data.assignments
        data.assignments = None
        changed = _only_changes(data, before)
        moved = _set_assignments(ctx, record, wanted or [], before["assignments"], drop=False)
        if changed is not None:
            services.update_contact(ctx, record, changed)
        return changed is not None or moved

    def snapshot(self, ctx: CallerContext, record: Any) -> dict[str, Any]:
        contact: Contact = record
        return {
            "values": {a: _plain(getattr(contact, a)) for a in _ATTRS},
            "emails": [[e.kind, e.address] for e in contact.emails],
            "phones": [[p.kind, p.number] for p in contact.phones],
            "tags": sorted(link.tag.name for link in contact.tag_links),
            "custom_fields": {
                cv.field.key: customfields.as_text(cv) for cv in contact.custom_values
            },
            "assignments": sorted(
                [a.company_id, a.branch_id, a.user_id] for a in contact.assignments
            ),
        }

    def restore(self, ctx: CallerContext, record: Any, image: Mapping[str, Any]) -> None:
        values = dict(image["values"])
        for attr, enum in _ENUMS.items():
            if values.get(attr) is not None:
                values[attr] = enum(values[attr])
        for attr in NUMBERS.values():
            if values.get(attr) is not None:
                values[attr] = Decimal(values[attr])
        data = services.ContactData(
            values=values,
            emails=[(kind, address) for kind, address in image["emails"]],
            phones=[(kind, number) for kind, number in image["phones"]],
            tags=list(image["tags"]),
            custom_fields={
                **{k: None for k in self.snapshot(ctx, record)["custom_fields"]},
                **image["custom_fields"],
            },
        )
        current = self.snapshot(ctx, record)
        changed = _only_changes(data, current)
        if changed is not None:
            services.update_contact(ctx, record, changed)
        if "assignments" in image:
            wanted = [
                assignments.AssignmentData(company_id=c, branch_id=b, user_id=u)
                for c, b, u in image["assignments"]
            ]
            _set_assignments(ctx, record, wanted, current["assignments"], drop=True)

    def delete(self, ctx: CallerContext, record: Any) -> None:
        services.delete_contact(ctx, record)

    def get(self, ctx: CallerContext, record_id: int) -> Any | None:
        return ctx.session.get(Contact, record_id)

    def preload(self, ctx: CallerContext, record_ids: Sequence[int]) -> list[Contact]:
        """The contacts and every relation :meth:`snapshot` reads, one statement each."""
        stmt = (
            select(Contact)
            .where(Contact.id.in_(record_ids))
            .options(
                selectinload(Contact.emails),
                selectinload(Contact.phones),
                selectinload(Contact.tag_links),
                selectinload(Contact.custom_values),
                selectinload(Contact.assignments),
            )
        )
        return list(ctx.session.scalars(stmt))


def _set_assignments(
    ctx: CallerContext,
    contact: Contact,
    wanted: list[assignments.AssignmentData],
    current: list[list[int | None]],
    *,
    drop: bool,
) -> bool:
    """Make the contact's assignments ``wanted`` (per managing company) through the
    assignment services; ``drop``: also remove those of companies not named (a restore).
    ``True`` if anything changed."""
    held = {company: (branch, user) for company, branch, user in current}
    changed = False
    for data in wanted:
        now = held.pop(data.company_id, None)
        if now is None:
            assignments.assign(ctx, contact, data)
        elif now != (data.branch_id, data.user_id):
            assignments.replace(ctx, contact, data)
        else:
            continue
        changed = True
    if drop:
        for company in held:
            assignments.unassign(ctx, contact, int(company or 0))
            changed = True
    if changed:
        ctx.session.expire(contact, ["assignments"])
    return changed


def _normal(attr: str, value: Any) -> Any:
    """A file's value in the form the service stores it, for comparing with the record."""
    value = _plain(value)
    if isinstance(value, str):
        value = value.strip()
        if attr == "fiscal_id":
            return re.sub(r"[\s\-.]", "", value).upper()
        if attr in ("country", "currency"):
            return value.upper()
    return value


def _only_changes(
    data: services.ContactData, current: Mapping[str, Any]
) -> services.ContactData | None:
    """``data`` without what already holds (an import that changes nothing writes nothing,
    and needs no permission for fields it leaves as they are); ``None`` if nothing is left."""
    values = {
        attr: value
        for attr, value in data.values.items()
        if _normal(attr, value) != current["values"].get(attr)
    }
    changes = services.ContactData(values=values)
    if data.emails is not None and [list(e) for e in data.emails] != current["emails"]:
        changes.emails = data.emails
    if data.phones is not None and [list(p) for p in data.phones] != current["phones"]:
        changes.phones = data.phones
    if data.tags is not None and sorted(data.tags) != current["tags"]:
        changes.tags = data.tags
    if data.custom_fields is not None:
        custom = {
            k: v for k, v in data.custom_fields.items() if current["custom_fields"].get(k) != v
        }
        changes.custom_fields = custom or None
    given = (changes.emails, changes.phones, changes.tags, changes.custom_fields)
    return changes if values or any(g is not None for g in given) else None
