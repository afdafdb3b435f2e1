"""Root query fields of the contacts module: the list (through ``list_records``), one
contact, the export, settings lists and duplicates."""

from __future__ import annotations

import base64
from typing import Any, TypeAlias, cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    XLSX_MIME,
    CallerContext,
    Connection,
    Direction,
    ExportFile,
    Order,
    RequestContext,
    Window,
    check_filterable_fields,
    filter_reads,
    guarded,
    list_records,
    load_users,
    log_export,
    parse_global_id,
    selected,
    shaping,
)
from plugins.contacts import assignments, duplicates, export, services
from plugins.contacts.inputs import (
    FILTER_READS,
    SORT_READS,
    ContactFilterInput,
    ContactOrder,
    ContactSortField,
)
from plugins.contacts.models import Contact, ContactType, Tag
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.shaped_list import CONTACT
from plugins.contacts.types import (
    ContactNode,
    ContactTypeType,
    TagType,
)

Ctx = Info[RequestContext, None]


def loader_options(names: set[str]) -> list[Any]:
    """Eager loads for the selected fields only: one query per relation, never per row."""
    options: list[Any] = []
    if names & {"email", "emails"}:
        options.append(selectinload(Contact.emails, chunksize=BATCH))
    if names & {"phone", "phones"}:
        options.append(selectinload(Contact.phones, chunksize=BATCH))
    if "tags" in names:
        options.append(selectinload(Contact.tag_links, chunksize=BATCH))
    if "customFields" in names:
        options.append(selectinload(Contact.custom_values, chunksize=BATCH))
    if "company" in names:
        options.append(selectinload(Contact.company, chunksize=BATCH))
    if "photo" in names:
        options.append(undefer(Contact.photo))
    return options


def _prime_owners(ctx: CallerContext, contacts: list[Contact], names: set[str]) -> None:
    """Load, in one query, the managers the page will show: the contacts' own and, when the
    company is selected, the companies' (otherwise each distinct one would cost a query);
    and the page's assignments, when selected, in one more."""
    if "assignments" in names:
        assignments.load(ctx, [c.id for c in contacts])
    owners = {c.owner_id for c in contacts} if "owner" in names else set()
    if "company" in names:
        owners |= {c.company.owner_id for c in contacts if c.company is not None}
    known = sorted(owner for owner in owners if owner is not None)
    if known:
        load_users(ctx, known)


# -- queries ----------------------------------------------------------------------------------


@strawberry.field(description="Contacts you may see, searched, filtered and sorted in SQL.")
def contacts(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    search: str | None = None,
    filter: ContactFilterInput | None = None,
    order_by: ContactOrder | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ContactNode]:
    ctx = info.context
    ctx.require_caller()
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    flt = filter.to_filter() if filter else None
    given = order_by or ContactOrder()
    field = ContactSortField(given.field)
    order = Order(
        getattr(Contact, field.value), given.direction == Direction.DESC, SORT_READS[field]
    )
    reads = filter_reads(filter, FILTER_READS)
    stmt = services.filtered(ctx, search, flt)
    shaped = shaping.shaped_page(
        info, CONTACT, stmt, order=order, window=window, filter_reads=reads
    )
    if shaped is not None:
        return cast(Connection[ContactNode], shaped)
    names = selected(info, "edges", "node")
    listed = list_records(
        ctx,
        Contact,
        "Contact",
        stmt,
        order=order,
        window=window,
        filter_reads=reads,
        options=loader_options(names),
    )
    _prime_owners(ctx, listed.rows, names)
    return Connection.of(listed, lambda r: ContactNode(record=r))


@strawberry.field(description="One contact, or null if it does not exist or is not yours to see.")
def contact(info: Ctx, id: strawberry.ID) -> ContactNode | None:
    ctx = info.context
    ctx.require_caller()
    pk = parse_global_id(id, "Contact")
    shaped = shaping.shaped_node(info, CONTACT, pk)
    if shaped is not None:
        return cast(ContactNode | None, shaped)
    names = selected(info)
    found = ctx.session.scalar(
        select(Contact).where(Contact.id == pk).options(*loader_options(names))
    )
    if found is None:
        return None
    _prime_owners(ctx, [found], names)
    return ContactNode(record=found)


@guarded(permission=P.EXPORT.value, description="Visible contacts as an Excel workbook (base64).")
def export_contacts(
    info: Ctx, search: str | None = None, filter: ContactFilterInput | None = None
) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    check_filterable_fields(ctx.access, "Contact", filter_reads(filter, FILTER_READS))
    stmt = services.filtered(ctx, search, filter.to_filter() if filter else None).options(
        *loader_options({"emails", "phones", "tags"})
    )
    rows = list(ctx.session.scalars(stmt.order_by(Contact.sort_name, Contact.id)))
    content = export.contacts_workbook(ctx, rows)
    log_export(ctx, "contacts.xlsx", len(rows))
    return ExportFile(
        filename="contacts.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(content).decode(),
    )


@strawberry.field
def contact_types(info: Ctx) -> list[ContactTypeType]:
    ctx = info.context
    ctx.require_caller()
    return [
        ContactTypeType(record=t)
        for t in ctx.session.scalars(select(ContactType).order_by(ContactType.name))
    ]


@strawberry.field
def tags(info: Ctx) -> list[TagType]:
    ctx = info.context
    ctx.require_caller()
    return [TagType(record=t) for t in ctx.session.scalars(select(Tag).order_by(Tag.name))]


strawberry.enum(duplicates.DuplicateReason, name="DuplicateReason")
DuplicateReasonEnum: TypeAlias = duplicates.DuplicateReason


@strawberry.type
class DuplicateGroup:
    reason: DuplicateReasonEnum
    value: str = strawberry.field(description="The shared email, phone digits, ID or name.")
    contacts: list[ContactNode]


@strawberry.field(description="Groups of visible contacts that look like the same one.")
def contact_duplicates(info: Ctx, first: int | None = None) -> list[DuplicateGroup]:
    ctx = info.context
    ctx.require_caller()
    names = selected(info, "contacts")
    size = Window.of(ctx.gateway.settings, first).size
    groups = duplicates.find(ctx, size, loader_options(names))
    _prime_owners(ctx, [c for g in groups for c in g.contacts], names)
    return [
        DuplicateGroup(
            reason=g.reason, value=g.value, contacts=[ContactNode(record=c) for c in g.contacts]
        )
        for g in groups
    ]
