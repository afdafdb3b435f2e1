"""Contact logic, free of GraphQL: create, update, delete, search and filter.

Every query goes through the caller's scoped session, so visibility is already applied;
this module adds the contacts' own rules (restrictions of MISSION A6, validation, search
text) and fires the kernel's record events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.sdk import (
    SYSTEM,
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Forbidden,
    NotFound,
    ProfileKind,
    bulk,
    check_writable_fields,
    customfields,
    events,
    get_user,
    initial_access,
)
from plugins.contacts import assignments, fields
from plugins.contacts import validation as check
from plugins.contacts.draft import COLLECTIONS, ChildDraft, ContactDraft, EmailDraft, PhoneDraft
from plugins.contacts.filtering import (
    SEARCHED,
    custom_fields_by_key,
)
from plugins.contacts.filtering import ContactFilter as ContactFilter  # re-exported
from plugins.contacts.filtering import filtered as filtered
from plugins.contacts.filtering import search_condition as search_condition
from plugins.contacts.models import (
    Category,
    Contact,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    ContactType,
    CustomField,
    CustomValue,
    FiscalIdType,
    Tag,
    TagGrant,
)
from plugins.contacts.permissions import ContactsPermission as P

ENTITY = "contact"
#: A contact being written by the create or update rules: a new one is a draft.
Built = Contact | ContactDraft
#: Contact fields stored as plain strings, with their GraphQL names (from the field table).
TEXT_FIELDS = fields.TEXT_ATTRS


@dataclass
class ContactData:
    """Validated-on-apply input. ``given`` names the attributes the caller set (partial
    updates); lists (emails, phones, tags, custom fields) replace what was there."""

    values: dict[str, Any] = field(default_factory=dict)
    emails: list[tuple[str, str]] | None = None  # (kind, address)
    phones: list[tuple[str, str]] | None = None  # (kind, number)
    tags: list[str] | None = None
    custom_fields: dict[str, str | None] | None = None
    #: Initial assignments per managing company (creation only).
    assignments: list[assignments.AssignmentData] | None = None

    def given(self, name: str) -> bool:
        return name in self.values


# -- writing ----------------------------------------------------------------------------------


def _definitions(ctx: CallerContext, tenant_id: int) -> dict[str, CustomField]:
    """The definitions, read once per operation (an import writes thousands of contacts)."""
    return (
        ctx.loader(
            "contacts.custom_field_definitions",
            lambda keys: {t: custom_fields_by_key(ctx.session, t) for t in keys},
        ).get(tenant_id)
        or {}
    )


def _require(ctx: CallerContext, permission: P, field: str) -> None:
    access = ctx.access
    if access is None or not access.scope.has(permission.value):
        raise Forbidden(f"your profile may not do this (needs {permission.value})", field=field)


def _changed_graphql_fields(data: ContactData) -> set[str]:
    """Every GraphQL field the input writes (``Contact`` fields, or qualified), for field
    rules (gateway.access.fields.check_writable_fields) and change events."""
    given = [
        *data.values,
        *(a for a in ("emails", "phones", "tags", "custom_fields") if getattr(data, a) is not None),
    ]
    return {name for attr in given for name in fields.written_fields(attr)}


def _apply_values(ctx: CallerContext, contact: Built, data: ContactData, creating: bool) -> None:
    v = data.values
    for attr in TEXT_FIELDS:
        if attr in v:
            setattr(contact, attr, (v[attr] or "").strip())
    if "kind" in v:
        contact.kind = ContactKind(v["kind"])
    if "currency" in v:
        contact.currency = check.currency(v["currency"] or "EUR")
    if "country" in v:
        contact.country = check.country(v["country"] or "")
    if "client_kind" in v:
        contact.client_kind = v["client_kind"]
    if "category" in v:
        new = v["category"]
        if new is Category.SUPPLIER and contact.category is not Category.SUPPLIER:
            _require(ctx, P.CONVERT_TO_SUPPLIER, "category")
        contact.category = new
    if "latitude" in v or "longitude" in v:
        lat = check.coordinate(v.get("latitude", contact.latitude), 90, "latitude")
        lon = check.coordinate(v.get("longitude", contact.longitude), 180, "longitude")
        if (lat, lon) != (contact.latitude, contact.longitude):
            _require(ctx, P.CHANGE_COORDINATES, "latitude")
        contact.latitude, contact.longitude = lat, lon
    if "discount" in v:
        new_discount = check.discount(v["discount"])
        if new_discount != contact.discount:
            _require(ctx, P.SET_DISCOUNT, "discount")
        contact.discount = new_discount
    if "fiscal_id_type" in v or "fiscal_id" in v:
        kind = v.get("fiscal_id_type", contact.fiscal_id_type)
        if kind is FiscalIdType.OTHER and contact.fiscal_id_type is not FiscalIdType.OTHER:
            _require(ctx, P.FISCAL_ID_OTHER, "fiscalIdType")
        contact.fiscal_id_type = kind
        contact.fiscal_id = (
            check.fiscal_id(v["fiscal_id"] or "", kind)
            if "fiscal_id" in v
            else _recheck_fiscal_id(contact.fiscal_id, kind)
        )
    if "access" in v:
        level = AccessLevel(v["access"])
        if level is not AccessLevel.PRIVATE and (creating or contact.access != level.value):
            _require(ctx, P.CREATE_PUBLIC, "access")
        contact.access = level.value
    if "contact_type_id" in v:
        type_id = v["contact_type_id"]
        if type_id is not None and ctx.session.get(ContactType, type_id) is None:
            raise NotFound("no such contact type", field="contactTypeId")
        contact.contact_type_id = type_id
    if "company_id" in v:
        company_id = v["company_id"]
        if company_id is not None:
            company = ctx.session.get(Contact, company_id)
            if company is None or company.kind is not ContactKind.COMPANY:
                raise NotFound("no such company", field="companyId")
            if company.id == contact.id:
                raise BadUserInput("a contact cannot belong to itself", field="companyId")
        contact.company_id = company_id
    if "owner_id" in v:
        owner = get_user(ctx.session, ctx.tenant_id, v["owner_id"], "ownerId")
        if owner.profile.kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants cannot manage contacts", field="ownerId")
        contact.owner_id = owner.id


def _recheck_fiscal_id(stored: str, kind: FiscalIdType | None) -> str:
    """The stored fiscal ID checked against a new type. The refusal does not print it: the
    caller may change the type without being allowed to read the ID."""
    try:
        return check.fiscal_id(stored or "", kind)
    except BadUserInput as exc:
        kind_name = kind.value if kind is not None else "ID"
        raise BadUserInput(
            f"the contact's fiscal ID is not a valid {kind_name}", field="fiscalIdType"
        ) from exc


def _validate_identity(contact: Built) -> None:
    if contact.kind is ContactKind.PERSON and not (contact.first_name or contact.last_name):
        raise BadUserInput("a person needs a first or last name", field="firstName")
    if contact.kind is ContactKind.COMPANY and not contact.company_name:
        raise BadUserInput("a company needs a name", field="companyName")
    if contact.kind is ContactKind.COMPANY and contact.company_id is not None:
        raise BadUserInput("only persons belong to a company", field="companyId")


def _apply_emails(contact: Built, emails: list[tuple[str, str]]) -> None:
    rows = [
        {
            "tenant_id": contact.tenant_id,
            "kind": kind,
            "address": check.email(address, "emails"),
            "position": i,
        }
        for i, (kind, address) in enumerate(emails)
    ]
    if isinstance(contact, ContactDraft):  # plain rows until it is written
        contact.emails = [EmailDraft(**row) for row in rows]
    else:
        contact.emails = [ContactEmail(**row) for row in rows]


def _apply_phones(contact: Built, phones: list[tuple[str, str]]) -> None:
    rows = []
    for i, (kind, number) in enumerate(phones):
        shown, digits = check.phone(number, "phones")
        rows.append(
            {
                "tenant_id": contact.tenant_id,
                "kind": kind,
                "number": shown,
                "digits": digits,
                "position": i,
            }
        )
    if isinstance(contact, ContactDraft):
        contact.phones = [PhoneDraft(**row) for row in rows]
    else:
        contact.phones = [ContactPhone(**row) for row in rows]


def _apply_tags(ctx: CallerContext, contact: Built, names: list[str]) -> None:
    """Set the contact's tags. A user needs ``ASSIGN_TAGS`` (and a grant for restricted
    tags); a visitor's tags are the web form's, vetted when the form was saved."""
    wanted = {n.strip() for n in names if n.strip()}
    current = {link.tag.name: link for link in contact.tag_links}
    added, removed = wanted - set(current), set(current) - wanted
    if not (added or removed):
        return
    if ctx.caller is not None:
        _require(ctx, P.ASSIGN_TAGS, "tags")
    session = ctx.session
    existing = {
        t.name: t
        for t in session.scalars(
            select(Tag).where(Tag.tenant_id == contact.tenant_id, Tag.name.in_(wanted))
        )
    }
    touched = [existing[n] for n in added if n in existing] + [current[n].tag for n in removed]
    restricted = [t for t in touched if t.restricted]
    if restricted and ctx.caller is not None and not ctx.caller.is_admin:
        granted = set(
            session.scalars(
                select(TagGrant.tag_id).where(
                    TagGrant.tag_id.in_([t.id for t in restricted]),
                    TagGrant.profile_id == ctx.caller.profile_id,
                )
            )
        )
        refused = sorted(t.name for t in restricted if t.id not in granted)
        if refused:
            raise Forbidden(
                f"your profile may not add or remove the tag(s) {', '.join(refused)}",
                field="tags",
            )
    for name in removed:
        contact.tag_links.remove(current[name])
    for name in sorted(added):
        tag = existing.get(name)
        if tag is None:
            if len(name) > 60:
                raise BadUserInput("a tag has at most 60 characters", field="tags")
            tag = _new_tag(session, contact.tenant_id, name)
        contact.tag_links.append(ContactTagLink(tag=tag, tenant_id=contact.tenant_id))


def _new_tag(session: Session, tenant_id: int, name: str) -> Tag:
    """A new tag ``name``, or the one a concurrent creation just made: get-or-create in a
    savepoint, so two contacts tagged with the same new name at once both succeed (this is
    not an error to report: the unique constraint only tells which request made the row)."""
    try:
        with session.begin_nested():
            tag = Tag(tenant_id=tenant_id, name=name)
            session.add(tag)
            session.flush()
    except IntegrityError:
        return session.scalars(
            select(Tag).where(Tag.tenant_id == tenant_id, Tag.name == name)
        ).one()
    return tag


def _apply_custom(ctx: CallerContext, contact: Built, values: dict[str, str | None]) -> None:
    if not values:
        return
    customfields.apply(
        contact.custom_values,
        values,
        _definitions(ctx, contact.tenant_id),
        lambda definition: CustomValue(field=definition, tenant_id=contact.tenant_id),
    )


def _check_required_custom(ctx: CallerContext, contact: Built) -> None:
    known = _definitions(ctx, contact.tenant_id)
    customfields.check_required(contact.custom_values, known)


#: A stored custom value as the text the API takes and gives.
custom_value_text = customfields.as_text


def refresh_search(contact: Built) -> None:
    """Recompute the folded search columns and the sort name (after any change)."""
    contact.search_first_name = _folded([contact.first_name])
    contact.search_last_name = _folded([contact.last_name])
    contact.search_company_name = _folded([contact.company_name])
    contact.search_emails = _folded(e.address for e in contact.emails)
    contact.search_phones = _folded(part for p in contact.phones for part in (p.number, p.digits))
    contact.search_fiscal_id = _folded([contact.fiscal_id])
    contact.search_tags = _folded(link.tag.name for link in contact.tag_links)
    contact.search_text = _folded(getattr(contact, column.key) for column, _ in SEARCHED)
    contact.sort_name = check.fold(contact.display_name)[:300]


def _folded(parts: Iterable[str | None]) -> str:
    """The parts given (attributes not yet flushed may be ``None``), folded, space-separated."""
    return check.fold(" ".join(p for p in parts if p))


def build_contact(ctx: CallerContext, data: ContactData) -> ContactDraft:
    """THE rules of a new contact, for :func:`create_contact` and :func:`create_contacts`:
    its values and dependent rows (emails, phones, tags, custom values, assignments), every
    check made, its search text computed — a draft, not yet in the session, no event fired.

    * a user (or the system acting for one): that user's field rules and permissions; the
      contact is theirs unless ``owner_id`` is given (assistants must give it);
    * a visitor (``CallerContext.visitor``, a web form): no access scope and no
      permissions, so nothing that needs one (public access, discount, supplier…) can be
      set; ``owner_id`` must be given; the session is a system session, so every lookup
      here names the tenant. Forms collect no custom fields: a required one does not
      block them."""
    caller = ctx.caller
    if caller is None and ctx.visitor_tenant_id is None:
        ctx.require_caller()  # signed out: UNAUTHENTICATED
    session = ctx.session
    check_writable_fields(ctx.access, "Contact", _changed_graphql_fields(data))
    assistant = caller is not None and caller.profile_kind is ProfileKind.ASSISTANT
    contact = ContactDraft(
        tenant_id=ctx.tenant_id,
        kind=ContactKind(data.values.get("kind", ContactKind.PERSON)),
        owner_id=None if caller is None or assistant else caller.user_id,
        created_by_id=ctx.user_id,
        access=initial_access(ctx, "contact"),
    )
    _apply_values(ctx, contact, data, creating=True)
    if contact.owner_id is None:
        message = (
            "assistants must name the manager of a new contact"
            if caller is not None
            else "a visitor's contact needs an explicit manager"
        )
        raise BadUserInput(message, field="ownerId")
    _validate_identity(contact)
    _apply_emails(contact, data.emails or [])
    _apply_phones(contact, data.phones or [])
    _apply_tags(ctx, contact, data.tags or [])
    _apply_custom(ctx, contact, data.custom_fields or {})
    assignments.initial(ctx, contact, data.assignments or [])
    if caller is not None:
        _check_required_custom(ctx, contact)
    if contact.company_id is not None:
        contact.company = session.get(Contact, contact.company_id)
    refresh_search(contact)
    return contact


def create_contact(ctx: CallerContext, data: ContactData) -> Contact:
    """THE way a contact is made: ``createContact``, web forms and jobs all call it (an
    import calls :func:`create_contacts`, the same rules in bulk). See :func:`build_contact`."""
    contact = build_contact(ctx, data).to_contact()
    ctx.session.add(contact)
    events.record_changed(ctx, ChangeKind.CREATED, ENTITY, contact)
    return contact


def create_contacts(ctx: CallerContext, given: Sequence[ContactData]) -> list[ContactDraft]:
    """Many :func:`create_contact` at once (an import's chunk of rows): each built by
    :func:`build_contact`, then written with one INSERT per table (``gateway.bulk``, after
    the flush's access checks, in SQL) instead of one unit of work per contact; their
    record events fired in order. Returns the drafts, ids set, holding exactly what was
    written (not in the session). Any problem raises; the caller's savepoint drops the rest."""
    drafts = [build_contact(ctx, data) for data in given]
    session = ctx.session
    rows = []
    for draft in drafts:
        row = bulk.as_stored(Contact, draft.row())
        vars(draft).update(row)  # decimals as stored: the draft is what a read would give
        rows.append(row)
    ids = bulk.insert_records(session, Contact, rows)
    for draft, pk in zip(drafts, ids, strict=True):
        draft.id = pk
    children: dict[type[Any], list[dict[str, Any]]] = {}
    for draft in drafts:
        for link in draft.tag_links:
            link.tag_id = link.tag.id
        for value in draft.custom_values:
            value.field_id = value.field.id
        for name in COLLECTIONS:
            for child in getattr(draft, name):
                if isinstance(child, ChildDraft):
                    model, values = child.model, child.values()
                else:
                    model, values = type(child), bulk.values_of(child)
                row = {**values, "contact_id": draft.id}
                children.setdefault(model, []).append(bulk.as_stored(model, row))
    for model, child_rows in children.items():
        bulk.insert_rows(session, model, child_rows)
    if events.has_listeners(ctx):
        stored = session.scalars(
            select(Contact).where(Contact.id.in_(ids)).execution_options(**{SYSTEM: True})
        )
        by_id = {c.id: c for c in stored}
        for pk in ids:
            events.record_changed(ctx, ChangeKind.CREATED, ENTITY, by_id[pk])
    return drafts


def update_contact(ctx: CallerContext, contact: Contact, data: ContactData) -> Contact:
    check_writable_fields(ctx.access, "Contact", _changed_graphql_fields(data))
    _apply_values(ctx, contact, data, creating=False)
    _validate_identity(contact)
    if data.emails is not None:
        _apply_emails(contact, data.emails)
    if data.phones is not None:
        _apply_phones(contact, data.phones)
    if data.tags is not None:
        _apply_tags(ctx, contact, data.tags)
    if data.custom_fields is not None:
        _apply_custom(ctx, contact, data.custom_fields)
    if "company_id" in data.values:
        contact.company = (
            ctx.session.get(Contact, contact.company_id) if contact.company_id else None
        )
    refresh_search(contact)
    changed = frozenset(n for n in _changed_graphql_fields(data) if "." not in n)
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, contact, changed)
    return contact


def delete_contact(ctx: CallerContext, contact: Contact) -> None:
    """Delete after the enabled modules' vetoes. Rows of a module that is switched off (whose
    veto did not run) that still refer to the contact fail the flush: the caller's
    transaction turns that foreign-key violation into CONFLICT."""
    events.ensure_deletable(ctx, ENTITY, contact)
    ctx.session.delete(contact)
    ctx.session.flush()
    events.record_changed(ctx, ChangeKind.DELETED, ENTITY, contact)


def owner_changed(before: int | None, contact: Contact) -> bool:
    return before != contact.owner_id and contact.owner_id is not None


def ids(values: Iterable[Contact]) -> list[int]:
    return [c.id for c in values]
